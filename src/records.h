/*
 * records.h -- what a run is asked to do and what became of each scene: the
 * run's options, the scene records and the stats. Plain data, below the
 * orchestrator (which fills them) and the report (which prints them).
 */
#ifndef EXPLAINER_RECORDS_H
#define EXPLAINER_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inputs.h"
#include "parse.h"

typedef enum ex_progress_mode {
    EX_PROGRESS_AUTO = 0,   /* plain lines, with time left on a terminal */
    EX_PROGRESS_PLAIN,
    EX_PROGRESS_JSON,       /* one JSON event per line */
    EX_PROGRESS_QUIET
} ex_progress_mode;

struct ex_scene_record;

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
    bool wait_for_others;        /* before returning, wait for the scenes left to
                                    another run (the workflow's finish joins them) */
    /* What each scene's output depends on (indexed like doc->scenes), as the
     * canonical lines of inputs.h, from a workflow's inputs(scene); NULL, or a
     * NULL entry: the parsed scene's own parts. */
    const char *const *inputs;
    const size_t *inputs_len;
    /* The key id each scene's output file should record in its .NAME.key
     * (indexed like doc->scenes; NULL, or a NULL entry: none known). An
     * output with no record in this workflow's journal but a key file
     * (another workflow made it) is fresh only when the ids match. */
    const char *const *output_keys;
    /* Called from the SIGINT/SIGTERM handler (async-signal context), so that a
     * processor running in this process can be stopped. */
    void (*on_interrupt)(void *ctx);
    void *interrupt_ctx;
    /* Told of each scene as the progress is (report.c): `event` is the word of
     * its JSON event ("start", "retry", "done", "failed", "skipped",
     * "locked"), `settled` how many scenes are done, failed, skipped or
     * locked so far. Called in the run's own process, never from a worker, in
     * every progress mode; e.g. to keep a page about the run up to date. */
    void (*on_scene)(void *ctx, const struct ex_scene_record *rec, const char *event,
                     size_t settled);
    void *scene_ctx;
    /* The scenes on_scene follows (ascending; NULL: all). Of the others it is
     * told of one event a second at most: following a page's few scenes costs
     * a run of many quick ones nothing. */
    const long *on_scene_numbers;
    size_t n_on_scene_numbers;
} ex_run_options;

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
    const char *output_key;  /* the id its output should record, or NULL */
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

const char *ex_standing_name(ex_standing standing);

#endif
