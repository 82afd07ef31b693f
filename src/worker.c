/*
 * worker.c -- scenes in worker processes; the run's signal handling.
 */
#include "worker.h"
#include "child.h"
#include "proc.h"
#include "signals.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A relay holds at most this much of one unfinished line before passing it on
 * (a progress bar drawn with \r never ends its line). */
#define RELAY_MAX_LINE 65536

/* ---- the child ------------------------------------------------------------- */

static void on_term_in_child(int sig)
{
    (void)sig;
    kill(0, SIGKILL); /* the whole group: whatever the processor started */
}

/* A scene's process: SIGTERM (the run died, or ended it) takes everything the
 * processor started along. */
static void child_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term_in_child;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
}

static void put_bytes(int fd, const char *data, size_t len)
{
    uint64_t n = data ? len : UINT64_MAX;
    ex_write_all(fd, &n, sizeof n);
    if (data)
        ex_write_all(fd, data, len);
}

/* Outcome on the wire: 'X', ok byte, error (u64 length or UINT64_MAX for NULL,
 * bytes), result (same). */
static void send_outcome(int fd, const ex_outcome *out)
{
    char head[2] = {'X', out->ok ? 1 : 0};
    ex_write_all(fd, head, 2);
    put_bytes(fd, out->error, out->error ? strlen(out->error) : 0);
    put_bytes(fd, out->result, out->result_len);
}

int ex_worker_start(ex_worker *w, ex_worker_body body, void *arg,
                    const int *close_fds, size_t n_close, ex_outbox *box)
{
    int rp[2], op[2], ep[2];
    if (pipe2(rp, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(op, O_CLOEXEC) != 0) {
        close(rp[0]), close(rp[1]);
        return -1;
    }
    if (pipe2(ep, O_CLOEXEC) != 0) {
        close(rp[0]), close(rp[1]), close(op[0]), close(op[1]);
        return -1;
    }
    fflush(NULL); /* or the child would print the parent's buffered output again */
    /* If the run dies (kill -9 included), SIGTERM takes the scene along. */
    pid_t pid = ex_fork_child(SIGTERM);
    if (pid < 0) {
        int saved = errno;
        close(rp[0]), close(rp[1]), close(op[0]), close(op[1]);
        close(ep[0]), close(ep[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        child_signals();
        ex_signals_forget();
        dup2(op[1], STDOUT_FILENO);
        dup2(ep[1], STDERR_FILENO);
        close(op[0]), close(op[1]), close(ep[0]), close(ep[1]), close(rp[0]);
        for (size_t i = 0; i < n_close; i++)
            if (close_fds[i] > STDERR_FILENO)
                close(close_fds[i]);
        ex_outcome out = {false, NULL, NULL, 0, true};
        body(arg, &out);
        fflush(NULL);
        send_outcome(rp[1], &out);
        _exit(0);
    }
    close(rp[1]), close(op[1]), close(ep[1]);
    fcntl(rp[0], F_SETFL, O_NONBLOCK);
    fcntl(op[0], F_SETFL, O_NONBLOCK);
    fcntl(ep[0], F_SETFL, O_NONBLOCK);
    w->pid = pid;
    w->result_fd = rp[0];
    w->result = (ex_buf){0};
    w->out = (ex_relay){op[0], STDOUT_FILENO, {0}, box};
    w->err = (ex_relay){ep[0], STDERR_FILENO, {0}, box};
    w->reaped = false;
    w->status = 0;
    w->timed_out = w->killed = false;
    return 0;
}

/* ---- the parent's side ----------------------------------------------------- */

/* ---- the outbox ---------------------------------------------------------- */

size_t ex_outbox_pending(const ex_outbox *o)
{
    return o->pending[0].len - o->sent[0] + o->pending[1].len - o->sent[1];
}

bool ex_outbox_waiting(const ex_outbox *o, int fd)
{
    int i = fd == STDOUT_FILENO ? 0 : 1;
    return !o->closed[i] && o->pending[i].len > o->sent[i];
}

/* Write some of target i's bytes; with `wait`, all of them. */
static void outbox_write(ex_outbox *o, int i, bool wait)
{
    int fd = i == 0 ? STDOUT_FILENO : STDERR_FILENO;
    ex_buf *b = &o->pending[i];
    while (!o->closed[i] && o->sent[i] < b->len) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, wait ? -1 : 0) <= 0 && !wait)
            break;
        if (p.revents & (POLLERR | POLLNVAL)) {
            o->closed[i] = true;
            break;
        }
        /* At most a pipe's atomic size: a write that POLLOUT allowed then
         * does not block, even on a descriptor we must not make non-blocking
         * (it is shared with the shell). */
        size_t n = b->len - o->sent[i];
        ssize_t w = write(fd, b->data + o->sent[i], n < 4096 ? n : 4096);
        if (w > 0)
            o->sent[i] += (size_t)w;
        else if (w < 0 && errno == EPIPE)
            o->closed[i] = true; /* the reader went away (| head) */
        else if (w < 0 && errno != EINTR && errno != EAGAIN)
            o->closed[i] = true;
    }
    if (o->closed[i] || o->sent[i] == b->len) {
        b->len = 0;
        o->sent[i] = 0;
    }
}

