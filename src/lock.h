/*
 * lock.h -- per-scene locks shared by every run on one output folder.
 *
 * flock(2) on <out>/<name>/.explainer/locks/scene_NN.lock. The kernel drops the
 * lock when the holder dies (kill -9 included), so a dead run never keeps a
 * scene locked; on NFS the client maps flock to byte-range locks that the
 * server releases when the client's lease ends. Lock files are never removed:
 * removing them would let two runs lock two different files of the same name.
 */
#ifndef EXPLAINER_LOCK_H
#define EXPLAINER_LOCK_H

#include <stdbool.h>

/* Take the lock without waiting. Returns an fd (close it to release), or -1
 * with errno EWOULDBLOCK when another process holds it, or another errno. */
int ex_lock_try(const char *path);

/* Is the lock held by some process right now? (Takes and drops it.) */
bool ex_lock_held(const char *path);

#endif
