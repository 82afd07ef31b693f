/*
 * proc.h -- the machine's process table, as /proc shows it: for killing what
 * a scene started (worker.c's trees, shell.c's groups).
 */
#ifndef EXPLAINER_PROC_H
#define EXPLAINER_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct ex_proc {
    pid_t pid, ppid, pgrp;
} ex_proc;

/* Every process now: *out is malloc'd (free it), the count returned; 0 and
 * NULL when /proc cannot be read or memory runs out. */
size_t ex_proc_list(ex_proc **out);

#endif
