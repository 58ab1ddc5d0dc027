/* gen.c - the demo data generator's customers and their year of shopping (2021).
 *
 * Purchases come from the mechanisms a real shop has, each its own piece of state, not one
 * latent-factor formula:
 *  - households shop at some affiliates and not others (membership by age, gender, smoking),
 *    with their own trip rate, active months (some join late, some leave), home branches;
 *  - trips follow weekday patterns, closing days (hypermarkets close the 2nd and 4th Sunday),
 *    holiday rushes and trends (A06 falls from June; A04's December Lpay promotion);
 *  - each household keeps regular products per affiliate, bought again when due: after each
 *    purchase the next due day is drawn around the household's interval for it (Erlang, so the
 *    hazard rises with the time since the last purchase), and from the due day on it is bought
 *    on a trip more surely the more overdue it is. Overdue regulars stay live: what keeps one
 *    from being bought is a spell away from the affiliate or a pause (another brand for a
 *    while), both bounded, after which it is bought again; lapses for good are rare, rarer the
 *    more often the product was bought and in the household's favourite categories. So a long
 *    (time since the last purchase) / (usual interval) means a purchase is near, as the seed's
 *    score assumes. Staples are due every week or two, electronics almost never; seasonal
 *    products wait out of season;
 *  - on each trip a few more products are explored: a top category by the household's
 *    preferences (gender, age, traits such as a baby, kids, a pet, smoking, a car, and personal
 *    favourites) x the affiliate's assortment x the season, then a product by (skewed)
 *    popularity; or a product of the same mid category as one bought before (new products are
 *    tried after related ones). A tried product becomes a regular with its adopt probability.
 * Every customer draws from its own stream (seed, 0x100000 + index), so a customer's rows do not
 * depend on the others or on the order customers are generated in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"
#include "prefrec/date.h"

static const double P_FEMALE = 20083.0 / 29913.0;
static const double AGE_W[GEN_N_AGE] = {3853, 7736, 9863, 5633, 2115, 713};
/* a few buyers' only affiliate sees no trip in their active months: aim slightly higher */
static const double P_BUYER = 26917.0 / 29913.0 * 1.005;
static const double ZONE_W[GEN_N_ZONE] = {18.6, 6.5, 4.7, 5.7, 2.9, 2.9, 2.2, 26.0, 2.9,
                                          3.0,  3.6, 3.4, 3.4, 5.2, 6.3, 1.3, 0.7};
static const int N_BRANCH[GEN_N_AFF] = {280, 125, 430, 5400, 440, 0};

/* Membership probability, trips per week of a member, regulars at the start of the year,
 * products explored per trip, Lpay use relative to a user's habit, online share. */
static const double P_MEMBER[GEN_N_AFF] = {0.45, 0.58, 0.33, 0.30, 0.12, 0.13};
static const double TRIPS_WEEK[GEN_N_AFF] = {0.455, 0.685, 0.54, 0.27, 0.038, 0.375};
static const double REP0[GEN_N_AFF] = {2, 5, 4, 1, 0, 1};
static const double ADOPT_AFF[GEN_N_AFF] = {0.62, 0.55, 0.51, 0.23, 1, 0.62};
static const double EXPLORE[GEN_N_AFF] = {1.5, 2.2, 1.6, 0.7, 1.1, 1.2};
static const double LPAY_AFF[GEN_N_AFF] = {1.0, 0.9, 0.9, 0.45, 0.8, 0.7};
static const double ONLINE[GEN_N_AFF] = {0.03, 0.06, 0.04, 0, 0.2, 1};
static const double PRICE_AFF[GEN_N_AFF] = {1.15, 1.0, 1.03, 1.1, 1.0, 0.95};
/* Repurchase process of a regular product (see shop_affiliate):
 *  - households that stop shopping for good during the year: rare (the repurchase data of the
 *    others would otherwise be dominated by customers who left);
 *  - spells away from an affiliate (shopping elsewhere for a while, travel): one every
 *    AWAY_EVERY days on average, at least AWAY_GAP days after the last one, lasting AWAY_MIN to
 *    AWAY_MAX days; the regulars wait and are bought on the return (they are overdue by then);
 *  - a pause after a purchase (another brand for a while, a stock at home): P_PAUSE, then the
 *    product is due again PAUSE_MIN to PAUSE_MAX days later; bounded, so a long-overdue regular
 *    is one about to come back;
 *  - dropped for good after a purchase: rare, and rarer the more often it was bought (habit:
 *    falls by e per HABIT_N purchases), for a short interval, and in the household's favourite
 *    categories (x CAT_LOYAL / (CAT_LOYAL + the category's share of its shopping there)). */
