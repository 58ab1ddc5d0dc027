/* prefrec/demog.h - the customer's demographics, read the same way everywhere: by the loaders
 * (CSV columns), the trainer, the JSON API of the engine and, through the wasm exports, the JS
 * shim. One definition of what a gender or an age looks like, and of the segment they make.
 *
 *   int g = prefrec_gender_parse("여성", 6);               // PREFREC_GENDER_FEMALE
 *   float age;  prefrec_age_parse("30대", 6, &age);         // 35: the band's middle
 *   int seg = prefrec_segment(g, age);                     // 2 * 11 + 3
 *
 * Portable, no state; thread-safe. */
#ifndef PREFREC_DEMOG_H
#define PREFREC_DEMOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { PREFREC_GENDER_UNKNOWN = -1, PREFREC_GENDER_MALE = 0, PREFREC_GENDER_FEMALE = 1 };

/* Gender from text (ASCII case ignored, spaces and tabs around it trimmed): "남성", "M", "male",
 * "0" -> MALE; "여성", "F", "female", "1" -> FEMALE; "", "U", "unknown" -> UNKNOWN; -2 if none. */
int prefrec_gender_parse(const char *s, size_t len);

/* Age in years from a number ("37", "37.5", at most PREFREC_AGE_MAX) or a band: "20대" or "20s"
 * -> 25 (the decade's middle), "25-34" -> 29.5, "65+" -> 70 (lower bound + 5). Returns 0 and
 * sets *age, or -1 if not recognised. */
#define PREFREC_AGE_MAX 130
int prefrec_age_parse(const char *s, size_t len, float *age);

/* The customer segment the popularity tables are kept by: gender (unknown, male, female) x age
 * decade (0-9, 90 and over in 9, 10 unknown): 0 .. PREFREC_N_SEGMENTS-1. age NaN: unknown. */
#define PREFREC_N_SEGMENTS 33
int prefrec_segment(int gender, float age);

#ifdef __cplusplus
}
#endif
#endif
