/*
 * report.h -- JSON for the run's outside world: progress events (one a line)
 * and <out>/<name>/report.json. A small growable buffer and a JSON string
 * escaper; no Lua, no JSON library.
 */
#ifndef EXPLAINER_REPORT_H
#define EXPLAINER_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "orchestrate.h"

typedef struct ex_buf {
    char *data;
    size_t len, cap;
    bool failed;    /* out of memory: the contents are incomplete */
} ex_buf;

void ex_buf_printf(ex_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ex_buf_json_string(ex_buf *b, const char *s);   /* NULL -> null */
void ex_buf_free(ex_buf *b);

const char *ex_scene_state_name(ex_scene_state state);

/* Write the report of a run to `path` (through a temporary file and rename, so
 * a reader never sees half of one). 0, or -1 with errno. */
int ex_report_write(const char *path, const ex_document *doc,
                    const ex_run_options *opts, const ex_stats *stats);

#endif