static const double P_LEAVE = 0.003;
static const double AWAY_EVERY = 300, AWAY_GAP = 90, AWAY_MIN = 30, AWAY_MAX = 75;
static const double P_PAUSE = 0.3, PAUSE_MIN = 60, PAUSE_MAX = 125;
static const double DROP_BASE = 0.15, DROP_YEAR = 0.3, HABIT_N = 2.5, CAT_LOYAL = 0.05;

/* Hour weights (0..23) of offline receipts per affiliate and of online orders. */
static const float HOURS[GEN_N_AFF + 1][24] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 8, 9, 9, 9, 9, 9, 8, 6, 3, 0, 0, 0},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 7, 7, 8, 8, 9, 10, 10, 9, 7, 5, 3, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 6, 7, 6, 6, 6, 7, 8, 10, 11, 10, 8, 5, 3, 1},
    {3, 2, 1.5f, 1, 1, 1.5f, 3, 6, 8, 6, 5, 6, 8, 7, 5, 5, 5, 6, 8, 8, 7, 7, 6, 4},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 6, 7, 8, 8, 8, 8, 7, 6, 4, 2, 0, 0},
    {2, 1, .5f, .3f, .3f, .5f, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 7, 4},
    {2, 1, .5f, .3f, .3f, .5f, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 7, 4},
};
/* Weekday weights Monday..Sunday. */
static const float DOW[GEN_N_AFF][7] = {
    {.8f, .8f, .8f, .85f, 1, 1.5f, 1.4f}, {.8f, .8f, .8f, .85f, 1, 1.5f, 1.3f},
    {1, 1, 1, 1, 1.1f, 1.1f, .9f},        {1, 1, 1, 1, 1.15f, 1, .85f},
    {.8f, .8f, .8f, .8f, 1, 1.5f, 1.3f},  {1.1f, 1.1f, 1, 1, 1, .9f, .9f},
};

static int draw_weighted(prefrec_rng *r, const double *w, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += w[i];
    double u = prefrec_rng_double(r) * s;
    for (int i = 0; i < n; i++) {
        if (u < w[i]) return i;
        u -= w[i];
    }
    return n - 1;
}

static int poisson(prefrec_rng *r, double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) {
        int v = (int)floor(mean + sqrt(mean) * prefrec_rng_normal(r) + 0.5);
        return v < 0 ? 0 : v;
    }
    double l = exp(-mean), p = prefrec_rng_double(r);
    int k = 0;
    while (p > l) {
        p *= prefrec_rng_double(r);
        k++;
    }
    return k;
}

static double lognorm(prefrec_rng *r, double sigma) { return exp(sigma * prefrec_rng_normal(r)); }

prefrec_status gen_world_init(gen_world *w, const gen_catalog *cat, uint64_t seed) {
    memset(w, 0, sizeof *w);
    w->cat = cat;
    w->seed = seed;
    w->top_cigarette = gen_catalog_find_top(cat, "담배");
    w->top_giftcard = gen_catalog_find_top(cat, "상품권");
    int32_t d0 = prefrec_days_from_civil(2021, 1, 1);
    int32_t seollal = prefrec_days_from_civil(2021, 2, 12) - d0;
    int32_t chuseok = prefrec_days_from_civil(2021, 9, 21) - d0;
    for (int a = 0; a < GEN_N_AFF; a++) {
        double mean = 0;
        for (int k = 0; k < 7; k++) mean += DOW[a][k] / 7.0;
        int sundays_in_month = 0, last_month = -1;
        for (int d = 0; d < 365; d++) {
            int y, m, dd;
            prefrec_civil_from_days(d0 + d, &y, &m, &dd);
            int dow = (d + 4) % 7; /* 2021-01-01 was a Friday; 0 = Monday */
            if (m != last_month) sundays_in_month = 0, last_month = m;
            if (dow == 6) sundays_in_month++;
            double f = DOW[a][dow] / mean;
            /* hypermarkets must close on the 2nd and 4th Sunday of the month */
            if (a == 1 && dow == 6 && (sundays_in_month == 2 || sundays_in_month == 4)) f = 0;
            /* stores close on Seollal and Chuseok day and are busy the week before */
            if (a <= 2 && (d == seollal || d == chuseok)) f = 0;
            if (a <= 2 && ((d >= seollal - 8 && d < seollal) || (d >= chuseok - 8 && d < chuseok)))
                f *= 1.35;
            if (a == 5 && m >= 6) f *= 0.4; /* A06: sharp fall from June */
            if (a == 3 && m == 12) f *= 1.1; /* A04: Lpay promotion month */
            w->day_mult[a][d] = (float)f;
        }
        /* branches: contiguous blocks per zone, sized by the zone's population */
        w->n_branch[a] = N_BRANCH[a];
        if (!N_BRANCH[a]) continue;
        double zs = 0;
        for (int z = 0; z < GEN_N_ZONE; z++) zs += ZONE_W[z];
        int first = 0;
        for (int z = 0; z < GEN_N_ZONE; z++) {
            int n = (int)(N_BRANCH[a] * ZONE_W[z] / zs);
            if (n < 1) n = 1;
            if (z == GEN_N_ZONE - 1 || first + n > N_BRANCH[a]) n = N_BRANCH[a] - first;
            w->zone_first[a][z] = first;
            w->zone_count[a][z] = n;
            first += n;
        }
    }
    return PREFREC_OK;
}

