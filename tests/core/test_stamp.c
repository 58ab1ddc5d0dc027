/* test_stamp.c - stamp board on a hand-worked catalogue. */
#include "check.h"
#include "prefrec/stamp.h"

int main(void) {
    /* 12 products in 4 categories (and one without):
     * cat 0: p0 4.0, p1 3.0, p2 2.0         mean 3.0
     * cat 1: p3 1.0, p4 5.0                 mean 3.0 (tie with 0 -> cat 0 first)
     * cat 2: p5 0.5, p6 0.5, p7 0.5         mean 0.5
     * cat 3: p8 4.5, p9 4.25, p10 0.25       mean 3.0 (tie -> after 0 and 1)
     * p11: no category, score 9 (ignored) */
    const float s[12] = {4.0f, 3.0f, 2.0f, 1.0f, 5.0f, 0.5f, 0.5f, 0.5f, 4.5f, 4.25f, 0.25f, 9.0f};
    const int32_t cat[12] = {0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3, -1};
    const uint8_t bought[12] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
    prefrec_stamp_category board[5];
    size_t m = 0;
    prefrec_error err = {0};

    /* per_cat 2: every category can fill 2 -> order by mean then index: 0, 1, 3, 2 */
    CHECK_EQ_INT(prefrec_stamp_board(s, bought, cat, 12, 4, 5, 2, board, &m, &err), PREFREC_OK);
    CHECK_EQ_INT(m, 4);
    CHECK_EQ_INT(board[0].category, 0);
    CHECK_EQ_INT(board[1].category, 1);
    CHECK_EQ_INT(board[2].category, 3);
    CHECK_EQ_INT(board[3].category, 2);
    CHECK_NEAR(board[0].mean_score, 3.0, 1e-6);
    /* cat 0: p0 is bought, so never-bought p1, p2 */
    CHECK_EQ_INT(board[0].n_products, 2);
    CHECK_EQ_INT(board[0].products[0].index, 1);
    CHECK_EQ_INT(board[0].products[1].index, 2);
    /* cat 2: ties at 0.5 -> lower index first */
    CHECK_EQ_INT(board[3].products[0].index, 5);
    CHECK_EQ_INT(board[3].products[1].index, 6);

    /* per_cat 3: cat 1 has only 2 products, so it ranks after the fillable ones (0, 3, 2);
     * cat 3 fills with bought p9 last */
    CHECK_EQ_INT(prefrec_stamp_board(s, bought, cat, 12, 4, 3, 3, board, &m, &err), PREFREC_OK);
    CHECK_EQ_INT(m, 3);
    CHECK_EQ_INT(board[0].category, 0);
    CHECK_EQ_INT(board[1].category, 3);
    CHECK_EQ_INT(board[2].category, 2);
    CHECK_EQ_INT(board[0].n_products, 3);
    CHECK_EQ_INT(board[0].products[2].index, 0); /* bought p0 fills the third slot */
    CHECK_EQ_INT(board[0].bought[2], 1);
    CHECK_EQ_INT(board[1].products[0].index, 8);
    CHECK_EQ_INT(board[1].products[1].index, 10);
    CHECK_EQ_INT(board[1].products[2].index, 9);
    CHECK_EQ_INT(board[1].bought[2], 1);

    /* errors */
    CHECK_EQ_INT(prefrec_stamp_board(s, NULL, cat, 12, 4, 5, 99, board, &m, &err), PREFREC_E_INVAL);
    CHECK_CONTAINS(err.msg,
                   "need at least 1 category and 1..16 products per category, got 5 and 99");
    const int32_t none[3] = {-1, -1, -1};
    CHECK_EQ_INT(prefrec_stamp_board(s, NULL, none, 3, 4, 5, 5, board, &m, &err), PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "no product has a category");
    /* a catalogue without categories says so (issue 21: it said "need 1..16 products ...") */
    CHECK_EQ_INT(prefrec_stamp_board(s, NULL, none, 3, 0, 5, 5, board, &m, &err), PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "the catalogue has no categories");
    CHECK_EQ_INT(m, 0);
    const int32_t bad[2] = {0, 7};
    CHECK_EQ_INT(prefrec_stamp_board(s, NULL, bad, 2, 4, 5, 5, board, &m, &err), PREFREC_E_INVAL);
    CHECK_CONTAINS(err.msg, "category 7");
    return check_report("test_stamp");
}
