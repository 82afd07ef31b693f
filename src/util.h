/*
 * util.h -- small helpers shared by the C core (no Lua): strings, a growable
 * buffer, whole writes, folders and the clock. Everything above includes this;
 * it includes nothing of the project's.
 */
#ifndef EXPLAINER_UTIL_H
#define EXPLAINER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <stdarg.h>

/* A malloc'd printf-formatted string; NULL when memory runs out. */
char *ex_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *ex_vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* strdup that passes NULL through. */
char *ex_strdup(const char *s);

/* The first n bytes of s as a NUL-terminated malloc'd string; NULL on OOM. */
char *ex_strndup(const char *s, size_t n);

/* A growable byte buffer, always NUL-terminated once non-empty. After a failed
 * allocation it stays `failed` and ignores further writes, so a caller checks
 * once at the end. */
typedef struct ex_buf {
    char *data;
    size_t len, cap;
    bool failed;
} ex_buf;

bool ex_buf_reserve(ex_buf *b, size_t more);
void ex_buf_put(ex_buf *b, const void *data, size_t len);
void ex_buf_printf(ex_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ex_buf_free(ex_buf *b);

/* write(2) until all of it is written (EINTR retried; EAGAIN on a non-blocking
 * descriptor waited out). 0, or -1 with errno. */
int ex_write_all(int fd, const void *data, size_t len);

/* mkdir -p. 0, or -1 with errno set. */
int ex_mkdir_p(const char *path);

/* Monotonic seconds. */
double ex_now(void);

/* A growing list of process ids (the process groups a run or a scene ends). */
typedef struct ex_pids {
    pid_t *v;
    size_t n, cap;
} ex_pids;

/* Appends pid; -1 when out of memory (the list is as it was). */
int ex_pids_add(ex_pids *list, pid_t pid);

#endif
