/*
 * shell.h -- a shell command a processor runs in the run's own process
 * (os.execute, io.popen): one that an interrupt of the run ends, whole.
 *
 * The command leads its own process group, which the run's signal handler
 * (signals.c) sends the SIGINT or SIGTERM the run received, so that
 * `kill -TERM <run>` ends `sh -c "sleep 1000; ..."` and everything it
 * started, not only a terminal's Ctrl-C. It dies with the run (a parent-death
 * signal). Leading its own group, it is not in the terminal's foreground:
 * when the run's stdin is a terminal, the command's stdin is /dev/null
 * (a batch command must not stop on SIGTTIN, as ffmpeg would). What a
 * command leaves running in the background ends with the scene.
 */
#ifndef EXPLAINER_SHELL_H
#define EXPLAINER_SHELL_H

#include <sys/types.h>

/* Start `/bin/sh -c command`. mode: 0 (no pipe), 'r' (*fd reads its stdout)
 * or 'w' (*fd writes its stdin). The pid, or -1 with errno. */
pid_t ex_shell_start(const char *command, int mode, int *fd);

/* Wait for it; on an interrupt of the run its group is sent the run's signal
 * (if the handler has not already) and SIGKILL two seconds later. *status as
 * waitpid(2) gives it. 0, or -1 with errno. */
int ex_shell_wait(pid_t pid, int *status);

/* The scene ended: whatever its commands left running (a background job,
 * `cmd &`) is killed, as a worker's process group is. */
void ex_shell_end_scene(void);

#endif
