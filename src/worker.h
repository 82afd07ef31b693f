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

/*
 * Output of the workers on its way to the run's stdout and stderr: whole
 * lines, written when the target can take them, so that a slow reader of the
 * run's output never stalls the run (nor makes healthy scenes time out).
 */
typedef struct ex_outbox {
    ex_buf pending[2];   /* for fd 1 and fd 2 */
    size_t sent[2];      /* bytes of pending[] already written */
    bool closed[2];      /* the reader went away (EPIPE): output dropped */
} ex_outbox;

/* Bytes waiting for their target. */
size_t ex_outbox_pending(const ex_outbox *o);
/* Does fd (1 or 2) have bytes waiting? */
bool ex_outbox_waiting(const ex_outbox *o, int fd);
/* Write what the targets take now, without waiting. */
void ex_outbox_send(ex_outbox *o);
/* Write all of it, waiting as long as it takes (the run's end). */
void ex_outbox_flush(ex_outbox *o);
void ex_outbox_free(ex_outbox *o);

typedef struct ex_relay {
    int fd;          /* read end, -1 when closed */
    int target;      /* 1 or 2 in the parent */
    ex_buf buf;      /* what was read and not yet passed on */
    ex_outbox *box;  /* where whole lines go */
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
                    const int *close_fds, size_t n_close, ex_outbox *box);

/* Read what is available on the worker's pipes (non-blocking); its output
 * only with `output` (false: leave it in the pipe, the outbox is full). */
void ex_worker_pump(ex_worker *w, bool output);

/* The worker has exited or was killed: drain, close, and decode its outcome
 * into *out (a failure with a message for a crash, an exit or a timeout). */
void ex_worker_finish(ex_worker *w, double timeout, ex_outcome *out);

/* Kill a worker and every process it started, whatever process group or
 * session they moved to (found through /proc), then reap it. */
void ex_worker_kill(ex_worker *w);

#endif
