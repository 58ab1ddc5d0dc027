/* gen_write.c - prefrec_gen_write: turns the catalog (gen_catalog.c) and the simulated customers
 * (gen.c) into the four L.POINT files, through buffered writes on prefrec_atomic files (numbers
 * formatted by hand: 4.4 M lines in a few seconds). */
#define _GNU_SOURCE /* renameat2 (RENAME_EXCHANGE): a part directory replaced in one step */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen_internal.h"
#include "prefrec/native/atomic.h"
#include "prefrec/date.h"
#include "prefrec/native/gen.h"

static const char *const FILES[4] = {"LPOINT_BIG_COMP_01_DEMO.csv", "LPOINT_BIG_COMP_02_PDDE.csv",
                                     "LPOINT_BIG_COMP_04_PD_CLAC.csv",
                                     "LPOINT_BIG_COMP_06_LPAY.csv"};
static const char *const AGES[GEN_N_AGE] = {"20대", "30대", "40대", "50대", "60대", "70대"};

const char *prefrec_gen_file_name(int i) { return i >= 0 && i < 4 ? FILES[i] : NULL; }

prefrec_gen_params prefrec_gen_default_params(void) {
    prefrec_gen_params p;
    memset(&p, 0, sizeof p);
    p.scale = 1.0;
    p.seed = 1;
    return p;
}

/* An output file: a prefrec_atomic plus a write buffer. */
typedef struct out {
    prefrec_atomic a;
    int open;
    char *buf;
    size_t n, cap;
    int64_t bytes;
    int failed;
} out;

static void out_flush(out *o) {
    if (o->n && fwrite(o->buf, 1, o->n, o->a.f) != o->n) o->failed = 1;
    o->bytes += (int64_t)o->n;
    o->n = 0;
}

static inline void out_reserve(out *o, size_t need) {
    if (o->n + need > o->cap) out_flush(o);
}

static inline void put_str(out *o, const char *s) {
    size_t l = strlen(s);
    out_reserve(o, l);
    memcpy(o->buf + o->n, s, l);
    o->n += l;
}

static inline void put_ch(out *o, char c) {
    out_reserve(o, 1);
    o->buf[o->n++] = c;
}

static inline void put_u64(out *o, uint64_t v) {
    char t[24];
    int k = 0;
    do t[k++] = (char)('0' + v % 10);
    while ((v /= 10));
    out_reserve(o, (size_t)k);
    while (k) o->buf[o->n++] = t[--k];
}

static inline void put_digits(out *o, uint64_t v, int width) {
    out_reserve(o, (size_t)width);
    for (int i = width - 1; i >= 0; i--, v /= 10) o->buf[o->n + i] = (char)('0' + v % 10);
    o->n += (size_t)width;
}

/* A CSV field: quoted only when it holds a comma, quote or line break (RFC 4180). */
static void put_field(out *o, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        put_str(o, s);
        return;
    }
    put_ch(o, '"');
    for (; *s; s++) {
        if (*s == '"') put_ch(o, '"');
        put_ch(o, *s);
    }
    put_ch(o, '"');
}

/* Open dir/name (i >= 0: FILES[i]) for writing through prefrec_atomic. */
static prefrec_status out_open_name(out *o, const char *dir, const char *name, prefrec_error *err) {
    memset(o, 0, sizeof *o);
    size_t l = strlen(dir) + strlen(name) + 2;
    char *path = malloc(l);
    if (!path) return prefrec_error_set(err, PREFREC_E_NOMEM, "gen: out of memory");
    snprintf(path, l, "%s/%s", dir, name);
    prefrec_status st = prefrec_atomic_open(&o->a, path, err);
    free(path);
    if (st) return st;
    o->open = 1;
    o->cap = 1 << 20;
    o->buf = malloc(o->cap);
    if (!o->buf) return prefrec_error_set(err, PREFREC_E_NOMEM, "gen: out of memory");
    return PREFREC_OK;
}

static prefrec_status out_open(out *o, const char *dir, int i, prefrec_error *err) {
    return out_open_name(o, dir, FILES[i], err);
}

static prefrec_status out_commit(out *o, prefrec_error *err) {
    out_flush(o);
    free(o->buf);
    o->buf = NULL;
    o->open = 0;
    if (o->failed) {
        prefrec_error_set(err, PREFREC_E_IO, "gen: cannot write %s: %s", o->a.path,
                          strerror(errno));
        prefrec_atomic_abort(&o->a);
        return PREFREC_E_IO;
    }
    return prefrec_atomic_commit(&o->a, err);
}

