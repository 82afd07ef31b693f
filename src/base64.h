/*
 * base64.h -- RFC 4648 base64 decoding, for image APIs that answer in
 * base64 (OpenAI's b64_json, data: URLs). Plain C, no Lua.
 */
#ifndef EXPLAINER_BASE64_H
#define EXPLAINER_BASE64_H

#include <stddef.h>

/* Room enough for the bytes of len characters of base64. */
size_t ex_base64_decoded_max(size_t len);

/*
 * Decode text[0..len) into out (at least ex_base64_decoded_max(len) bytes).
 * Both alphabets (standard "+/" and URL-safe "-_") are read; whitespace
 * (space, tab, CR, LF, FF, VT) anywhere is skipped; the "=" padding is
 * optional but, when present, must be right (one or two, only at the end).
 * Returns 0 with *out_len set, or -1 with *errmsg a malloc'd message
 * ("invalid base64: character '%' at offset 12"; NULL when out of memory).
 */
int ex_base64_decode(const char *text, size_t len, unsigned char *out, size_t *out_len,
                     char **errmsg);

#endif
