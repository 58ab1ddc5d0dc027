/* gen_catalog.c - the demo data generator's product catalog: builds 1,933 products in 60 top
 * and 349 mid categories from the table in gen_catalog_table.h, gives each product a price,
 * popularity, repurchase cycle and the affiliates that sell it, and prepares the tables the
 * purchase simulation samples from. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"
#include "gen_catalog_table.h"

#define N_TOP_DEFS ((int)(sizeof TOP_DEFS / sizeof TOP_DEFS[0]))

/* Monthly multipliers of the season letters used in the table (normalised to mean 1 below). */
static const struct {
    char code;
    float m[GEN_N_MONTH];
} SEASONS[] = {
    {'S', {.3f, .3f, .5f, .8f, 1.2f, 1.8f, 2.4f, 2.4f, 1.1f, .6f, .35f, .3f}},
    {'W', {2.2f, 1.9f, 1.1f, .6f, .35f, .3f, .3f, .3f, .5f, 1, 1.7f, 2.3f}},
    /* Seollal 2021-02-12, Chuseok 2021-09-21: gifts are bought in the weeks before */
    {'G', {1.6f, 2.6f, .5f, .5f, .6f, .6f, .7f, 1.4f, 3, .6f, .6f, 1.1f}},
    {'K', {.5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .6f, 1.6f, 4.2f, 1.4f}},
    {'P', {.6f, .8f, 1.6f, 1.9f, 1.6f, 1, .8f, .7f, .9f, 1.1f, .8f, .5f}},
    {'A', {.6f, .6f, .7f, .8f, .8f, .7f, .6f, .8f, 1.5f, 2.2f, 1.9f, 1}},
    {'X', {.9f, .8f, .7f, .8f, 1.1f, .7f, .7f, .7f, .8f, .9f, 1.4f, 3}},
    {'M', {1, 2.2f, 2.4f, .9f, .7f, .6f, .8f, 1.5f, .9f, .7f, .6f, .7f}},
};

/* Name variants that fill a mid category beyond the names it lists, by the top's kind. */
static const char *const VARIANTS_F[] = {"국산 ", "유기농 ", "대용량 ", "프리미엄 ",
                                         "실속 ", "소포장 ", "수입 ",   "간편 "};
static const char *const VARIANTS_C[] = {"베이직 ", "프리미엄 ", "캐주얼 ", "오버핏 ",
                                         "슬림핏 ", "데일리 ",   "린넨 ",   "클래식 "};
static const char *const VARIANTS_G[] = {"대용량 ", "프리미엄 ", "실속형 ", "미니 ",
                                         "리필용 ", "기획 ",     "친환경 ", "휴대용 "};
static const char *const VARIANTS_E[] = {"보급형 ",   "고급형 ", "대형 ", "소형 ",
                                         "프리미엄 ", "가성비 ", "신형 ", "휴대용 "};
static const char *const VARIANTS_S[] = {"프리미엄 ", "기본 ",   "스페셜 ", "패밀리 ",
                                         "실속 ",     "대용량 ", "소포장 ", "기획 "};

/* Share of a sold category's products each affiliate carries (a supermarket and a convenience
 * store carry a narrower assortment than a hypermarket). */
static const double ASSORTMENT[GEN_N_AFF] = {0.6, 0.95, 0.72, 0.45, 1.0, 0.8};

/* Theme details by mid category: the deck's A03 sells no 일반미 (rice) or party goods but many
 * pay-as-you-throw bags; A04's triangle kimbap; A01's food court. */
static const struct {
    int aff;
    const char *mid;
    double mult;
} MID_THEME[] = {
    {2, "쌀", 0},           {2, "팬시/파티용품", 0}, {2, "종량제봉투", 6},
    {1, "종량제봉투", 0.5}, {3, "삼각김밥/김밥", 3}, {3, "도시락", 2},
    {3, "맥주", 2.5},       {0, "푸드코트", 2},      {0, "카페", 1.5},
    {5, "원피스", 1.5},
};

/* out = the monthly multipliers of season letter code, scaled to a mean of 1 (so a season
 * moves purchases between months without changing the year's total); all 1 for no season. */
