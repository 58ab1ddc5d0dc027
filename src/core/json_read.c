/* json_read.c - strict JSON parsing (json_read.h). */
#include "json_read.h"

cJSON *prefrec_json_parse_strict(const char *text, size_t len, size_t *at) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    for (const char *q = end; j && q && q < text + len; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            cJSON_Delete(j);
            j = NULL;
            end = q;
            break;
        }
    *at = end && end >= text ? (size_t)(end - text) : 0;
    return j;
}