static void out_abort(out *o) {
    if (o->open) prefrec_atomic_abort(&o->a);
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* mkdir -p */
static prefrec_status make_dir(const char *dir, prefrec_error *err) {
    size_t l = strlen(dir);
    char *p = malloc(l + 1);
    if (!p) return prefrec_error_set(err, PREFREC_E_NOMEM, "gen: out of memory");
    memcpy(p, dir, l + 1);
    for (size_t i = 1; i <= l; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            prefrec_status st = prefrec_error_set(
                err, PREFREC_E_IO, "gen: cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return st;
        }
        p[i] = c;
    }
    free(p);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return prefrec_error_set(err, PREFREC_E_IO, "gen: %s is not a directory", dir);
    return PREFREC_OK;
}

/* ---- the purchases as a part directory (--parts) ------------------------------------------
 * DIR/LPOINT_BIG_COMP_02_PDDE.csv becomes a directory of part-00000.csv .. (as Spark and Hive
 * write a table; the loaders read it as the one file, docs/mpi.md). Part p holds the rows of
 * customers [n p / N, n (p + 1) / N), each part with the header, so the parts' rows in order
 * are the single file's rows. They are written one at a time (one open file, one customer in
 * memory) into a hidden temporary directory, put in place when all are written. */
static const char HEADER_02[] = "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n";

static char *path_join(const char *dir, const char *name) {
    size_t l = strlen(dir) + strlen(name) + 2;
    char *s = malloc(l);
    if (s) snprintf(s, l, "%s/%s", dir, name);
    return s;
}

/* Remove a directory of plain files (a part directory) or a file. */
static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = path_join(path, e->d_name);
        if (p) unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(path);
}

/* Put the written directory tmp at final: a plain rename when nothing is there, else an
 * exchange (one step: readers see the old data or the new, never a mix), then the old removed. */
static prefrec_status parts_put_in_place(const char *tmp, const char *final, prefrec_error *err) {
    struct stat sb;
    if (lstat(final, &sb) != 0) {
        if (rename(tmp, final) == 0) return PREFREC_OK;
    } else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
        remove_tree(tmp); /* the old file or directory, now at tmp */
        return PREFREC_OK;
    }
    int e = errno;
    remove_tree(tmp);
    return prefrec_error_set(err, PREFREC_E_IO, "gen: cannot put the parts in place at %s: %s",
                             final, strerror(e));
}

/* Open part p of the purchases in tmpdir, with the header. */
static prefrec_status part_open(out *o, const char *tmpdir, int p, prefrec_error *err) {
    char name[32];
    snprintf(name, sizeof name, "part-%05d.csv", p);
    prefrec_status st = out_open_name(o, tmpdir, name, err);
    if (!st) put_str(o, HEADER_02);
    return st;
}

static void write_catalog(out *o, const gen_catalog *cat) {
    put_str(o, "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\n");
    for (int i = 0; i < cat->n_products; i++) {
        const gen_product *p = &cat->products[i];
        put_str(o, "PD");
        put_digits(o, (uint64_t)i + 1, cat->code_width);
        put_ch(o, ',');
        put_field(o, p->name);
        put_ch(o, ',');
        put_field(o, cat->tops[p->top].name);
        put_ch(o, ',');
        put_field(o, cat->mids[p->mid].name);
        put_ch(o, '\n');
    }
}