static void season_of(char code, float out[GEN_N_MONTH]) {
    for (int k = 0; k < GEN_N_MONTH; k++) out[k] = 1.0f;
    for (size_t i = 0; i < sizeof SEASONS / sizeof SEASONS[0]; i++)
        if (SEASONS[i].code == code) {
            double s = 0;
            for (int k = 0; k < GEN_N_MONTH; k++) s += SEASONS[i].m[k];
            for (int k = 0; k < GEN_N_MONTH; k++)
                out[k] = (float)(SEASONS[i].m[k] * GEN_N_MONTH / s);
        }
}

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Split "name[#mult][^S]" into its parts. */
static void parse_tag(const char *s, size_t n, size_t *name_len, double *mult, char *season,
                      double *price) {
    size_t k = 0;
    while (k < n && s[k] != '#' && s[k] != '^' && s[k] != '=') k++;
    *name_len = k;
    while (k < n) {
        char t = s[k++];
        size_t e = k;
        while (e < n && s[e] != '#' && s[e] != '^' && s[e] != '=') e++;
        if (t == '#' && mult) *mult = strtod(s + k, NULL);
        if (t == '^' && season) *season = s[k];
        if (t == '=' && price) *price = strtod(s + k, NULL);
        k = e;
    }
}

void gen_catalog_free(gen_catalog *c) {
    if (!c) return;
    if (c->mids)
        for (int i = 0; i < c->n_mids; i++) free((char *)c->mids[i].name);
    if (c->products)
        for (int i = 0; i < c->n_products; i++) free(c->products[i].name);
    free(c->tops);
    free(c->mids);
    free(c->products);
    free(c->aff_mid_off);
    free(c->aff_prod);
    free(c->aff_cum);
    free(c->mid_cum);
    free(c->top_season);
    memset(c, 0, sizeof *c);
}

static int32_t round_price(double p) {
    double step = p < 1000 ? 10 : p < 100000 ? 100 : 1000;
    double r = floor(p / step + 0.5) * step;
    return (int32_t)(r < step ? step : r);
}

typedef struct {
    const char *s;
    size_t n;
    char season;
    double price;
} name_ref;

/* One mid: parse its names, then create n products (names first, then variants). */
static prefrec_status build_mid(gen_catalog *c, int t, const top_def *d, const char *spec,
                                size_t len, int n, double sigma, int numbered, prefrec_rng *rng,
                                prefrec_error *err) {
    const char *colon = memchr(spec, ':', len);
    if (!colon)
        return prefrec_error_set(err, PREFREC_E_INVAL, "catalog: mid without ':' in %s", d->name);
    gen_mid *m = &c->mids[c->n_mids];
    size_t name_len;
    double mult = 1;
    char season = 0;
    parse_tag(spec, (size_t)(colon - spec), &name_len, &mult, &season, NULL);
    m->name = dup_n(spec, name_len);
    if (!m->name) return prefrec_error_set(err, PREFREC_E_NOMEM, "catalog: out of memory");
    m->top = t;
    m->cycle_mult = (float)mult;
    season_of(season, m->season);
    m->first_product = c->n_products;
    m->n_products = n;

    name_ref refs[32];
    int nr = 0;
    const char *p = colon + 1, *end = spec + len;
    while (p < end && nr < 32) {
        const char *q = p;
        while (q < end && *q != ',') q++;
        size_t nl;
        char ps = 0;
        double price = 0;
        parse_tag(p, (size_t)(q - p), &nl, NULL, &ps, &price);
        refs[nr++] = (name_ref){p, nl, ps, price};
        p = q + 1;
    }
    const char *const *var = d->kind == 'f' ? VARIANTS_F
        : d->kind == 'c'                    ? VARIANTS_C
        : d->kind == 'e'                    ? VARIANTS_E
        : d->kind == 'g'                    ? VARIANTS_G
                                            : VARIANTS_S;
    for (int j = 0; j < n; j++) {
        const name_ref *nm = &refs[j % nr];
        int v = j / nr; /* 0: the plain name */
        const char *pre = v == 0 ? "" : var[(v - 1) % 8];
        size_t pl = strlen(pre);
        gen_product *pr = &c->products[c->n_products++];
        /* a large catalog (gen --products) numbers the variants past the eighth: "... 2" */
        char num[16] = "";
        if (numbered && v > 8) snprintf(num, sizeof num, " %d", (v - 1) / 8 + 1);
        size_t ul = strlen(num);
        pr->name = malloc(pl + nm->n + ul + 1);
        if (!pr->name) return prefrec_error_set(err, PREFREC_E_NOMEM, "catalog: out of memory");
        memcpy(pr->name, pre, pl);
        memcpy(pr->name + pl, nm->s, nm->n);
        memcpy(pr->name + pl + nm->n, num, ul + 1);
        pr->top = t;
        pr->mid = c->n_mids;
        /* Heavy-tailed popularity; the plain names are the staples of their shelf. */
        pr->popularity = (float)(exp(sigma * prefrec_rng_normal(rng)) * (v == 0 ? 2.0 : 1.0));
        pr->cycle = (float)(d->cycle * mult * exp(0.25 * prefrec_rng_normal(rng)));
        double ad = d->adopt * exp(0.3 * prefrec_rng_normal(rng));
        /* electronics' consumables and accessories (ink, cables, cases: a short cycle for the
         * category) are the few electronics bought again regularly */
        if (d->kind == 'e' && mult < 1) ad *= 1 / (mult * mult);
        pr->adopt = (float)(ad > 0.95 ? 0.95 : ad);
        double price =
            nm->price > 0 ? nm->price : d->price * exp(d->spread * prefrec_rng_normal(rng));
        pr->price = round_price(price);
        pr->avail = 0;
        for (int a = 0; a < GEN_N_AFF; a++) {
            if (d->aff[a] <= 0) continue;
            double u = prefrec_rng_double(rng);
            if (j == 0 || u < ASSORTMENT[a]) pr->avail |= (uint8_t)(1u << a);
        }
    }
    c->n_mids++;
    return PREFREC_OK;
}

