/* test_num.c - prefrec_strtod (src/core/num.c) against the C library's strtod (glibc natively,
 * musl in the wasm builds: both round correctly), bit for bit and end for end: hand-picked hard
 * cases (halfway points, the subnormal edge, the largest double, long digit strings), the
 * printed forms of random doubles, and random digit strings with random exponents. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/num.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void) { /* xorshift64*: the test's own stream */
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return rng * 2685821657736338717u;
}

static int fails = 0;
static void same(const char *s) {
    char *e1, *e2;
    double a = prefrec_strtod(s, &e1), b = strtod(s, &e2);
    uint64_t x, y;
    memcpy(&x, &a, 8), memcpy(&y, &b, 8);
    if (x != y || e1 != e2) {
        if (fails++ < 10)
            fprintf(stderr, "test_num: \"%s\": %.17g (end %d) against strtod's %.17g (end %d)\n", s,
                    a, (int)(e1 - s), b, (int)(e2 - s));
    }
}

int main(void) {
    static const char *hand[] = {
        "0",
        "-0",
        "+0",
        "1",
        "-1",
        "0.1",
        "0.3",
        "3",
        "1e-06",
        "2022",
        "0.0020000000949949026",
        "0.68919960992021334",
        "1.3200535535299711",
        "5e-324",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1e309",
        "1e-400",
        "9007199254740992",
        "9007199254740993",
        "9007199254740993.0000000001",
        "9007199254740995",
        "18446744073709551615",
        "123456789012345678901234567890",
        "0.000000000000000000000000000123456789e40",
        "1e23",
        "8.98846567431158e307",
        "4.4501477170144023e-308",
        ".5",
        "5.",
        "-.5e1",
        "1e",
        "1e+",
        "1e-x",
        "1.5x",
        "1..2",
        "-",
        ".",
        "",
        "x",
        "00012.50",
        "0e99999",
        "1e-99999",
        "1e99999",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
        "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
        "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
        "342711559699508093042880177904174497791.9999999999",
        "2."
        "470328229206232720882843964341106861825299013071623822127928412503377536351043759326499181"
        "808179961898982823477228588654633283551779698981993873980053909390631503565951557022639229"
        "085839244910518443593180284993653615250031937045767824921936562366986365848075700158576926"
        "990370631192827955855133292783433840935197801553124659726357957462276646527282722005637400"
        "648549997709659947045402082816622623785739345073633900796776193057750674017632467360096895"
        "134053553745851666113422376667860416215968046191446729184030053005753084904876539171138659"
        "164623952491262365388187963623937328042389101867234849766823508986338858792562830275599565"
        "752445550725518931369083625477918694866799496832404970582102851318545139621383772282614543"
        "76934125320985913276672363281255",
    };
    for (size_t i = 0; i < sizeof hand / sizeof *hand; i++) same(hand[i]);
    /* a 900-digit number: more digits than the exact conversion keeps */
    char big[1000];
    big[0] = '1', big[1] = '.';
    for (int i = 2; i < 902; i++) big[i] = (char)('0' + (i == 900));
    strcpy(big + 902, "e-5");
    same(big);
    char buf[128];
    static const char *fmts[] = {"%.17g", "%.16g", "%.15g", "%.6g", "%.3g", "%.25e", "%.1e"};
    int n_rand = 16000; /* per form; the same in the three builds (scripts/test.sh compares the
                           core tests' output across them) */
    for (int i = 0; i < n_rand; i++) {
        uint64_t bits = next();
        if (i % 4 == 0) bits &= 0x000FFFFFFFFFFFFFu; /* subnormals */
        double v;
        memcpy(&v, &bits, 8);
        if (v != v || v - v != 0) continue; /* nan, inf */
        for (size_t f = 0; f < sizeof fmts / sizeof *fmts; f++) {
            snprintf(buf, sizeof buf, fmts[f], v);
            same(buf);
        }
        /* random digits (1 to 40, a point somewhere) and an exponent in [-345, 325] */
        int nd = 1 + (int)(next() % 40), pt = (int)(next() % (uint64_t)(nd + 1)), k = 0;
        for (int j = 0; j < nd; j++) {
            if (j == pt) buf[k++] = '.';
            buf[k++] = (char)('0' + next() % 10);
        }
        snprintf(buf + k, sizeof buf - (size_t)k, "e%d", (int)(next() % 671) - 345);
        same(buf);
    }
    CHECK_EQ_INT(fails, 0);
    printf("test_num: %d forms and digit strings against strtod, %d differ\n", n_rand * 8, fails);
    return check_report("test_num");
}