void ex_outbox_send(ex_outbox *o)
{
    outbox_write(o, 0, false);
    outbox_write(o, 1, false);
}

void ex_outbox_flush(ex_outbox *o)
{
    outbox_write(o, 0, true);
    outbox_write(o, 1, true);
}

void ex_outbox_free(ex_outbox *o)
{
    ex_buf_free(&o->pending[0]);
    ex_buf_free(&o->pending[1]);
    memset(o, 0, sizeof *o);
}

/* Pass whole lines (or, with all, everything) from the relay to the outbox. */
static void relay_flush(ex_relay *r, bool all)
{
    size_t upto = r->buf.len;
    if (!all && r->buf.len < RELAY_MAX_LINE) {
        while (upto > 0 && r->buf.data[upto - 1] != '\n')
            upto--;
    }
    if (upto == 0)
        return;
    int i = r->target == STDOUT_FILENO ? 0 : 1;
    if (r->box && !r->box->closed[i])
        ex_buf_put(&r->box->pending[i], r->buf.data, upto);
    else if (!r->box)
        ex_write_all(r->target, r->buf.data, upto);
    memmove(r->buf.data, r->buf.data + upto, r->buf.len - upto);
    r->buf.len -= upto;
}

static void relay_close(ex_relay *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    relay_flush(r, true);
    ex_buf_free(&r->buf);
}

/* Read what a pipe holds into b; false once it is closed (EOF or error). */
static bool read_available(int fd, ex_buf *b)
{
    for (;;) {
        if (!ex_buf_reserve(b, 4096)) {
            b->failed = false; /* out of memory: leave the rest in the pipe */
            return true;
        }
        ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n > 0)
            b->len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && errno == EAGAIN)
            return true;
        else
            return false;
    }
}

static void relay_read(ex_relay *r)
{
    if (r->fd < 0)
        return;
    bool open = read_available(r->fd, &r->buf);
    relay_flush(r, false);
    if (!open)
        relay_close(r);
}

static void result_read(ex_worker *w)
{
    if (w->result_fd >= 0 && !read_available(w->result_fd, &w->result)) {
        close(w->result_fd);
        w->result_fd = -1;
    }
}

void ex_worker_pump(ex_worker *w, bool output)
{
    result_read(w);
    if (output) {
        relay_read(&w->out);
        relay_read(&w->err);
    }
}

static bool take_bytes(const char **p, const char *end, char **dst, size_t *len)
{
    uint64_t n;
    if ((size_t)(end - *p) < sizeof n)
        return false;
    memcpy(&n, *p, sizeof n);
    *p += sizeof n;
    *dst = NULL;
    if (len)
        *len = 0;
    if (n == UINT64_MAX)
        return true;
    if (n > (uint64_t)(end - *p))
        return false;
    *dst = malloc((size_t)n + 1);
    if (!*dst)
        return false;
    memcpy(*dst, *p, (size_t)n);
    (*dst)[n] = '\0';
    *p += n;
    if (len)
        *len = (size_t)n;
    return true;
}