/* Own season letter of each product, recovered from the table for the popularity tables. */
static char product_season(const gen_catalog *c, int pi, const char **specs, const size_t *lens) {
    const gen_product *pr = &c->products[pi];
    const gen_mid *m = &c->mids[pr->mid];
    const char *spec = specs[pr->mid];
    const char *colon = memchr(spec, ':', lens[pr->mid]);
    const char *p = colon + 1, *end = spec + lens[pr->mid];
    int nr = 0;
    name_ref refs[32];
    while (p < end && nr < 32) {
        const char *q = p;
        while (q < end && *q != ',') q++;
        size_t nl;
        char ps = 0;
        parse_tag(p, (size_t)(q - p), &nl, NULL, &ps, NULL);
        refs[nr++] = (name_ref){p, nl, ps, 0};
        p = q + 1;
    }
    return refs[(pi - m->first_product) % nr].season;
}

static double mid_theme(const gen_catalog *c, int a, int md) {
    double w = 1;
    for (size_t i = 0; i < sizeof MID_THEME / sizeof MID_THEME[0]; i++)
        if (MID_THEME[i].aff == a && !strcmp(MID_THEME[i].mid, c->mids[md].name))
            w *= MID_THEME[i].mult;
    return w;
}

static prefrec_status build_tables(gen_catalog *c, const char **specs, const size_t *lens,
                                   prefrec_error *err) {
    int nm = c->n_mids, np = c->n_products, nt = c->n_tops;
    /* Apply the themes that remove a mid from an affiliate. */
    for (int a = 0; a < GEN_N_AFF; a++)
        for (int md = 0; md < nm; md++)
            if (mid_theme(c, a, md) == 0)
                for (int k = 0; k < c->mids[md].n_products; k++)
                    c->products[c->mids[md].first_product + k].avail &= (uint8_t) ~(1u << a);
    c->aff_mid_off = calloc((size_t)GEN_N_AFF * (nm + 1), sizeof(int));
    c->aff_prod = malloc(sizeof(int) * (size_t)GEN_N_AFF * np);
    c->mid_cum = calloc((size_t)GEN_N_AFF * GEN_N_MONTH * nm, sizeof(double));
    c->top_season = calloc((size_t)GEN_N_AFF * GEN_N_MONTH * nt, sizeof(double));
    float(*psea)[GEN_N_MONTH] = malloc(sizeof *psea * (size_t)np);
    if (!c->aff_mid_off || !c->aff_prod || !c->mid_cum || !c->top_season || !psea) {
        free(psea);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "catalog: out of memory");
    }
    for (int pi = 0; pi < np; pi++) {
        /* a product's own season (e.g. 비빔면^S in 봉지라면) multiplies its mid's */
        float own[GEN_N_MONTH];
        season_of(product_season(c, pi, specs, lens), own);
        const gen_mid *m = &c->mids[c->products[pi].mid];
        for (int k = 0; k < GEN_N_MONTH; k++)
            c->products[pi].season[k] = psea[pi][k] = m->season[k] * own[k];
    }
    int n = 0;
    for (int a = 0; a < GEN_N_AFF; a++)
        for (int md = 0; md < nm; md++) {
            c->aff_mid_off[a * (nm + 1) + md] = n;
            for (int k = 0; k < c->mids[md].n_products; k++) {
                int pi = c->mids[md].first_product + k;
                if (c->products[pi].avail & (1u << a)) c->aff_prod[n++] = pi;
            }
            c->aff_mid_off[a * (nm + 1) + md + 1] = n;
        }
    c->n_aff_prod = n;
    c->aff_cum = malloc(sizeof(double) * (size_t)GEN_N_MONTH * (n ? n : 1));
    if (!c->aff_cum) {
        free(psea);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "catalog: out of memory");
    }
    for (int a = 0; a < GEN_N_AFF; a++)
        for (int mo = 0; mo < GEN_N_MONTH; mo++) {
            double *mc = c->mid_cum + ((size_t)a * GEN_N_MONTH + mo) * nm;
            for (int t = 0; t < nt; t++) {
                const gen_top *tp = &c->tops[t];
                double acc = 0;
                for (int md = tp->first_mid; md < tp->first_mid + tp->n_mids; md++) {
                    int o0 = c->aff_mid_off[a * (nm + 1) + md],
                        o1 = c->aff_mid_off[a * (nm + 1) + md + 1];
                    double w = 0;
                    for (int o = o0; o < o1; o++) {
                        w += c->products[c->aff_prod[o]].popularity * psea[c->aff_prod[o]][mo];
                        c->aff_cum[(size_t)mo * n + o] = w;
                    }
                    acc += w * mid_theme(c, a, md);
                    mc[md] = acc;
                }
                c->top_season[((size_t)a * GEN_N_MONTH + mo) * nt + t] = acc;
            }
        }
    /* top_season: each month's weight relative to the year's mean */
    for (int a = 0; a < GEN_N_AFF; a++)
        for (int t = 0; t < nt; t++) {
            double s = 0;
            for (int mo = 0; mo < GEN_N_MONTH; mo++)
                s += c->top_season[((size_t)a * GEN_N_MONTH + mo) * nt + t];
            for (int mo = 0; mo < GEN_N_MONTH; mo++) {
                double *v = &c->top_season[((size_t)a * GEN_N_MONTH + mo) * nt + t];
                *v = s > 0 ? *v * GEN_N_MONTH / s : 0;
            }
        }
    free(psea);
    return PREFREC_OK;
}

