/*
 * report.c -- JSON events and the run report.
 */
#include "report.h"
#include "json_out.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool reserve(ex_buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
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

void ex_buf_printf(ex_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_put(void *ctx, const char *p, size_t n)
{
    ex_buf *b = ctx;
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ex_buf_json_string(ex_buf *b, const char *s)
{
    ex_json_string(s, buf_put, b);
}

void ex_buf_free(ex_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

const char *ex_scene_state_name(ex_scene_state state)
{
    switch (state) {
    case EX_SCENE_COMPLETED: return "completed";
    case EX_SCENE_SKIPPED: return "skipped";
    case EX_SCENE_FAILED: return "failed";
    case EX_SCENE_LOCKED: return "locked";
    default: return "pending";
    }
}

int ex_report_write(const char *path, const ex_document *doc,
                    const ex_run_options *opts, const ex_stats *stats)
{
    ex_buf b = {0};
    size_t not_run = stats->total - stats->completed - stats->skipped -
                     stats->failed - stats->locked;
    ex_buf_printf(&b, "{\n  \"file\": ");
    ex_buf_json_string(&b, doc->path ? doc->path : doc->name);
    ex_buf_printf(&b, ",\n  \"name\": ");
    ex_buf_json_string(&b, doc->name);
    ex_buf_printf(&b,
                  ",\n  \"total\": %zu, \"completed\": %zu, \"skipped\": %zu, "
                  "\"failed\": %zu, \"locked\": %zu, \"not_run\": %zu,\n"
                  "  \"elapsed_time\": %.3f, \"jobs\": %d, \"interrupted\": ",
                  stats->total, stats->completed, stats->skipped, stats->failed,
                  stats->locked, not_run, stats->elapsed_time,
                  opts->jobs > 0 ? opts->jobs : 1);
    if (stats->interrupted)
        ex_buf_printf(&b, "\"%s\"", stats->interrupted == SIGINT ? "SIGINT" : "SIGTERM");
    else
        ex_buf_printf(&b, "null");
    if (opts->shard_count > 0)
        ex_buf_printf(&b, ", \"shard\": \"%d/%d\"", opts->shard_index, opts->shard_count);
    ex_buf_printf(&b, ",\n  \"warnings\": [");
    for (size_t i = 0; i < doc->n_warnings; i++) { /* the file's parse warnings */
        const ex_warning *w = &doc->warnings[i];
        ex_buf_printf(&b, "%s\n    {\"line\": %ld, \"column\": %ld, \"rule\": ", i ? "," : "",
                      w->line, w->column);
        ex_buf_json_string(&b, w->rule);
        ex_buf_printf(&b, ", \"message\": ");
        ex_buf_json_string(&b, w->message);
        ex_buf_printf(&b, "}");
    }
    ex_buf_printf(&b, "%s],\n  \"scenes\": [", doc->n_warnings ? "\n  " : "");
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *r = &stats->records[i];
        ex_buf_printf(&b, "%s\n    {\"scene_number\": %ld, \"title\": ", i ? "," : "",
                      r->scene_number);
        ex_buf_json_string(&b, r->scene ? r->scene->title : NULL);
        ex_buf_printf(&b, ", \"state\": \"%s\", \"reason\": ", ex_scene_state_name(r->state));
        ex_buf_json_string(&b, r->reason);
        ex_buf_printf(&b, ", \"seconds\": %.3f, \"error\": ", r->seconds);
        ex_buf_json_string(&b, r->error);
        ex_buf_printf(&b, ", \"output_dir\": ");
        ex_buf_json_string(&b, r->output_dir);
        ex_buf_printf(&b, ", \"inputs\": \"%016llx\", \"attempts\": [",
                      (unsigned long long)r->inputs);
        for (int a = 0; r->attempt_log && a < r->attempts; a++) {
            ex_buf_printf(&b, "%s{\"seconds\": %.3f, \"error\": ", a ? ", " : "",
                          r->attempt_log[a].seconds);
            ex_buf_json_string(&b, r->attempt_log[a].error);
            ex_buf_printf(&b, "}");
        }
        ex_buf_printf(&b, "]}");
    }
    ex_buf_printf(&b, "\n  ]\n}\n");
    if (b.failed) {
        ex_buf_free(&b);
        errno = ENOMEM;
        return -1;
    }
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!tmp) {
        ex_buf_free(&b);
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd >= 0) {
        size_t off = 0;
        while (off < b.len) {
            ssize_t w = write(fd, b.data + off, b.len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (close(fd) == 0 && off == b.len && rename(tmp, path) == 0)
            rc = 0;
        else
            unlink(tmp);
    }
    int saved = errno;
    free(tmp);
    ex_buf_free(&b);
    errno = saved;
    return rc;
}