static bool decode_outcome(const char *data, size_t len, ex_outcome *out)
{
    const char *p = data, *end = data + len;
    if (len < 2 || p[0] != 'X')
        return false;
    out->ok = p[1] != 0;
    p += 2;
    if (!take_bytes(&p, end, &out->error, NULL))
        return false;
    if (!take_bytes(&p, end, &out->result, &out->result_len)) {
        free(out->error);
        out->error = NULL;
        return false;
    }
    return p == end;
}

void ex_worker_finish(ex_worker *w, double timeout, ex_outcome *out)
{
    /* What the scene left running in its process group (a background job of
     * a crashed processor) ends with it. The group cannot have been reused:
     * a pgid stays taken while any member lives. */
    kill(-w->pid, SIGKILL);
    /* The child is gone: what it wrote is all in the pipes. Read it and close,
     * without waiting for EOF (a process elsewhere may hold the pipes). */
    ex_worker_pump(w, true);
    if (w->result_fd >= 0)
        close(w->result_fd);
    w->result_fd = -1;
    relay_close(&w->out);
    relay_close(&w->err);
    *out = (ex_outcome){false, NULL, NULL, 0, false};
    int st = w->status;
    if (w->timed_out) {
        out->error = ex_format("timed out after %g s", timeout);
    } else if (w->killed) {
        out->error = ex_strdup("interrupted");
    } else if (decode_outcome(w->result.data, w->result.len, out)) {
        /* a whole outcome: what the processor said, whatever the exit */
    } else if (WIFSIGNALED(st)) {
        out->error = ex_format("worker crashed (signal %d: %s)", WTERMSIG(st),
                             strsignal(WTERMSIG(st)));
    } else if (WIFEXITED(st)) {
        out->error = ex_format("worker exited with status %d before the processor "
                             "returned", WEXITSTATUS(st));
    } else {
        out->error = ex_strdup("worker ended unexpectedly");
    }
    ex_buf_free(&w->result);
    w->pid = 0;
}

/* ---- killing a process tree ------------------------------------------------ */

/* Stop every descendant of root (stopped processes cannot fork any more), a
 * few passes until no new one appears; then kill them all. */
static void kill_tree(pid_t root)
{
    pid_t *found = NULL;
    size_t n_found = 0, cap = 0;
    kill(-root, SIGSTOP);
    kill(root, SIGSTOP);
    for (int pass = 0; pass < 8; pass++) {
        ex_proc *procs;
        size_t n = ex_proc_list(&procs);
        size_t before = n_found;
        bool grew = true;
        while (grew) {
            grew = false;
            for (size_t i = 0; i < n; i++) {
                bool parent_in = procs[i].ppid == root;
                bool already = procs[i].pid == root;
                for (size_t k = 0; k < n_found && !already; k++) {
                    if (found[k] == procs[i].pid)
                        already = true;
                    if (found[k] == procs[i].ppid)
                        parent_in = true;
                }
                if (already || !parent_in)
                    continue;
                if (n_found == cap) {
                    cap = cap ? cap * 2 : 16;
                    pid_t *grown = realloc(found, cap * sizeof *grown);
                    if (!grown)
                        break;
                    found = grown;
                }
                found[n_found++] = procs[i].pid;
                kill(procs[i].pid, SIGSTOP);
                grew = true;
            }
        }
        free(procs);
        if (n_found == before)
            break;
    }
    for (size_t k = 0; k < n_found; k++) {
        kill(-found[k], SIGKILL); /* its group, if it leads one */
        kill(found[k], SIGKILL);
    }
    kill(-root, SIGKILL);
    kill(root, SIGKILL);
    free(found);
}

void ex_worker_kill(ex_worker *w)
{
    if (w->pid <= 0 || w->reaped)
        return;
    kill_tree(w->pid);
    while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR) {
    }
    w->reaped = true;
}

