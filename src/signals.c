/*
 * signals.c -- the run's signal handling (see signals.h).
 */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t interrupted;
static int signal_pipe[2] = {-1, -1};
static int installed;
static bool watching_children;
static void (*interrupt_hook)(void *);
static void *interrupt_ctx;
static struct sigaction saved_int, saved_term, saved_hup, saved_chld;

/* The process groups of shell commands to end with the run (shell.c). The
 * handler reads them; they change only with the run's signals blocked. */
static ex_pids groups;

static void signal_groups(int sig)
{
    for (size_t i = 0; i < groups.n; i++)
        kill(-groups.v[i], sig);
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        if (interrupted) {
            /* A second one: the user means it. Die as we would have, and
             * take the shell commands along. */
            signal_groups(SIGKILL);
            signal(sig, SIG_DFL);
            raise(sig);
        }
        interrupted = sig;
        signal_groups(sig);
        if (interrupt_hook)
            interrupt_hook(interrupt_ctx);
    }
    if (signal_pipe[1] >= 0) {
        ssize_t ignored = write(signal_pipe[1], "x", 1);
        (void)ignored;
    }
    errno = saved;
}

int ex_signals_install(bool watch_children, void (*on_interrupt)(void *), void *ctx)
{
    if (installed++)
        return 0; /* a run inside a run: the outer one's handlers stay */
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        installed = 0;
        return -1;
    }
    interrupted = 0;
    interrupt_hook = on_interrupt;
    interrupt_ctx = ctx;
    watching_children = watch_children;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    sigaction(SIGHUP, &sa, &saved_hup);
    if (watch_children) {
        sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
        sigaction(SIGCHLD, &sa, &saved_chld);
    }
    return 0;
}

void ex_signals_restore(void)
{
    if (installed == 0 || --installed > 0)
        return;
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGHUP, &saved_hup, NULL);
    if (watching_children)
        sigaction(SIGCHLD, &saved_chld, NULL);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
    interrupt_hook = NULL;
    interrupted = 0;
}

void ex_signals_forget(void)
{
    if (signal_pipe[0] >= 0)
        close(signal_pipe[0]);
    if (signal_pipe[1] >= 0)
        close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
    installed = 0;
    interrupted = 0;
    interrupt_hook = NULL;
    groups.n = 0; /* the run's commands are not the worker's to end */
}

/* Run fn(pid) with SIGINT, SIGTERM and SIGHUP blocked: the handler never sees the
 * list half changed. */
static int with_signals_blocked(int (*fn)(pid_t), pid_t pid)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    int rc = fn(pid);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static int add_group(pid_t pid) { return ex_pids_add(&groups, pid); }

static int remove_group(pid_t pid)
{
    for (size_t i = 0; i < groups.n; i++)
        if (groups.v[i] == pid) {
            groups.v[i] = groups.v[--groups.n];
            break;
        }
    return 0;
}

int ex_signals_track_group(pid_t pgid)
{
    if (with_signals_blocked(add_group, pgid) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void ex_signals_untrack_group(pid_t pgid)
{
    with_signals_blocked(remove_group, pgid);
}

int ex_signals_fd(void)
{
    return signal_pipe[0];
}

void ex_signals_drain(void)
{
    char buf[64];
    while (signal_pipe[0] >= 0 && read(signal_pipe[0], buf, sizeof buf) > 0) {
    }
}

int ex_signals_interrupted(void)
{
    return interrupted;
}

const char *ex_signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "signal";
}
