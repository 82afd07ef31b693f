/*
 * run.h -- the run's state, shared by orchestrate.c (one scene's life, the
 * run in this process) and pool.c (the same scenes in worker processes).
 * Private to the core: nothing outside these two files includes it.
 */
#ifndef EXPLAINER_RUN_H
#define EXPLAINER_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "journal.h"
#include "orchestrate.h"
#include "report.h"

typedef enum sched_state { S_TODO = 0, S_WAIT, S_RUNNING, S_DONE } sched_state;

typedef struct run {
    const ex_document *doc;
    const ex_run_options *opts;
    ex_process_fn process;
    void *ctx;
    ex_stats *stats;
    ex_progress pr;
    char *state_dir;
    char *journal_path;
    ex_journal journal;
    int lock_fd;        /* the workflow's lock file; -1: runs unlocked */
    bool *locked;       /* per record: we hold its lock */
    sched_state *sched; /* per record */
    double *not_before; /* per record: when its retry may start */
    int cwd_fd;         /* the run's folder, restored after each scene */
    size_t ordinal;     /* scenes reached, for [i/n] */
    size_t finished;    /* scenes reached and settled */
    size_t processed;
    double last_start;
    off_t planned_foreign; /* other runs' journal bytes read when the plan was made */
    bool stop;             /* no new scenes: abort-on-error, interrupt, fatal */
    uint64_t rng;
} run;

/* orchestrate.c: a scene's steps, each used by both ways of running it. */
bool ex_run_acquire(run *r, size_t i);
void ex_run_release(run *r, size_t i);
bool ex_run_emit_start(run *r, ex_scene_record *rec, int attempt);
bool ex_run_record_attempt(run *r, ex_scene_record *rec, ex_outcome *out, double seconds);
void ex_run_settle(run *r, size_t i, ex_scene_state state);
double ex_run_backoff(run *r, int attempt);
double ex_run_rate_next(const run *r);
int ex_run_make_dir_below(const char *base, const char *dir, bool parent_checked,
                          char **why);
void ex_run_stdout_gone(run *r);
void ex_run_emit_skip(run *r, ex_scene_record *rec, ex_scene_state state);

/* pool.c: jobs > 1 or a timeout: each scene in a worker process. */
void ex_run_workers(run *r);

#endif
