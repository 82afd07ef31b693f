/*
 * orchestrate.h -- the run: select scenes, decide, dispatch, record, count.
 *
 * Plain C, no Lua. The processor is a callback (outcome.h); the Lua binding
 * passes the user's process_scene in through it.
 *
 * Whether a scene runs is decided in one place, ex_scene_standing(), from the
 * workflow's journal, the scene's output file and the scene's inputs (its key
 * and parts, inputs.h). Every run, dry run and status uses it, with one
 * vocabulary: "new", "fresh", "exists" (output there, no record: made before
 * the journal or by hand), "missing <file>", "changed: <parts>",
 * "incomplete" (started, never finished), "failed", "forced" (--no-skip);
 * status and dry runs add "running" (another run holds the scene).
 */
#ifndef EXPLAINER_ORCHESTRATE_H
#define EXPLAINER_ORCHESTRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inputs.h"
#include "outcome.h"
#include "parse.h"

typedef enum ex_progress_mode {
    EX_PROGRESS_AUTO = 0,   /* plain lines, with time left on a terminal */
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
    const char *workflow;        /* names the journal and the locks ("default") */
    bool continue_on_error;      /* default true */
    ex_progress_mode progress;
    int progress_fd;             /* default 2 (stderr) */

    /* Workers, limits and resume. */
    int jobs;                    /* worker processes; 1 (default) and no timeout:
                                    the processor runs in this process */
    double timeout;              /* seconds a scene may run; 0: no limit */
    int retries;                 /* further attempts of a failed scene (0) */
    double retry_delay;          /* first backoff, seconds (1); doubles, jittered */
    double rate;                 /* scene starts a second, all workers; 0: no limit */
    int shard_index, shard_count;/* 1-based K of N; 0, 0: every scene */
    bool dry_run;                /* say what would run and why; run nothing */
    bool durable;                /* sync each "started" record before its scene */
    int plan_fd;                 /* where the dry run's list goes (1) */
    bool plan_json;              /* the dry run's list as one JSON array */
    bool write_report;           /* <out>/<name>/report.json (true) */
    /* What each scene's output depends on (indexed like doc->scenes), as the
     * canonical lines of inputs.h, from a workflow's inputs(scene); NULL, or a
     * NULL entry: the parsed scene's own parts. */
    const char *const *inputs;
    const size_t *inputs_len;
    /* Called from the SIGINT/SIGTERM handler (async-signal context), so that a
     * processor running in this process can be stopped. */
    void (*on_interrupt)(void *ctx);
    void *interrupt_ctx;
} ex_run_options;

/* Fill the defaults of DESIGN.md. */
void ex_run_options_init(ex_run_options *opts);

/* Check the values (jobs >= 1, 1 <= K <= N, rate >= 0, a usable workflow name
 * and output folder...). 0, or -1 with a malloc'd one-line *errmsg. */
int ex_run_options_check(const ex_run_options *opts, char **errmsg);

typedef enum ex_scene_state {
    EX_SCENE_PENDING = 0,   /* not reached (abort, interrupt), or a dry run's "would run" */
    EX_SCENE_COMPLETED,
    EX_SCENE_SKIPPED,
    EX_SCENE_FAILED,
    EX_SCENE_LOCKED         /* another run was processing it */
} ex_scene_state;

typedef enum ex_standing {
    EX_STANDING_NEW = 0,
    EX_STANDING_FRESH,
    EX_STANDING_EXISTS,
    EX_STANDING_MISSING,
    EX_STANDING_CHANGED,
    EX_STANDING_INCOMPLETE,
    EX_STANDING_FAILED,
    EX_STANDING_FORCED
} ex_standing;

typedef struct ex_attempt {
    double seconds;
    char *error;             /* NULL when the attempt succeeded */
} ex_attempt;

typedef struct ex_scene_record {
    long scene_number;
    const ex_scene *scene;   /* points into the document */
    ex_scene_state state;
    ex_standing standing;    /* where it stood when the run looked */
    char *reason;            /* why it ran or not, for people (see above);
                                also "done by another run", "locked by another
                                run", "interrupted", "not reached" */
    int attempts;
    double seconds;          /* wall time of the processor call(s) */
    char *output_dir;
    char *error;             /* NULL unless failed */
    char *result;            /* from ex_outcome (worker runs) */
    size_t result_len;
    ex_attempt *attempt_log; /* `attempts` entries */
    ex_inputs inputs;        /* the key and parts the journal records */
    const char *inputs_text; /* the lines they come from (NULL: the scene) */
    size_t inputs_len;
    size_t index;            /* 1-based position in the run's progress */
} ex_scene_record;

typedef struct ex_stats {
    size_t total, completed, skipped, failed, locked;
    double elapsed_time;
    int interrupted;            /* 0, or the signal that stopped the run */
    bool dry_run;
    char *fatal;                /* the run could not go on (the journal could not
                                   be written): why; the CLI exits 1 with it */
    ex_scene_record *records;   /* selected scenes, in file order */
    size_t n_records;
} ex_stats;

/*
 * Run `process` over the selected scenes of `doc`. Returns 0 when the run took
 * place (scenes may have failed, and stats->fatal may say the run had to
 * stop), -1 when it was refused before any scene ran (duplicate scene
 * numbers, an output folder that cannot be made); then *errmsg is a malloc'd
 * one-line message. `stats` is always initialised and must be released with
 * ex_stats_free.
 */
int ex_orchestrate(const ex_document *doc, const ex_run_options *opts,
                   ex_process_fn process, void *ctx, ex_stats *stats,
                   char **errmsg);

void ex_stats_free(ex_stats *stats);

/* Each selected scene's standing, as a dry run sees it, adding "running" for a
 * scene another run holds; no scene runs. Returns 0, or -1 with *errmsg. */
int ex_status(const ex_document *doc, const ex_run_options *opts,
              ex_stats *stats, char **errmsg);

/* <base>/<name>/.explainer/<workflow>, where the journal and the locks live. */
char *ex_state_dir(const char *base, const char *name, const char *workflow);

/* "<base>/<name>/scene_NN" (two digits at least). malloc'd; NULL on OOM. */
char *ex_scene_output_dir(const char *base, const char *name, long number);

/* Does dir/filename exist (as anything but a directory)? */
bool ex_output_exists(const char *dir, const char *filename);

const char *ex_standing_name(ex_standing standing);

#endif
