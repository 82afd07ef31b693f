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
#include <stdint.h>

#include "parse.h"

/* What a processor reports for one scene. Strings are malloc'd and owned by
 * the orchestrator once the callback returns. */
typedef struct ex_outcome {
    bool ok;
    char *error;        /* failure message (ok == false), may be NULL */
    char *result;       /* opaque serialized return value, may be NULL */
    size_t result_len;
    bool in_worker;     /* set by the orchestrator: the call runs in a worker
                           process, so a return value must travel as `result` */
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

    /* Workers, limits and resume (see docs/runs.md). */
    int jobs;                    /* worker processes; 1 (default) and no timeout:
                                    the processor runs in this process */
    double timeout;              /* seconds a scene may run; 0: no limit */
    int retries;                 /* further attempts of a failed scene (0) */
    double retry_delay;          /* first backoff, seconds (1); doubles, jittered */
    double rate;                 /* scene starts a second, all workers; 0: no limit */
    int shard_index, shard_count;/* 1-based K of N; 0, 0: every scene */
    bool dry_run;                /* say what would run and why; run nothing */
    int plan_fd;                 /* where the dry run's list goes (1) */
    bool write_report;           /* <out>/<name>/report.json (true) */
    /* What matters to each scene (indexed like doc->scenes), from a workflow's
     * inputs(scene); NULL, or a NULL entry: the parsed scene's content. */
    const char *const *inputs;
    const size_t *inputs_len;
    /* Called from the SIGINT/SIGTERM handler (async-signal context), so that a
     * processor running in this process can be stopped. */
    void (*on_interrupt)(void *ctx);
    void *interrupt_ctx;
} ex_run_options;

/* Fill the defaults of DESIGN.md. */
void ex_run_options_init(ex_run_options *opts);

typedef enum ex_scene_state {
    EX_SCENE_PENDING = 0,   /* not reached (abort, interrupt), or a dry run's "would run" */
    EX_SCENE_COMPLETED,
    EX_SCENE_SKIPPED,
    EX_SCENE_FAILED,
    EX_SCENE_LOCKED         /* another run was processing it */
} ex_scene_state;

typedef struct ex_attempt {
    double seconds;
    char *error;             /* NULL when the attempt succeeded */
} ex_attempt;

typedef struct ex_scene_record {
    long scene_number;
    const ex_scene *scene;   /* points into the document */
    ex_scene_state state;
    const char *reason;      /* why it ran or not: "missing", "changed",
                                "incomplete", "failed", "forced", "done",
                                "exists", "done by another run",
                                "locked by another run", "interrupted", ... */
    int attempts;
    double seconds;          /* wall time of the processor call(s) */
    char *output_dir;
    char *error;             /* NULL unless failed */
    char *result;            /* from ex_outcome (worker runs) */
    size_t result_len;
    ex_attempt *attempt_log; /* `attempts` entries */
    uint64_t inputs;         /* the input hash the journal records */
    size_t index;            /* 1-based position in the run's progress */
} ex_scene_record;

typedef struct ex_stats {
    size_t total, completed, skipped, failed, locked;
    double elapsed_time;
    int interrupted;            /* 0, or the signal that stopped the run */
    bool dry_run;
    ex_scene_record *records;   /* selected scenes, in file order */
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

/* Each selected scene's standing according to the journal and the outputs:
 * reason is one of "done", "changed", "missing", "incomplete", "failed",
 * "running", "exists" (done without a journal), "not run". Fills stats like a
 * dry run (no scene runs). Returns 0, or -1 with *errmsg. */
int ex_status(const ex_document *doc, const ex_run_options *opts,
              ex_stats *stats, char **errmsg);

/* "60/min", "2/s", "100/hour", "0.5" (a second) -> starts a second. 0 or -1. */
int ex_parse_rate(const char *spec, double *per_second);

/* "K/N" with 1 <= K <= N. 0 or -1. */
int ex_parse_shard(const char *spec, int *index, int *count);

/* <base>/<name>/.explainer, where the journal and the locks live. malloc'd. */
char *ex_state_dir(const char *base, const char *name);

/* "<base>/<name>/scene_NN" (two digits at least). malloc'd; NULL on OOM. */
char *ex_scene_output_dir(const char *base, const char *name, long number);

/* Does dir/filename exist (as anything but a directory)? */
bool ex_output_exists(const char *dir, const char *filename);

/* mkdir -p. Returns 0, or -1 with errno set. */
int ex_mkdir_p(const char *path);

/* Monotonic seconds. */
double ex_now(void);

#endif