/* Rows of one customer in 01, 02 and 06. rct_seq numbers receipts per affiliate. */
static void write_customer(out *o, const gen_world *w, const gen_customer *c, const gen_work *k,
                           const char dates[365][9], int64_t rct_seq[GEN_N_AFF],
                           prefrec_gen_summary *s) {
    char cust[11];
    cust[0] = 'M';
    for (int i = 9, v = (int)c->id; i >= 1; i--, v /= 10) cust[i] = (char)('0' + v % 10);
    cust[10] = 0;
    out *o1 = &o[0], *o2 = &o[1], *o6 = &o[3];
    put_str(o1, cust);
    put_str(o1, c->female ? ",여성," : ",남성,");
    put_str(o1, AGES[c->age]);
    put_str(o1, ",Z");
    put_digits(o1, (uint64_t)c->zone + 1, 2);
    put_ch(o1, '\n');
    if (k->n_receipts) s->buyers++;
    for (size_t i = 0; i < k->n_receipts; i++) {
        const gen_receipt *rc = &k->receipts[i];
        int a = rc->aff;
        char rct[13], cop[4] = {'A', '0', (char)('1' + a), 0};
        memcpy(rct, cop, 3);
        uint64_t seq = (uint64_t)++rct_seq[a];
        for (int j = 11; j >= 3; j--, seq /= 10) rct[j] = (char)('0' + seq % 10);
        rct[12] = 0;
        s->receipts++;
        s->receipts_aff[a]++;
        for (int32_t j = rc->first_line; j < rc->first_line + rc->n_lines; j++) {
            const gen_line *ln = &k->lines[j];
            put_str(o2, cust);
            put_ch(o2, ',');
            put_str(o2, rct);
            put_ch(o2, ',');
            put_ch(o2, (char)('0' + rc->channel));
            put_ch(o2, ',');
            put_str(o2, cop);
            put_ch(o2, ',');
            if (rc->branch >= 0) {
                put_str(o2, cop);
                put_digits(o2, (uint64_t)rc->branch + 1, 4);
            }
            put_str(o2, ",PD");
            put_digits(o2, (uint64_t)ln->product + 1, w->cat->code_width);
            put_ch(o2, ',');
            put_str(o2, dates[rc->day]);
            put_ch(o2, ',');
            put_u64(o2, rc->hour);
            put_ch(o2, ',');
            put_u64(o2, (uint64_t)ln->amount);
            put_ch(o2, ',');
            put_u64(o2, (uint64_t)ln->count);
            put_ch(o2, '\n');
            s->rows++;
            s->rows_aff[a]++;
            s->rows_count_one += ln->count == 1;
        }
        if (rc->lpay) {
            put_str(o6, cust);
            put_ch(o6, ',');
            put_str(o6, rct);
            put_ch(o6, ',');
            put_str(o6, cop);
            put_ch(o6, ',');
            put_ch(o6, (char)('0' + rc->channel));
            put_ch(o6, ',');
            put_str(o6, dates[rc->day]);
            put_ch(o6, ',');
            put_u64(o6, rc->hour);
            put_ch(o6, ',');
            put_u64(o6, (uint64_t)rc->amount);
            put_ch(o6, '\n');
            s->lpay_rows++;
            s->lpay_aff[a]++;
        }
    }
    (void)w;
}

