/*
 * child.c -- fork a child that leads its own group and dies with the run.
 */
#include "child.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

pid_t ex_fork_child(int death_signal)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0)
            setpgid(pid, pid);
        return pid;
    }
    setpgid(0, 0);
    static const int reset[] = {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD};
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaction(reset[i], &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent)
        raise(death_signal); /* the run died before the line above */
    return 0;
}
