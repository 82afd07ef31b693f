/*
 * worker.h -- one scene in its own process, and the run's signal handling.
 *
 * A worker is a fork of the running program: the processor runs there with a
 * copy of everything (the Lua state included), so a crash, an os.exit or a
 * corrupted state ends only that process. The child is the leader of its own
 * process group; the outcome travels back through a pipe; its stdout and
 * stderr come back through pipes too and are relayed whole lines at a time, so
 * the output of N workers never mixes within a line.
 */
#ifndef EXPLAINER_WORKER_H
#define EXPLAINER_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "outcome.h"
#include "util.h"

typedef struct ex_relay {
    int fd;          /* read end, -1 when closed */
    int target;      /* 1 or 2 in the parent */
    ex_buf buf;      /* what was read and not yet passed on */
} ex_relay;

typedef struct ex_worker {
    pid_t pid;               /* 0: slot free */
    int result_fd;           /* read end of the outcome pipe, -1 when closed */
    ex_buf result;           /* raw outcome bytes read so far */
    ex_relay out, err;
    bool reaped;
    int status;              /* waitpid status once reaped */
    size_t record;           /* which scene record it serves */
    int attempt;
    double started, deadline;    /* deadline 0: none */
    bool timed_out, killed;
} ex_worker;

/* Runs in the child: fills *out. */
typedef void (*ex_worker_body)(void *arg, ex_outcome *out);

/*
 * Fork a worker running body(arg). close_fds are descriptors the child must not
 * keep (other workers' pipes, scene locks). Returns 0, or -1 with errno.
 */
int ex_worker_start(ex_worker *w, ex_worker_body body, void *arg,
                    const int *close_fds, size_t n_close);

/* Read what is available on the worker's pipes (non-blocking). */
void ex_worker_pump(ex_worker *w);

/* The worker has exited or was killed: drain, close, and decode its outcome
 * into *out (a failure with a message for a crash, an exit or a timeout). */
void ex_worker_finish(ex_worker *w, double timeout, ex_outcome *out);

/* Kill a worker and every process it started, whatever process group or
 * session they moved to (found through /proc), then reap it. */
void ex_worker_kill(ex_worker *w);

#endif
