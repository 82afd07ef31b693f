/*
 * child.h -- a child process of the run, for a program (exec.c) or a scene
 * (worker.c): it leads its own process group, so that a timeout or an
 * interrupt can end everything it started with one kill(-pid), and it dies
 * with the run (PR_SET_PDEATHSIG), so that a kill -9 of the run leaves no
 * orphan behind.
 */
#ifndef EXPLAINER_CHILD_H
#define EXPLAINER_CHILD_H

#include <sys/types.h>

/*
 * fork(). In the child: its own process group, every signal the run handles
 * back to its default disposition and none blocked, and `death_signal` sent
 * to it when the run dies (if the run died already, it is raised at once).
 * Only async-signal-safe calls, so the child may exec next. In the parent:
 * the child's group set here too (no window where kill(-pid) misses).
 * Returns the pid, 0 in the child, or -1 with errno.
 */
pid_t ex_fork_child(int death_signal);

#endif
