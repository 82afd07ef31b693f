/*
 * pool.c -- the run's scenes in worker processes (jobs > 1 or a timeout):
 * `jobs` at a time, each in its own process (worker.c), their output relayed
 * without ever blocking the run, retries when due, deadlines, interrupts.
 * A scene's own steps (lock, journal, settle) are orchestrate.c's (run.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"
#include "signals.h"
#include "standing.h"
#include "util.h"
#include "worker.h"

typedef struct worker_job {
    run *r;
    ex_scene_record *rec;
} worker_job;

static void worker_body(void *arg, ex_outcome *out)
{
    worker_job *job = arg;
    run *r = job->r;
    r->process(r->ctx, r->doc, job->rec->scene, job->rec->output_dir, out);
}

/* Workers' output the run holds for a slow reader before it stops reading
 * them (they then wait on their pipes). */
#define OUTBOX_CAP (16u << 20)

typedef struct pool {
    ex_worker *workers;
    int jobs;
    int *close_fds;
    struct pollfd *fds;
    size_t cursor; /* next record never started */
    ex_outbox box; /* the workers' output on its way out */
} pool;

static void fail_to_start(run *r, size_t i, char *error)
{
    ex_outcome out = {false, error, NULL, 0, false};
    ex_run_record_attempt(r, &r->stats->records[i], &out, 0);
    ex_run_settle(r, i, EX_SCENE_FAILED);
}

/* Start record i (attempt) in the free worker slot w. */
static void start_worker(run *r, pool *p, ex_worker *w, size_t i, int attempt)
{
    ex_scene_record *rec = &r->stats->records[i];
    if (!ex_run_emit_start(r, rec, attempt)) {
        r->sched[i] = S_TODO;
        return;
    }
    /* The child keeps none of the run's descriptors: not the journal, not the
     * lock file (closing a copy releases no lock: the run holds them), not
     * the other workers' pipes. */
    size_t n_close = 0;
    p->close_fds[n_close++] = r->journal.fd;
    p->close_fds[n_close++] = r->lock_fd;
    p->close_fds[n_close++] = r->cwd_fd;
    for (int k = 0; k < p->jobs; k++) {
        if (p->workers[k].pid <= 0)
            continue;
        p->close_fds[n_close++] = p->workers[k].result_fd;
        p->close_fds[n_close++] = p->workers[k].out.fd;
        p->close_fds[n_close++] = p->workers[k].err.fd;
    }
    r->sched[i] = S_RUNNING;
    w->record = i;
    w->attempt = attempt;
    w->started = ex_now();
    w->deadline = r->opts->timeout > 0 ? w->started + r->opts->timeout : 0;
    w->pid = 0;
    char *why;
    if (ex_run_make_dir_below(r->opts->output_base_dir, rec->output_dir, true, &why) !=
        0) {
        fail_to_start(r, i, why);
        return;
    }
    worker_job job = {r, rec};
    if (ex_worker_start(w, worker_body, &job, p->close_fds, n_close, &p->box) != 0) {
        w->pid = 0;
        fail_to_start(r, i, ex_format("cannot start a worker: %s", strerror(errno)));
    }
}

/* A worker ended (or was killed): record, then settle or schedule a retry. */
static void worker_done(run *r, ex_worker *w)
{
    size_t i = w->record;
    ex_scene_record *rec = &r->stats->records[i];
    double seconds = ex_now() - w->started;
    bool interrupted = w->killed;
    ex_outcome out;
    ex_worker_finish(w, r->opts->timeout, &out);
    if (interrupted) {
        free(out.error);
        free(out.result);
        r->sched[i] = S_TODO; /* stays undone: its journal record says "started" */
        ex_set_reason(rec, "interrupted");
        ex_run_release(r, i);
        return;
    }
    if (ex_run_record_attempt(r, rec, &out, seconds)) {
        ex_run_settle(r, i, EX_SCENE_COMPLETED);
    } else if (rec->attempts <= r->opts->retries && !ex_signals_interrupted() &&
               !r->stats->fatal) {
        double delay = ex_run_backoff(r, rec->attempts);
        ex_progress_retry(&r->pr, rec, delay);
        r->sched[i] = S_WAIT; /* keeps its lock through the backoff */
        r->not_before[i] = ex_now() + delay;
    } else {
        ex_run_settle(r, i, EX_SCENE_FAILED);
    }
}

/* Kill what overran its deadline (or everything, on an interrupt); settle
 * what exited. Returns how many still run. */
static int reap_workers(run *r, pool *p, bool *interrupt_handled)
{
    double now = ex_now();
    if (ex_signals_interrupted() && !*interrupt_handled) {
        *interrupt_handled = true;
        r->stop = true;
        for (int k = 0; k < p->jobs; k++)
            if (p->workers[k].pid > 0) {
                p->workers[k].killed = true;
                ex_worker_kill(&p->workers[k]);
            }
    }
    int running = 0;
    for (int k = 0; k < p->jobs; k++) {
        ex_worker *w = &p->workers[k];
        if (w->pid <= 0)
            continue;
        if (!w->reaped && w->deadline > 0 && now >= w->deadline) {
            w->timed_out = true;
            ex_worker_kill(w);
        }
        if (!w->reaped && waitpid(w->pid, &w->status, WNOHANG) == w->pid)
            w->reaped = true;
        if (w->reaped)
            worker_done(r, w);
        else
            running++;
    }
    return running;
}