/* size[t]: products of top t. The table's sizes, or (want > 0) want products in the table's
 * proportions, largest remainder first, at least one per top. */
static void top_sizes(int32_t want, int *size) {
    int base = 0;
    for (int t = 0; t < N_TOP_DEFS; t++) base += size[t] = TOP_DEFS[t].size;
    if (want <= 0) return;
    double rem[N_TOP_DEFS];
    int given = 0;
    for (int t = 0; t < N_TOP_DEFS; t++) {
        double share = (double)TOP_DEFS[t].size * want / base;
        size[t] = share < 1 ? 1 : (int)share;
        rem[t] = share - (int)share;
        given += size[t];
    }
    while (given < want) {
        int best = 0;
        for (int t = 1; t < N_TOP_DEFS; t++)
            if (rem[t] > rem[best]) best = t;
        size[best]++;
        rem[best] = -1;
        given++;
    }
}

prefrec_status gen_catalog_build(gen_catalog *c, prefrec_rng *rng, int32_t want,
                                 prefrec_error *err) {
    memset(c, 0, sizeof *c);
    int n_mids = 0, n_products = 0, size[N_TOP_DEFS];
    top_sizes(want, size);
    /* Popularity is lognormal, sigma 1.1 for the fixed catalog (the deck's 1,933 products); a
     * larger catalog has a longer tail (a department store's slow sellers): sigma grows by 0.3
     * per tenfold, 1.41 at 20,000 products, 1.61 at 100,000 */
    double sigma = want > 0 ? 1.1 + 0.3 * log10((double)want / 1933.0) : 1.1;
    for (int t = 0; t < N_TOP_DEFS; t++) {
        n_products += size[t];
        for (const char *p = TOP_DEFS[t].mids; *p; p++) n_mids += *p == ';';
        n_mids++;
    }
    c->tops = calloc(N_TOP_DEFS, sizeof *c->tops);
    c->mids = calloc((size_t)n_mids, sizeof *c->mids);
    c->products = calloc((size_t)n_products, sizeof *c->products);
    const char **specs = calloc((size_t)n_mids, sizeof *specs);
    size_t *lens = calloc((size_t)n_mids, sizeof *lens);
    prefrec_status st = PREFREC_OK;
    if (!c->tops || !c->mids || !c->products || !specs || !lens) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "catalog: out of memory");
        goto done;
    }
    c->n_tops = N_TOP_DEFS;
    for (int t = 0; t < N_TOP_DEFS && !st; t++) {
        const top_def *d = &TOP_DEFS[t];
        gen_top *tp = &c->tops[t];
        tp->name = d->name;
        tp->n_products = size[t];
        tp->cycle = d->cycle;
        tp->adopt = d->adopt;
        tp->multi = d->multi;
        tp->price = d->price;
        tp->spread = d->spread;
        tp->female = d->female;
        tp->male = d->male;
        memcpy(tp->age, d->age, sizeof tp->age);
        tp->trait = d->trait;
        memcpy(tp->aff, d->aff, sizeof tp->aff);
        tp->kind = d->kind;
        tp->first_mid = c->n_mids;
        /* mids and their name counts; products go to mids in proportion to names listed */
        const char *ms[32];
        size_t ml[32];
        int nn[32], k = 0, names = 0;
        for (const char *p = d->mids; *p && k < 32;) {
            const char *q = strchr(p, ';');
            if (!q) q = p + strlen(p);
            ms[k] = p;
            ml[k] = (size_t)(q - p);
            nn[k] = 1;
            for (const char *r = p; r < q; r++) nn[k] += *r == ',';
            names += nn[k];
            k++;
            p = *q ? q + 1 : q;
        }
        int alloc[32], given = 0;
        double rem[32];
        for (int i = 0; i < k; i++) {
            double share = (double)size[t] * nn[i] / names;
            alloc[i] = (int)share;
            if (alloc[i] < 1) alloc[i] = 1;
            rem[i] = share - (int)share;
            given += alloc[i];
        }
        while (given < size[t]) { /* largest remainder */
            int best = 0;
            for (int i = 1; i < k; i++)
                if (rem[i] > rem[best]) best = i;
            alloc[best]++;
            rem[best] = -1;
            given++;
        }
        while (given > size[t]) { /* too many 1-product mids: take back from the largest */
            int best = 0;
            for (int i = 1; i < k; i++)
                if (alloc[i] > alloc[best]) best = i;
            alloc[best]--;
            given--;
        }
        for (int i = 0; i < k && !st; i++) {
            specs[c->n_mids] = ms[i];
            lens[c->n_mids] = ml[i];
            st = build_mid(c, t, d, ms[i], ml[i], alloc[i], sigma, want > 0, rng, err);
        }
        tp->n_mids = c->n_mids - tp->first_mid;
    }
    c->code_width = 4;
    for (int v = c->n_products; v > 9999; v /= 10) c->code_width++;
    if (!st) st = build_tables(c, specs, lens, err);
