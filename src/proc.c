/*
 * proc.c -- the process table from /proc/<pid>/stat (see proc.h).
 */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t ex_proc_list(ex_proc **out)
{
    *out = NULL;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        char *paren = strrchr(buf, ')'); /* the command name may hold anything */
        long ppid, pgrp;
        if (!paren || sscanf(paren + 1, " %*c %ld %ld", &ppid, &pgrp) != 2)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            ex_proc *grown = realloc(*out, cap * sizeof *grown);
            if (!grown)
                break;
            *out = grown;
        }
        (*out)[n].pid = (pid_t)atol(e->d_name);
        (*out)[n].ppid = (pid_t)ppid;
        (*out)[n].pgrp = (pid_t)pgrp;
        n++;
    }
    closedir(d);
    return n;
}