prefrec_status gen_work_init(gen_work *k, const gen_catalog *cat) {
    memset(k, 0, sizeof *k);
    k->bought = calloc((size_t)cat->n_products, 1);
    k->hist = malloc(sizeof(int32_t) * (size_t)cat->n_products);
    k->cap_receipts = 512;
    k->cap_lines = 4096;
    k->receipts = malloc(sizeof *k->receipts * k->cap_receipts);
    k->lines = malloc(sizeof *k->lines * k->cap_lines);
    if (!k->bought || !k->hist || !k->receipts || !k->lines) {
        gen_work_free(k);
        return PREFREC_E_NOMEM;
    }
    return PREFREC_OK;
}

void gen_work_free(gen_work *k) {
    if (!k) return;
    free(k->bought);
    free(k->hist);
    free(k->receipts);
    free(k->lines);
    memset(k, 0, sizeof *k);
}

/* Everything about one household that drives its purchases. */
typedef struct household {
    int trait[GEN_N_TRAIT];
    double pref[128]; /* per top category */
    double activity, explore, loyalty, multi, online, lpay_rate;
    int hour_habit, start, end;
    int member[GEN_N_AFF];
    double trips_day[GEN_N_AFF];
    int branch[GEN_N_AFF][2];
} household;

static void draw_household(const gen_world *w, const gen_customer *c, household *h,
                           prefrec_rng *r) {
    const gen_catalog *cat = w->cat;
    memset(h, 0, sizeof *h);
    static const double BABY[GEN_N_AGE] = {.06, .30, .08, .04, .03, .01};
    static const double KIDS[GEN_N_AGE] = {.03, .35, .50, .12, .08, .05};
    h->trait[GEN_TRAIT_BABY] = prefrec_rng_double(r) < BABY[c->age];
    h->trait[GEN_TRAIT_KIDS] = prefrec_rng_double(r) < KIDS[c->age];
    h->trait[GEN_TRAIT_PET] = prefrec_rng_double(r) < (c->age < 2 ? 0.3 : 0.22);
    h->trait[GEN_TRAIT_SMOKER] = prefrec_rng_double(r) < (c->female ? 0.06 : 0.38 - 0.03 * c->age);
    h->trait[GEN_TRAIT_CAR] = prefrec_rng_double(r) < (c->age >= 1 && c->age <= 3 ? 0.65 : 0.4);
    /* activity: heavy-tailed (mean 1); a few households do most of the shopping */
    h->activity = lognorm(r, 0.75) / exp(0.75 * 0.75 / 2);
    h->explore = lognorm(r, 0.4);
    h->loyalty = lognorm(r, 0.35);
    h->multi = lognorm(r, 0.5);
    static const double ONL_AGE[GEN_N_AGE] = {1.5, 1.4, 1.0, 0.7, 0.4, 0.2};
    h->online = lognorm(r, 0.8) * ONL_AGE[c->age];
    h->lpay_rate = prefrec_rng_double(r) < 0.36 ? 0.3 + 0.65 * prefrec_rng_double(r) : 0;
    static const double HOUR_W[24] = {0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 4,
                                      5, 4, 4, 4, 5, 6, 8, 9, 7, 5, 3, 1};
    h->hour_habit = draw_weighted(r, HOUR_W, 24);
    /* some households join during the year, some leave */
    h->start = 0;
    h->end = 365;
    double u = prefrec_rng_double(r);
    if (u < 0.08)
        h->start = (int)prefrec_rng_below(r, 300);
    else if (u < 0.08 + P_LEAVE)
        h->end = 60 + (int)prefrec_rng_below(r, 305);
    /* category preferences: gender x age x traits x personal taste, plus a few favourites */
    for (int t = 0; t < cat->n_tops && t < 128; t++) {
        const gen_top *tp = &cat->tops[t];
        double p = (c->female ? tp->female : tp->male) * tp->age[c->age] * lognorm(r, 0.9);
        if (tp->trait != GEN_TRAIT_NONE) {
            if (tp->trait == GEN_TRAIT_SMOKER)
                p *= h->trait[tp->trait] ? 1 : 0;
            else
                p *= h->trait[tp->trait] ? 5 : 0.04;
        }
        h->pref[t] = p;
    }
    for (int k = 0; k < 3; k++) h->pref[prefrec_rng_below(r, (uint32_t)cat->n_tops)] *= 4;
    /* affiliates this household uses */
    int any = 0;
    for (int a = 0; a < GEN_N_AFF; a++) {
        double p = P_MEMBER[a];
        if (a == 0) p *= c->female ? 1.1 : 0.85;
        if (a == 2) p *= c->age >= 3 ? 1.25 : 0.9;
        if (a == 3) p *= (c->age <= 1 ? 1.5 : 0.85) * (h->trait[GEN_TRAIT_SMOKER] ? 1.8 : 1);
        if (a == 5) p *= (c->age <= 1 ? 1.4 : 0.8) * (c->female ? 1.15 : 0.8);
        h->member[a] = prefrec_rng_double(r) < p;
        any |= h->member[a];
        h->trips_day[a] = TRIPS_WEEK[a] / 7.0 * h->activity * lognorm(r, 0.4);
        if (a == 3 && h->trait[GEN_TRAIT_SMOKER])
            h->trips_day[a] *= 2.5; /* a pack every few days */
        if (w->n_branch[a]) {
            int z = c->zone;
            h->branch[a][0] =
                w->zone_first[a][z] + (int)prefrec_rng_below(r, (uint32_t)w->zone_count[a][z]);
            h->branch[a][1] =
                w->zone_first[a][z] + (int)prefrec_rng_below(r, (uint32_t)w->zone_count[a][z]);
        }
    }
    if (!any) h->member[prefrec_rng_double(r) < 0.7 ? 1 : 2] = 1;
}