done:
    free(specs);
    free(lens);
    if (st) gen_catalog_free(c);
    return st;
}

static int upper_bound(const double *cum, int n, double x) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int gen_catalog_pick_in_mid(const gen_catalog *c, int a, int m, int md, prefrec_rng *r) {
    int o0 = c->aff_mid_off[a * (c->n_mids + 1) + md],
        o1 = c->aff_mid_off[a * (c->n_mids + 1) + md + 1];
    if (o1 <= o0) return -1;
    const double *cum = c->aff_cum + (size_t)m * c->n_aff_prod + o0;
    double total = cum[o1 - o0 - 1];
    if (total <= 0) return -1;
    return c->aff_prod[o0 + upper_bound(cum, o1 - o0, prefrec_rng_double(r) * total)];
}

int gen_catalog_pick_in_top(const gen_catalog *c, int a, int m, int t, prefrec_rng *r) {
    const gen_top *tp = &c->tops[t];
    const double *mc = c->mid_cum + ((size_t)a * GEN_N_MONTH + m) * c->n_mids + tp->first_mid;
    double total = mc[tp->n_mids - 1];
    if (total <= 0) return -1;
    int md = tp->first_mid + upper_bound(mc, tp->n_mids, prefrec_rng_double(r) * total);
    return gen_catalog_pick_in_mid(c, a, m, md, r);
}

int gen_catalog_find_top(const gen_catalog *c, const char *s) {
    for (int t = 0; t < c->n_tops; t++)
        if (!strcmp(c->tops[t].name, s)) return t;
    return -1;
}

int gen_catalog_find_mid(const gen_catalog *c, const char *s) {
    for (int i = 0; i < c->n_mids; i++)
        if (!strcmp(c->mids[i].name, s)) return i;
    return -1;
}
