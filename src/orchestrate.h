/*
 * orchestrate.h -- the run: select scenes, skip, dispatch, record, count.
 *
 * Plain C, no Lua. The processor is a callback; the Lua binding passes the
 * user's process_scene in through it. The callback fills an ex_outcome, so the
 * same interface serves a call in this process or in a worker process (the
 * outcome's bytes are what travels back from a worker).
 */
#ifndef EXPLAINER_ORCHESTRATE_H
#define EXPLAINER_ORCHESTRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "parse.h"

/* What a processor reports for one scene. Strings are malloc'd and owned by
 * the orchestrator once the callback returns. */
typedef struct ex_outcome {
    bool ok;
    char *error;        /* failure message (ok == false), may be NULL */
    char *result;       /* opaque serialized return value, may be NULL */
    size_t result_len;
} ex_outcome;

typedef void (*ex_process_fn)(void *ctx, const ex_document *doc,
                              const ex_scene *scene, const char *output_dir,
                              ex_outcome *out);

typedef enum ex_progress_mode {
    EX_PROGRESS_AUTO = 0,   /* live line on a terminal, plain lines otherwise */
    EX_PROGRESS_PLAIN,
    EX_PROGRESS_JSON,       /* one JSON event per line */
    EX_PROGRESS_QUIET
} ex_progress_mode;

typedef struct ex_run_options {
    const long *scene_numbers;   /* NULL: every scene */
    size_t n_scene_numbers;
    bool skip_existing;          /* default true */
    const char *output_base_dir; /* default "output" */
    const char *output_filename; /* default "final.png" */
    bool continue_on_error;      /* default true */
    ex_progress_mode progress;
    int progress_fd;             /* default 2 (stderr) */
} ex_run_options;

/* Fill the defaults of DESIGN.md. */
void ex_run_options_init(ex_run_options *opts);

typedef enum ex_scene_state {
    EX_SCENE_PENDING = 0,   /* not reached (abort) */
    EX_SCENE_COMPLETED,
    EX_SCENE_SKIPPED,
    EX_SCENE_FAILED
} ex_scene_state;

typedef struct ex_scene_record {
    long scene_number;
    const ex_scene *scene;   /* points into the document */
    ex_scene_state state;
    int attempts;
    double seconds;          /* wall time of the processor call(s) */
    char *output_dir;
    char *error;             /* NULL unless failed */
    char *result;            /* from ex_outcome */
    size_t result_len;
} ex_scene_record;

typedef struct ex_stats {
    size_t total, completed, skipped, failed;
    double elapsed_time;
    ex_scene_record *records;   /* selected scenes, in run order */
    size_t n_records;
} ex_stats;

/*
 * Run `process` over the selected scenes of `doc`. Returns 0 when the run took
 * place (scenes may have failed: see stats), -1 when it was refused before any
 * scene ran (duplicate scene numbers, an output folder that cannot be made);
 * then *errmsg is a malloc'd one-line message. `stats` is always initialised
 * and must be released with ex_stats_free.
 */
int ex_orchestrate(const ex_document *doc, const ex_run_options *opts,
                   ex_process_fn process, void *ctx, ex_stats *stats,
                   char **errmsg);

void ex_stats_free(ex_stats *stats);

/* "<base>/<name>/scene_NN" (two digits at least). malloc'd; NULL on OOM. */
char *ex_scene_output_dir(const char *base, const char *name, long number);

/* Does dir/filename exist (as anything but a directory)? */
bool ex_output_exists(const char *dir, const char *filename);

/* mkdir -p. Returns 0, or -1 with errno set. */
int ex_mkdir_p(const char *path);

/* Monotonic seconds. */
double ex_now(void);

#endif