static gen_line *add_line(gen_work *k) {
    if (k->n_lines == k->cap_lines) {
        size_t cap = k->cap_lines * 2;
        gen_line *p = realloc(k->lines, sizeof *p * cap);
        if (!p) return NULL;
        k->lines = p;
        k->cap_lines = cap;
    }
    return &k->lines[k->n_lines++];
}

/* Per (household, affiliate) sampling state for the current month. */
typedef struct shop {
    const gen_world *w;
    const household *h;
    int a, month;
    double top_cum[128];
    double gap; /* mean days between trips */
} shop;

static void shop_month(shop *s, int month) {
    const gen_catalog *cat = s->w->cat;
    s->month = month;
    double acc = 0;
    for (int t = 0; t < cat->n_tops; t++) {
        double v = cat->tops[t].aff[s->a] * s->h->pref[t] *
            cat->top_season[((size_t)s->a * GEN_N_MONTH + month) * cat->n_tops + t];
        if (s->a == 5 && month >= 5 && t == s->w->top_giftcard)
            v *= 4; /* A06: gift cards hold up */
        acc += v;
        s->top_cum[t] = acc;
    }
}

/* The household's share of its shopping at this affiliate that goes to top category t. */
static double top_share(const shop *s, int t) {
    const gen_catalog *cat = s->w->cat;
    double total = s->top_cum[cat->n_tops - 1];
    if (total <= 0) return 0;
    return (s->top_cum[t] - (t > 0 ? s->top_cum[t - 1] : 0)) / total;
}