prefrec_status prefrec_gen_write(const char *dir, const prefrec_gen_params *params,
                                 prefrec_gen_summary *summary, prefrec_error *err) {
    prefrec_gen_params p = params ? *params : prefrec_gen_default_params();
    if (!dir || !*dir) return prefrec_error_set(err, PREFREC_E_INVAL, "gen: no output directory");
    if (!(p.scale > 0 && p.scale <= 100))
        return prefrec_error_set(err, PREFREC_E_INVAL, "gen: scale must be in (0, 100], got %g",
                                 p.scale);
    if (p.parts < 0 || p.parts > PREFREC_GEN_PARTS_MAX)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "gen: parts must be 0 (one file) or 1..%d, got %d",
                                 PREFREC_GEN_PARTS_MAX, (int)p.parts);
    if (p.products != 0 && (p.products < 100 || p.products > PREFREC_GEN_PRODUCTS_MAX))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "gen: products must be 0 (the fixed catalog) or %d..%d, got %d",
                                 100, PREFREC_GEN_PRODUCTS_MAX, (int)p.products);
    prefrec_status st = make_dir(dir, err);
    if (st) return st;

    prefrec_gen_summary s;
    memset(&s, 0, sizeof s);
    gen_catalog cat;
    prefrec_rng crng;
    prefrec_rng_init(&crng, p.seed, 1);
    st = gen_catalog_build(&cat, &crng, p.products, err);
    if (st) return st;
    gen_world *w = malloc(sizeof *w);
    gen_work k;
    memset(&k, 0, sizeof k);
    out o[4];
    memset(o, 0, sizeof o);
    char *f02 = NULL, *tmpdir = NULL;
    if (!w || gen_work_init(&k, &cat)) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "gen: out of memory");
        goto done;
    }
    gen_world_init(w, &cat, p.seed);
    f02 = path_join(dir, FILES[1]);
    if (!f02) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "gen: out of memory");
        goto done;
    }
    struct stat sb;
    if (!p.parts && stat(f02, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = prefrec_error_set(err, PREFREC_E_IO,
                               "gen: %s is a part directory (gen --parts): give --parts, or "
                               "remove it to write one file",
                               f02);
        goto done;
    }
    if (p.parts) {
        size_t l = strlen(dir) + strlen(FILES[1]) + 32;
        if (!(tmpdir = malloc(l))) {
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "gen: out of memory");
            goto done;
        }
        snprintf(tmpdir, l, "%s/.%s.tmp.%ld", dir, FILES[1], (long)getpid());
        remove_tree(tmpdir); /* left by an earlier run of this pid that was killed */
        if (mkdir(tmpdir, 0777) != 0) {
            st = prefrec_error_set(err, PREFREC_E_IO, "gen: cannot create directory %s: %s", tmpdir,
                                   strerror(errno));
            free(tmpdir);
            tmpdir = NULL;
            goto done;
        }
    }
    for (int i = 0; i < 4 && !st; i++)
        st = i == 1 && p.parts ? part_open(&o[i], tmpdir, 0, err) : out_open(&o[i], dir, i, err);
    if (st) goto done;

    write_catalog(&o[2], &cat);
    put_str(&o[0], "cust,ma_fem_dv,ages,zon_hlv\n");
    if (!p.parts) put_str(&o[1], HEADER_02);
    put_str(&o[3], "cust,rct_no,cop_c,chnl_dv,de_dt,de_hr,buy_am\n");
    char dates[365][9];
    int32_t d0 = prefrec_days_from_civil(2021, 1, 1);
    for (int d = 0; d < 365; d++) {
        int y, m, dd;
        prefrec_civil_from_days(d0 + d, &y, &m, &dd);
        snprintf(dates[d], sizeof dates[d], "%04d%02d%02d", y, m, dd);
    }
    int64_t n_cust = (int64_t)floor(29913.0 * p.scale + 0.5);
    if (n_cust < 1) n_cust = 1;
    int64_t rct_seq[GEN_N_AFF] = {0};
    int64_t step = n_cust / 100 > 0 ? n_cust / 100 : 1;
    int part = 0;
    int64_t bytes02 = 0;
    for (int64_t i = 0; i < n_cust; i++) {
        while (p.parts && part + 1 < p.parts && i >= n_cust * (part + 1) / p.parts) {
            bytes02 += o[1].bytes + (int64_t)o[1].n; /* the next part starts here */
            if ((st = out_commit(&o[1], err)) || (st = part_open(&o[1], tmpdir, ++part, err)))
                goto done;
        }
        gen_customer c;
        st = gen_customer_simulate(w, (uint32_t)i, &c, &k);
        if (st) {
            prefrec_error_set(err, st, "gen: out of memory at customer %lld", (long long)i);
            goto done;
        }
        write_customer(o, w, &c, &k, (const char(*)[9])dates, rct_seq, &s);
        s.customers++;
        if (p.progress && (i + 1) % step == 0)
            p.progress(p.progress_user, (double)(i + 1) / n_cust);
    }
    while (p.parts && part + 1 < p.parts) { /* more parts than customers: empty parts */
        bytes02 += o[1].bytes + (int64_t)o[1].n;
        if ((st = out_commit(&o[1], err)) || (st = part_open(&o[1], tmpdir, ++part, err)))
            goto done;
    }
    for (int i = 0; i < 4; i++) {
        int64_t before = o[i].bytes + (int64_t)o[i].n;
        st = out_commit(&o[i], err);
        if (st) goto done;
        s.bytes[i] = before + (i == 1 ? bytes02 : 0);
        if (i == 1 && p.parts) {
            st = parts_put_in_place(tmpdir, f02, err);
            free(tmpdir);
            tmpdir = NULL;
            if (st) goto done;
        }
    }
    s.products = cat.n_products;
    s.top_categories = cat.n_tops;
    s.mid_categories = cat.n_mids;
    if (summary) *summary = s;
done:
    for (int i = 0; i < 4; i++) out_abort(&o[i]);
    if (tmpdir) remove_tree(tmpdir);
    free(tmpdir);
    free(f02);
    gen_work_free(&k);
    free(w);
    gen_catalog_free(&cat);
    return st;
}
