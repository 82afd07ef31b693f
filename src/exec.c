/*
 * exec.c -- run a program with an argument vector (see exec.h).
 *
 * fork + execvpe, so that the child can ask the kernel to kill it when the
 * explainer process dies (PR_SET_PDEATHSIG): it sits in its own process group
 * (a timeout kills the group), which a kill -9 of the run's group would miss,
 * leaving an ffmpeg or a curl to run on as an orphan. A failed exec reports its
 * errno through a close-on-exec pipe, so a missing program is an error message,
 * not a child that died with status 127.
 */
#include "exec.h"
#include "child.h"
#include "util.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { CHUNK = 65536 };

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static char *spawn_error(const char *program, int err)
{
    if (err == ENOENT)
        return ex_format("%s not found; run make deps", program);
    if (err == EACCES)
        return ex_format("%s: permission denied", program);
    return ex_format("%s: cannot run: %s", program, strerror(err));
}

/* Read what is there; returns 0 at end of file (fd closed), 1 to go on. */
static int drain(int *fd, ex_buf *b, int *oom)
{
    if (!ex_buf_reserve(b, CHUNK)) {
        *oom = 1;
        close_fd(fd);
        return 0;
    }
    ssize_t n = read(*fd, b->data + b->len, CHUNK);
    if (n > 0) {
        b->len += (size_t)n;
        b->data[b->len] = '\0';
        return 1;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    close_fd(fd);
    return 0;
}

/* Is `program` an executable file, or one in a PATH folder? Checked before
 * spawning so that "not found" does not depend on how the C library (or a
 * tool like valgrind) reports a failed exec. */
static bool on_path(const char *program)
{
    if (strchr(program, '/'))
        return access(program, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    size_t plen = strlen(program);
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        char *candidate = malloc(dlen + plen + 3);
        if (!candidate)
            return true; /* let the spawn itself decide */
        if (dlen == 0)
            candidate[0] = '.', dlen = 1;
        else
            memcpy(candidate, p, dlen);
        candidate[dlen] = '/';
        memcpy(candidate + dlen + 1, program, plen + 1);
        bool found = access(candidate, X_OK) == 0;
        free(candidate);
        if (found)
            return true;
        if (!end)
            return false;
        p = end;
    }
}

static size_t name_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* The caller's environment with `changes` applied; NULL on OOM. The strings
 * are borrowed from environ and from `changes`: free only the array. */
static char **child_environment(const char *const *changes)
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (changes[m])
        m++;
    char **env = malloc((n + m + 1) * sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = name_len(environ[i]);
        bool changed = false;
        for (size_t j = 0; j < m && !changed; j++)
            changed =
                name_len(changes[j]) == len && strncmp(changes[j], environ[i], len) == 0;
        if (!changed)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        if (strchr(changes[j], '='))
            env[k++] = (char *)changes[j];
    env[k] = NULL;
    return env;
}

/* Reap the child; past the deadline, kill its whole process group first. */
static int reap(pid_t pid, double deadline, bool *timed_out)
{
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, deadline > 0 ? WNOHANG : 0);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return 0;
        if (deadline > 0 && r == 0) {
            if (ex_now() >= deadline) {
                kill(-pid, SIGKILL);
                *timed_out = true;
                deadline = 0; /* now wait for it to go */
                continue;
            }
            struct timespec pause = {0, 5 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
}

/* A program on its way: its pid and our ends of its pipes. */
typedef struct child {
    pid_t pid;
    int in, out, err;     /* -1 when closed */
    double started;
} child;

static void close_pipes(int p[2])
{
    close_fd(&p[0]);
    close_fd(&p[1]);
}

/* The child, after ex_fork_child: stdin, stdout and stderr onto the pipes,
 * the folder, then exec; a failure goes back through `report` as an errno
 * (negative: the folder, not the program). Async-signal-safe calls only. */
static void become(const ex_exec_options *opts, char **env, const int in_pipe[2],
                   const int out_pipe[2], const int err_pipe[2], const int report[2])
{
    int in = opts->stdin_data ? in_pipe[0] : open("/dev/null", O_RDONLY);
    int err_no = 0;
    if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out_pipe[1], STDOUT_FILENO) < 0 ||
        dup2(err_pipe[1], STDERR_FILENO) < 0)
        err_no = errno;
    else if (opts->cwd && chdir(opts->cwd) != 0)
        err_no = -errno;
    else
        execvpe(opts->argv[0], (char *const *)opts->argv, env);
    if (!err_no)
        err_no = errno;
    ssize_t ignored = write(report[1], &err_no, sizeof err_no);
    (void)ignored;
    _exit(127);
}