/* One product to try: a relative of something bought before, or a fresh pick. */
static int explore_pick(shop *s, gen_work *k, prefrec_rng *r) {
    const gen_catalog *cat = s->w->cat;
    if (k->n_hist > 0 && prefrec_rng_double(r) < 0.3) {
        int anchor = k->hist[prefrec_rng_below(r, (uint32_t)k->n_hist)];
        int p = gen_catalog_pick_in_mid(cat, s->a, s->month, cat->products[anchor].mid, r);
        if (p >= 0) return p;
    }
    double total = s->top_cum[cat->n_tops - 1];
    if (total <= 0) return -1;
    double u = prefrec_rng_double(r) * total;
    int lo = 0, hi = cat->n_tops - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->top_cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return gen_catalog_pick_in_top(cat, s->a, s->month, lo, r);
}

/* Days until a regular is due again: Erlang(3) around its interval (spread: CV 0.58), whose
 * hazard rises with the time since the last purchase. */
static double next_gap(prefrec_rng *r, double iv) {
    double u =
        (1 - prefrec_rng_double(r)) * (1 - prefrec_rng_double(r)) * (1 - prefrec_rng_double(r));
    return -log(u) / 3.0 * iv;
}

static void adopt(shop *s, gen_work *k, int p, int day, prefrec_rng *r, double boost) {
    const gen_product *pr = &s->w->cat->products[p];
    for (int i = 0; i < k->n_rep; i++)
        if (k->rep[i].product == p) return;
    if (k->n_rep >= GEN_REP_MAX) return;
    if (prefrec_rng_double(r) >= pr->adopt * ADOPT_AFF[s->a] * s->h->loyalty * boost) return;
    gen_rep *e = &k->rep[k->n_rep++];
    e->product = (int32_t)p;
    double iv = pr->cycle * lognorm(r, 0.3);
    if (iv < 0.9 * s->gap) iv = 0.9 * s->gap; /* cannot be due more often than the trips */
    e->interval = (float)iv;
    e->last = (int16_t)day;
    e->n = 1;
    e->due = (int16_t)(day + next_gap(r, iv));
    e->pmax = (float)(0.35 + 0.5 * prefrec_rng_double(r));
}

/* Record product p on the open receipt (merging repeats) and remember it. */
static int buy(shop *s, gen_work *k, gen_receipt *rc, int p, int day, prefrec_rng *r) {
    const gen_catalog *cat = s->w->cat;
    const gen_product *pr = &cat->products[p];
    for (int32_t i = rc->first_line; i < rc->first_line + rc->n_lines; i++)
        if (k->lines[i].product == p) return 0;
    gen_line *ln = add_line(k);
    if (!ln) return -1;
    int ct = 1;
    if (prefrec_rng_double(r) < 0.6 * cat->tops[pr->top].multi * s->h->multi) {
        ct = 2;
        while (ct < 10 && prefrec_rng_double(r) < 0.35) ct++;
    }
    double am = pr->price * PRICE_AFF[s->a] * ct;
    if (prefrec_rng_double(r) < 0.15) am *= 0.7 + 0.25 * prefrec_rng_double(r); /* discounts */
    ln->product = (int32_t)p;
    ln->count = (int16_t)ct;
    ln->amount = (int32_t)(floor(am / 10 + 0.5) * 10);
    rc->n_lines++;
    rc->amount += ln->amount;
    if (!k->bought[p]) {
        k->bought[p] = 1;
        k->hist[k->n_hist++] = (int32_t)p;
    }
    (void)day;
    return 1;
}

static int hour_of(const household *h, int a, int online, prefrec_rng *r) {
    const float *hw = HOURS[online ? GEN_N_AFF : a];
    if (prefrec_rng_double(r) < 0.6) {
        int hr = h->hour_habit + (int)floor(1.5 * prefrec_rng_normal(r) + 0.5);
        if (hr >= 0 && hr < 24 && hw[hr] > 0) return hr;
    }
    double w[24];
    for (int i = 0; i < 24; i++) w[i] = hw[i];
    return draw_weighted(r, w, 24);
}

