/* util.c -- small helpers shared by the C core (see util.h). */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *ex_vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    return s;
}

char *ex_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ex_vformat(fmt, ap);
    va_end(ap);
    return s;
}

char *ex_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *ex_strndup(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (copy) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

bool ex_buf_reserve(ex_buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (more < (size_t)-1 - b->len - 1 && b->len + more + 1 <= b->cap)
        return true;
    if (more >= (size_t)-1 / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void ex_buf_put(ex_buf *b, const void *data, size_t len)
{
    if (!ex_buf_reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ex_buf_printf(ex_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !ex_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ex_buf_free(ex_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int ex_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            /* A non-blocking target (a terminal shared with another program):
             * wait until it takes more. */
            usleep(1000);
            continue;
        }
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int ex_mkdir_p(const char *path)
{
    /* The common case, a scene folder whose parent exists: one system call. */
    if (mkdir(path, 0777) == 0)
        return 0;
    struct stat st0;
    if (errno == EEXIST && stat(path, &st0) == 0 && S_ISDIR(st0.st_mode))
        return 0;
    char *copy = strdup(path);
    if (!copy)
        return -1;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            free(copy);
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    int rc = stat(copy, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
    if (rc != 0 && errno == 0)
        errno = ENOTDIR;
    free(copy);
    return rc;
}

double ex_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ex_pids_add(ex_pids *list, pid_t pid)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        pid_t *grown = realloc(list->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        list->v = grown;
        list->cap = cap;
    }
    list->v[list->n++] = pid;
    return 0;
}
