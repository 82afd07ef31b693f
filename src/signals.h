/*
 * signals.h -- the run's SIGINT/SIGTERM/SIGHUP (and SIGCHLD) handling.
 *
 * During a run: SIGINT, SIGTERM and SIGHUP (a closed terminal, a dropped ssh)
 * set a flag (and call on_interrupt, from the
 * signal handler, so the Lua binding can stop a running processor); a second
 * one kills the program as it would have without us. With watch_children,
 * SIGCHLD wakes the poll loop. Every event writes a byte to ex_signals_fd().
 * Below the orchestrator, the workers, exec and http: each may ask whether
 * the run was interrupted.
 */
#ifndef EXPLAINER_SIGNALS_H
#define EXPLAINER_SIGNALS_H

#include <stdbool.h>
#include <sys/types.h>

int ex_signals_install(bool watch_children, void (*on_interrupt)(void *), void *ctx);
void ex_signals_restore(void);
int ex_signals_fd(void);
void ex_signals_drain(void);
int ex_signals_interrupted(void);  /* 0, SIGINT, SIGTERM or SIGHUP */

/* A process group (a shell command's, shell.c) that an interrupt sends the
 * run's SIGINT, SIGTERM or SIGHUP, and a second one SIGKILL. Tracked until untracked,
 * installed handlers or not. 0, or -1 (ENOMEM). */
int ex_signals_track_group(pid_t pgid);
void ex_signals_untrack_group(pid_t pgid);

/* In a forked worker: forget the run's handlers and wake-up pipe (a worker is
 * not the run; a run started inside its processor installs its own). */
void ex_signals_forget(void);

/* "SIGINT", "SIGTERM", "SIGHUP", or "signal". */
const char *ex_signal_name(int sig);

#endif
