/*
 * lock.h -- per-scene locks shared by every run of one workflow on one output
 * folder.
 *
 * One lock file per workflow (<out>/<name>/.explainer/<workflow>/locks), and
 * one byte of it per scene: an open-file-description lock (F_OFD_SETLK) on the
 * byte at offset <scene number>. Taking or dropping a scene's lock is then one
 * fcntl, not a file to create. The kernel drops the locks when the holder dies
 * (kill -9 included), so a dead run never keeps a scene locked; a forked
 * worker that closes its copy of the descriptor releases nothing (the lock
 * belongs to the description, which the run still holds). On NFS the client
 * turns them into byte-range locks of the server (NLM, or NFSv4 locks), which
 * the server releases when the client's lease ends.
 */
#ifndef EXPLAINER_LOCK_H
#define EXPLAINER_LOCK_H

#include <stdbool.h>

/* Open (creating) a lock file. An fd, or -1 with errno. */
int ex_lockfile_open(const char *path);

/* Take scene `number`'s lock without waiting. 0, or -1 with errno EWOULDBLOCK
 * when another run holds it (another errno when locks do not work here). */
int ex_lock_scene(int fd, long number);

/* Drop it. */
void ex_unlock_scene(int fd, long number);

/* Does another run hold scene `number`'s lock right now? `path` need not exist. */
bool ex_lock_scene_held(const char *path, long number);

#endif