static prefrec_status shop_affiliate(const gen_world *w, const household *h, int a, gen_work *k,
                                     prefrec_rng *r) {
    const gen_catalog *cat = w->cat;
    shop s = {w, h, a, -1, {0}, 0};
    double rate = h->trips_day[a];
    s.gap = rate > 0 ? 1.0 / rate : 365;
    if (s.gap < 1) s.gap = 1;
    k->n_rep = 0;
    for (int i = 0; i < k->n_hist; i++) k->bought[k->hist[i]] = 0;
    k->n_hist = 0;
    shop_month(&s, 0);
    /* regulars at the start of the year, already part way through their intervals */
    int n0 = poisson(r, REP0[a] * sqrt(h->activity));
    for (int i = 0, tries = 0; i < n0 && tries < 20 * n0; tries++) {
        int p = explore_pick(&s, k, r);
        if (p < 0) break;
        int before = k->n_rep;
        adopt(&s, k, p, h->start, r, 2.5);
        if (k->n_rep > before) {
            gen_rep *e = &k->rep[k->n_rep - 1];
            e->last = (int16_t)(h->start - (int)(prefrec_rng_double(r) * e->interval));
            e->due = (int16_t)(e->last + next_gap(r, e->interval));
            i++;
        }
    }
    if (w->top_cigarette >= 0 && h->trait[GEN_TRAIT_SMOKER] &&
        (a == 3 || (a == 2 && !h->member[3]))) {
        int p = gen_catalog_pick_in_top(cat, a, 0, w->top_cigarette, r);
        if (p >= 0) adopt(&s, k, p, h->start - 1, r, 100);
    }
    static const int MONTH_START[13] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
    int month = 0;
    /* spells away (shopping elsewhere, travel): no trips; the regulars wait and are due */
    int away_from = h->start + (int)(-log(1 - prefrec_rng_double(r)) * AWAY_EVERY), away_to = 0;
    for (int d = h->start; d < h->end; d++) {
        while (d >= MONTH_START[month + 1]) month++;
        if (s.month != month) shop_month(&s, month);
        if (d >= away_from) {
            away_to = d + (int)(AWAY_MIN + (AWAY_MAX - AWAY_MIN) * prefrec_rng_double(r));
            away_from = away_to +
                (int)(AWAY_GAP - log(1 - prefrec_rng_double(r)) * (AWAY_EVERY - AWAY_GAP));
        }
        if (d < away_to) continue;
        double p_trip = rate * w->day_mult[a][d];
        if (prefrec_rng_double(r) >= p_trip) continue;
        /* a trip: open a receipt */
        if (k->n_receipts == k->cap_receipts) {
            size_t cap = k->cap_receipts * 2;
            gen_receipt *np = realloc(k->receipts, sizeof *np * cap);
            if (!np) return PREFREC_E_NOMEM;
            k->receipts = np;
            k->cap_receipts = cap;
        }
        gen_receipt *rc = &k->receipts[k->n_receipts];
        memset(rc, 0, sizeof *rc);
        rc->day = (int16_t)d;
        rc->aff = (uint8_t)a;
        rc->first_line = (int32_t)k->n_lines;
        double p_online = ONLINE[a] * h->online;
        int online =
            a == 5 || (a != 3 && prefrec_rng_double(r) < (p_online > 0.9 ? 0.9 : p_online));
        rc->channel = (uint8_t)(online ? 2 : 1);
        if (online)
            rc->branch = -1;
        else {
            double u = prefrec_rng_double(r);
            rc->branch =
                (int16_t)(u < 0.8        ? h->branch[a][0]
                              : u < 0.95 ? h->branch[a][1]
                                         : (int)prefrec_rng_below(r, (uint32_t)w->n_branch[a]));
        }
        rc->hour = (uint8_t)hour_of(h, a, online, r);
        /* regulars that are due */
        for (int i = 0; i < k->n_rep; i++) {
            gen_rep *e = &k->rep[i];
            const gen_product *pr = &cat->products[e->product];
            double p;
            if (d < e->due)
                p = 0.03 * e->pmax; /* early now and then (an offer, passing by) */
            else {
                /* due: bought unless forgotten or bought elsewhere, more surely every day late */
                double over = (d - e->due) / e->interval;
                p = e->pmax + (0.97 - e->pmax) * (1 - exp(-2 * over));
            }
            /* out of season it waits (strawberries in summer); in season it comes sooner */
            double f = pr->season[month];
            if (f < 1) p *= f;
            if (prefrec_rng_double(r) >= p) continue;
            if (buy(&s, k, rc, e->product, d, r) < 0) return PREFREC_E_NOMEM;
            e->last = (int16_t)d;
            e->n++;
            e->due = (int16_t)(d + next_gap(r, e->interval) / (f > 1 ? sqrt(f) : 1));
            /* switched away now and then: mostly for a while (another brand, a pack from
             * elsewhere), rarely for good, and rarer for what is bought often; smokers stay */
            if (cat->products[e->product].top == w->top_cigarette) continue;
            double u = prefrec_rng_double(r);
            if (u < P_PAUSE) {
                e->due = (int16_t)(d + PAUSE_MIN + (PAUSE_MAX - PAUSE_MIN) * prefrec_rng_double(r));
            } else if (u < P_PAUSE +
                           (DROP_BASE + DROP_YEAR * e->interval / 365.0) * exp(-e->n / HABIT_N) *
                               CAT_LOYAL / (CAT_LOYAL + top_share(&s, pr->top)))
                k->rep[i--] = k->rep[--k->n_rep];
        }
        /* exploration (at least one line per receipt) */
        int n_exp = poisson(r, EXPLORE[a] * h->explore);
        if (n_exp == 0 && rc->n_lines == 0) n_exp = 1;
        for (int i = 0; i < n_exp; i++) {
            int p = explore_pick(&s, k, r);
            if (p < 0) continue;
            int got = buy(&s, k, rc, p, d, r);
            if (got < 0) return PREFREC_E_NOMEM;
            if (got) adopt(&s, k, p, d, r, 1);
        }
        /* payment: A04's December promotion (Lpay, 10,000 won or more, cigarettes excluded)
         * draws Lpay users and tops baskets up with other products */
        double lp = h->lpay_rate * LPAY_AFF[a];
        int promo = a == 3 && month == 11;
        if (promo) lp = h->lpay_rate > 0 ? 0.95 : 0.45;
        rc->lpay = prefrec_rng_double(r) < lp;
        if (promo && rc->lpay && prefrec_rng_double(r) < 0.85) {
            int64_t eligible = 0;
            for (int32_t i = rc->first_line; i < rc->first_line + rc->n_lines; i++)
                if (cat->products[k->lines[i].product].top != w->top_cigarette)
                    eligible += k->lines[i].amount;
            for (int tries = 0; eligible < 10000 && tries < 12; tries++) {
                int p = explore_pick(&s, k, r);
                if (p < 0 || cat->products[p].top == w->top_cigarette) continue;
                size_t before = k->n_lines;
                if (buy(&s, k, rc, p, d, r) < 0) return PREFREC_E_NOMEM;
                if (k->n_lines > before) eligible += k->lines[k->n_lines - 1].amount;
            }
        }
        if (rc->n_lines == 0) continue; /* nothing sold there (cannot happen with stock) */
        k->n_receipts++;
    }
    return PREFREC_OK;
}

