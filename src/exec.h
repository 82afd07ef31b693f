/*
 * exec.h -- run a program with an argument vector, never through a shell.
 *
 * Plain C, no Lua. The child gets its own process group, so that a timeout
 * takes down whatever it started too (ffmpeg's helpers, a shell's children).
 * Its stdin is the given bytes (or /dev/null); stdout and stderr are captured
 * whole, through pipes serviced with poll so that neither side can block the
 * other however much either writes.
 */
#ifndef EXPLAINER_EXEC_H
#define EXPLAINER_EXEC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ex_exec_options {
    const char *const *argv; /* NULL-terminated; argv[0] is looked up in PATH */
    const char *stdin_data;  /* NULL: the child reads /dev/null */
    size_t stdin_len;
    double timeout;         /* seconds; <= 0: wait as long as it takes */
    const char *cwd;        /* NULL: the caller's working directory */
    const char *const *env; /* NULL-terminated changes to the caller's
                               environment: "NAME=value" sets, "NAME" unsets;
                               NULL: inherit it as is */
    /* Called with each piece of stdout as it arrives (NULL: not called), for
       a program that reports as it goes (ffmpeg's -progress); the pieces are
       kept in the result all the same. */
    void (*on_stdout)(void *ctx, const char *data, size_t len);
    void *on_stdout_ctx;
} ex_exec_options;

typedef struct ex_exec_result {
    int status;     /* exit status; -1 when killed by a signal */
    int signal;     /* the signal that ended it, else 0 */
    bool timed_out; /* killed (with its process group) at the deadline */
    double seconds; /* wall time */
    char *out;      /* captured stdout, NUL-terminated, out_len bytes */
    size_t out_len;
    char *err; /* captured stderr, likewise */
    size_t err_len;
} ex_exec_result;

/*
 * Run the program and wait for it. Returns 0 when it ran (whatever its exit
 * status: see *result, which must then be released with ex_exec_result_free).
 * Returns -1 when it could not be started; *errmsg is then a malloc'd one-line
 * message, "NAME not found; run make deps" for a program that is not on PATH.
 */
int ex_exec(const ex_exec_options *opts, ex_exec_result *result, char **errmsg);

void ex_exec_result_free(ex_exec_result *result);

#endif