/* The record to start next: a due retry first, then the next scene in file
 * order that is ours to run; SIZE_MAX for none. *wake moves to the earliest
 * retry that is not due yet. */
static size_t next_record(run *r, pool *p, double *wake)
{
    ex_stats *stats = r->stats;
    for (size_t i = 0; i < stats->n_records; i++)
        if (r->sched[i] == S_WAIT) {
            if (r->not_before[i] <= ex_now())
                return i;
            if (r->not_before[i] < *wake)
                *wake = r->not_before[i];
        }
    while (!r->stop && p->cursor < stats->n_records) {
        size_t i = p->cursor++;
        if (r->sched[i] == S_TODO && ex_run_acquire(r, i))
            return i;
    }
    return SIZE_MAX;
}

/* Fill the free worker slots; returns how many were started. */
static int start_due(run *r, pool *p, double *wake)
{
    int started = 0;
    for (int k = 0; k < p->jobs && !ex_signals_interrupted(); k++) {
        ex_worker *w = &p->workers[k];
        if (w->pid > 0)
            continue;
        size_t pick = next_record(r, p, wake);
        if (pick == SIZE_MAX)
            break;
        double at = ex_run_rate_next(r);
        if (at > ex_now()) {
            /* Not yet: put it back where it will be found first. */
            r->sched[pick] = S_WAIT;
            r->not_before[pick] = at;
            if (at < *wake)
                *wake = at;
            break;
        }
        start_worker(r, p, w, pick, r->stats->records[pick].attempts + 1);
        started += w->pid > 0;
    }
    return started;
}

/* Wait for output, an exit, a signal, a deadline, a due start, or room in a
 * slow reader's pipe for the output the run holds. */
static void wait_for_events(pool *p, double wake)
{
    bool room = ex_outbox_pending(&p->box) < OUTBOX_CAP;
    nfds_t n = 0;
    p->fds[n++] = (struct pollfd){ex_signals_fd(), POLLIN, 0};
    for (int fd = 1; fd <= 2; fd++)
        if (ex_outbox_waiting(&p->box, fd))
            p->fds[n++] = (struct pollfd){fd, POLLOUT, 0};
    for (int k = 0; k < p->jobs; k++) {
        ex_worker *w = &p->workers[k];
        if (w->pid <= 0)
            continue;
        if (w->deadline > 0 && w->deadline < wake)
            wake = w->deadline;
        int rfds[3] = {w->result_fd, room ? w->out.fd : -1, room ? w->err.fd : -1};
        for (int f = 0; f < 3; f++)
            if (rfds[f] >= 0)
                p->fds[n++] = (struct pollfd){rfds[f], POLLIN, 0};
    }
    double left = wake - ex_now();
    poll(p->fds, n, left <= 0 ? 0 : (int)(left * 1000) + 1);
    ex_signals_drain();
    for (int k = 0; k < p->jobs; k++)
        if (p->workers[k].pid > 0)
            ex_worker_pump(&p->workers[k], ex_outbox_pending(&p->box) < OUTBOX_CAP);
    ex_outbox_send(&p->box);
}

static bool more_to_start(const run *r, const pool *p)
{
    for (size_t i = 0; i < r->stats->n_records; i++)
        if (r->sched[i] == S_WAIT)
            return true;
    return !r->stop && p->cursor < r->stats->n_records;
}

/* jobs > 1 or a timeout: each scene in a worker process, `jobs` at a time. */
void ex_run_workers(run *r)
{
    pool p = {0};
    p.jobs = r->opts->jobs > 0 ? r->opts->jobs : 1;
    p.workers = calloc((size_t)p.jobs, sizeof *p.workers);
    p.close_fds = malloc((3 + 3 * (size_t)p.jobs) * sizeof *p.close_fds);
    p.fds = malloc((3 + 3 * (size_t)p.jobs) * sizeof *p.fds);
    if (!p.workers || !p.close_fds || !p.fds) {
        free(p.workers), free(p.close_fds), free(p.fds);
        r->stop = true;
        return;
    }
    bool interrupt_handled = false;
    for (;;) {
        if (p.box.closed[0])
            ex_run_stdout_gone(r);
        int running = reap_workers(r, &p, &interrupt_handled);
        double wake = ex_now() + 1.0;
        if (!ex_signals_interrupted())
            running += start_due(r, &p, &wake);
        if (running == 0 && (!more_to_start(r, &p) || ex_signals_interrupted()))
            break;
        wait_for_events(&p, wake);
    }
    /* Retries cut short by an interrupt: the last attempt's failure stands. */
    for (size_t i = 0; i < r->stats->n_records; i++)
        if (r->sched[i] == S_WAIT) {
            if (r->stats->records[i].attempts > 0) {
                ex_run_settle(r, i, EX_SCENE_FAILED);
            } else {
                r->sched[i] = S_TODO;
                ex_run_release(r, i);
            }
        }
    ex_outbox_flush(&p.box);
    ex_outbox_free(&p.box);
    free(p.workers);
    free(p.close_fds);
    free(p.fds);
}