static int cmp_receipt(const void *x, const void *y) {
    const gen_receipt *a = x, *b = y;
    if (a->day != b->day) return a->day - b->day;
    if (a->hour != b->hour) return a->hour - b->hour;
    if (a->aff != b->aff) return a->aff - b->aff;
    return a->first_line < b->first_line ? -1 : a->first_line > b->first_line;
}

prefrec_status gen_customer_simulate(const gen_world *w, uint32_t idx, gen_customer *c,
                                     gen_work *k) {
    prefrec_rng r;
    prefrec_rng_init(&r, w->seed, 0x100000ull + idx);
    /* M + 9 digits: an affine map mod 10^9 (multiplier coprime to 10^9) keeps ids unique */
    c->id = (uint32_t)(((uint64_t)idx * 738219353ull + 34966ull) % 1000000000ull);
    c->female = prefrec_rng_double(&r) < P_FEMALE;
    c->age = draw_weighted(&r, AGE_W, GEN_N_AGE);
    c->zone = draw_weighted(&r, ZONE_W, GEN_N_ZONE);
    c->buyer = prefrec_rng_double(&r) < P_BUYER;
    k->n_receipts = 0;
    k->n_lines = 0;
    if (!c->buyer) return PREFREC_OK;
    household h;
    draw_household(w, c, &h, &r);
    for (int a = 0; a < GEN_N_AFF; a++) {
        if (!h.member[a]) continue;
        /* each affiliate its own sub-stream: adding a shop elsewhere changes nothing here */
        prefrec_rng ra;
        prefrec_rng_init(&ra, w->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(a + 1)),
                         0x100000ull + idx);
        prefrec_status st = shop_affiliate(w, &h, a, k, &ra);
        if (st) return st;
    }
    qsort(k->receipts, k->n_receipts, sizeof *k->receipts, cmp_receipt);
    return PREFREC_OK;
}
