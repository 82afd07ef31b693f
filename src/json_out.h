/*
 * json_out.h -- a parsed document as JSON, written straight from the C structs.
 *
 * The keys of the Scene and Document contracts, null for absent values, [] for
 * empty lists, {} for no fields, without building Lua tables: `explainer parse
 * --json` on a 24 MB script is then a parse and one buffered write.
 */
#ifndef EXPLAINER_JSON_OUT_H
#define EXPLAINER_JSON_OUT_H

#include <stdio.h>

#include "parse.h"

/* Write doc as one line of JSON (no newline) to out. Returns 0, or -1 when a write
 * failed or memory ran out (errno tells which). */
int ex_json_write(FILE *out, const ex_document *doc);

/* s as a JSON string (quoted and escaped; NULL -> null), handed to emit in runs.
 * The one escaper of the project: the report and the progress events use it too. */
void ex_json_string(const char *s, void (*emit)(void *ctx, const char *p, size_t n),
                    void *ctx);

#endif