/* Start the program with its pipes. 0, or -1 with *errmsg. */
static int spawn(const ex_exec_options *opts, child *c, char **errmsg)
{
    const char *program = opts->argv[0];
    if (!on_path(program)) {
        *errmsg = spawn_error(program, ENOENT);
        return -1;
    }
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int report[2] = {-1, -1};
    char **env = opts->env ? child_environment(opts->env) : environ;
    if (!env) {
        *errmsg = ex_format("out of memory");
        return -1;
    }
    if ((opts->stdin_data && pipe2(in_pipe, O_CLOEXEC) != 0) || pipe2(out_pipe, O_CLOEXEC) != 0 ||
        pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
        *errmsg = ex_format("%s: cannot make pipes: %s", program, strerror(errno));
        close_pipes(in_pipe), close_pipes(out_pipe), close_pipes(err_pipe), close_pipes(report);
        if (env != environ)
            free(env);
        return -1;
    }
    c->started = ex_now();
    pid_t pid = ex_fork_child(SIGKILL);
    if (pid == 0)
        become(opts, env, in_pipe, out_pipe, err_pipe, report);
    int rc = pid < 0 ? errno : 0;
    if (env != environ)
        free(env);
    close_fd(&report[1]);
    if (pid > 0) {
        int child_errno = 0;
        ssize_t n;
        do
            n = read(report[0], &child_errno, sizeof child_errno);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof child_errno) {
            rc = child_errno ? child_errno : ENOEXEC;
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
    close_fd(&report[0]);
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    if (rc != 0) {
        *errmsg = rc < 0 ? ex_format("%s: cannot run in %s: %s", program, opts->cwd,
                                     strerror(-rc))
                         : spawn_error(program, rc);
        close_fd(&in_pipe[1]), close_fd(&out_pipe[0]), close_fd(&err_pipe[0]);
        return -1;
    }
    *c = (child){pid, in_pipe[1], out_pipe[0], err_pipe[0], c->started};
    return 0;
}

/* Feed stdin and drain stdout and stderr until the program closes them, the
 * deadline passes (its group is killed) or the run is interrupted. */
static void pump(const ex_exec_options *opts, child *c, ex_buf *out, ex_buf *err,
                 int *oom, bool *timed_out)
{
    if (c->in >= 0) {
        int flags = fcntl(c->in, F_GETFL);
        fcntl(c->in, F_SETFL, flags | O_NONBLOCK);
        if (opts->stdin_len == 0)
            close_fd(&c->in);
    }
    size_t written = 0;
    double deadline = opts->timeout > 0 ? c->started + opts->timeout : 0;
    while (c->out >= 0 || c->err >= 0 || c->in >= 0) {
        /* Ctrl-C during a run: the child sits in its own process group, so the
         * terminal's signal never reached it; stop it here. */
        if (ex_signals_interrupted()) {
            kill(-c->pid, SIGKILL);
            break;
        }
        int wait_ms = -1;
        if (deadline > 0) {
            double left = deadline - ex_now();
            if (left <= 0) {
                kill(-c->pid, SIGKILL);
                *timed_out = true;
                break;
            }
            wait_ms = (int)(left * 1000) + 1;
        }
        struct pollfd fds[3] = {
            {.fd = c->in, .events = POLLOUT},
            {.fd = c->out, .events = POLLIN},
            {.fd = c->err, .events = POLLIN},
        };
        if (poll(fds, 3, wait_ms) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (c->in >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
            size_t left = opts->stdin_len - written;
            ssize_t w = write(c->in, opts->stdin_data + written, left < CHUNK ? left : CHUNK);
            if (w > 0)
                written += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                close_fd(&c->in); /* EPIPE: it stopped reading */
            if (written == opts->stdin_len)
                close_fd(&c->in);
        }
        if (c->out >= 0 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP))) {
            size_t before = out->len;
            drain(&c->out, out, oom);
            if (opts->on_stdout && out->len > before)
                opts->on_stdout(opts->on_stdout_ctx, out->data + before, out->len - before);
        }
        if (c->err >= 0 && (fds[2].revents & (POLLIN | POLLERR | POLLHUP)))
            drain(&c->err, err, oom);
    }
    close_fd(&c->in);
    close_fd(&c->out);
    close_fd(&c->err);
}

/* Reap the program and fill the result with its status and output. */
static int collect(const ex_exec_options *opts, child *c, ex_buf *out, ex_buf *err, int oom,
                   bool timed_out, ex_exec_result *result, char **errmsg)
{
    double deadline = opts->timeout > 0 ? c->started + opts->timeout : 0;
    int status = reap(c->pid, timed_out ? 0 : deadline, &timed_out);
    result->seconds = ex_now() - c->started;
    result->timed_out = timed_out;
    if (WIFEXITED(status)) {
        result->status = WEXITSTATUS(status);
    } else {
        result->status = -1;
        result->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (oom || !ex_buf_reserve(out, 0) || !ex_buf_reserve(err, 0)) {
        ex_buf_free(out);
        ex_buf_free(err);
        *errmsg = ex_format("%s: out of memory capturing its output", opts->argv[0]);
        return -1;
    }
    out->data[out->len] = '\0';
    err->data[err->len] = '\0';
    result->out = out->data;
    result->out_len = out->len;
    result->err = err->data;
    result->err_len = err->len;
    return 0;
}

int ex_exec(const ex_exec_options *opts, ex_exec_result *result, char **errmsg)
{
    memset(result, 0, sizeof *result);
    *errmsg = NULL;
    if (!opts || !opts->argv || !opts->argv[0] || !opts->argv[0][0]) {
        *errmsg = ex_format("no program to run");
        return -1;
    }
    child c = {0, -1, -1, -1, 0};
    if (spawn(opts, &c, errmsg) != 0)
        return -1;
    /* A child that stops reading its stdin must not kill us with SIGPIPE:
     * block it while we write, and swallow any we caused. */
    sigset_t pipe_set, old_mask, pending_before, pending_now;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending_before);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    ex_buf out = {0}, err = {0};
    int oom = 0;
    bool timed_out = false;
    pump(opts, &c, &out, &err, &oom, &timed_out);
    sigpending(&pending_now);
    if (sigismember(&pending_now, SIGPIPE) && !sigismember(&pending_before, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return collect(opts, &c, &out, &err, oom, timed_out, result, errmsg);
}

void ex_exec_result_free(ex_exec_result *result)
{
    if (!result)
        return;
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
    result->out_len = result->err_len = 0;
}
