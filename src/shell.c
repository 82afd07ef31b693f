/*
 * shell.c -- a processor's shell commands, ended with the run (see shell.h).
 */
#include "shell.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "proc.h"
#include "signals.h"
#include "util.h"

/* Seconds an interrupted command has to end before it is killed. */
#define GRACE 2.0

/* The groups of the commands this scene started, ended or not: what one left
 * running in the background (`cmd &`) ends with the scene, as in a worker. */
static ex_pids scene_groups;

/* In the child: its pipe end onto stdin or stdout, a terminal stdin off,
 * then the shell. Async-signal-safe calls only. */
static void become_shell(const char *command, int mode, const int p[2])
{
    if (mode == 'r' && p[1] != STDOUT_FILENO)
        dup2(p[1], STDOUT_FILENO);
    if (mode == 'w' && p[0] != STDIN_FILENO)
        dup2(p[0], STDIN_FILENO);
    if (mode != 'w' && isatty(STDIN_FILENO)) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
    }
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
}

pid_t ex_shell_start(const char *command, int mode, int *fd)
{
    int p[2] = {-1, -1};
    if (mode && pipe2(p, O_CLOEXEC) != 0)
        return -1;
    /* The group is tracked before an interrupt can look for it. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    fflush(NULL);
    pid_t pid = ex_fork_child(SIGKILL);
    if (pid == 0)
        become_shell(command, mode, p);
    int saved = errno;
    if (pid > 0 && (ex_pids_add(&scene_groups, pid) != 0 || ex_signals_track_group(pid) != 0)) {
        saved = errno;
        kill(-pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        pid = -1;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (mode) {
        *fd = pid > 0 ? p[mode == 'r' ? 0 : 1] : -1;
        close(p[mode == 'r' ? 1 : 0]);
        if (pid < 0)
            close(p[mode == 'r' ? 0 : 1]);
    }
    errno = saved;
    return pid;
}

int ex_shell_wait(pid_t pid, int *status)
{
    /* A pidfd says when it ends; without one (old kernels), look often. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    double kill_at = 0;
    int rc = 0;
    for (;;) {
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid)
            break;
        if (got < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        int sig = ex_signals_interrupted();
        if (sig && kill_at == 0) {
            kill(-pid, sig); /* the handler's own may have come before the group */
            kill_at = ex_now() + GRACE;
        } else if (kill_at > 0 && ex_now() >= kill_at) {
            kill(-pid, SIGKILL);
        }
        struct pollfd fds[2] = {{ex_signals_fd(), POLLIN, 0}, {pidfd, POLLIN, 0}};
        int timeout = pidfd >= 0 ? (kill_at > 0 ? 100 : -1) : 20;
        poll(fds, 2, timeout);
        ex_signals_drain();
    }
    int saved = errno;
    /* Still tracked: what it left in the background is ended with the scene
     * (ex_shell_end_scene), or by an interrupt meanwhile. */
    if (pidfd >= 0)
        close(pidfd);
    errno = saved;
    return rc;
}

void ex_shell_end_scene(void)
{
    if (scene_groups.n == 0)
        return;
    /* Only live processes of these groups are killed: a group whose every
     * member is gone may have had its number taken by another. */
    ex_proc *procs;
    size_t n = ex_proc_list(&procs);
    for (size_t i = 0; i < n; i++)
        for (size_t g = 0; g < scene_groups.n; g++)
            if (procs[i].pgrp == scene_groups.v[g] && procs[i].pid != getpid()) {
                kill(procs[i].pid, SIGKILL);
                break;
            }
    free(procs);
    for (size_t g = 0; g < scene_groups.n; g++)
        ex_signals_untrack_group(scene_groups.v[g]);
    scene_groups.n = 0;
}
