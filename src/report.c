/*
 * report.c -- progress lines and events, the plan, the summary and the run's
 * report.json (see report.h).
 */
#include "report.h"
#include "json_out.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

static void buf_put(void *ctx, const char *p, size_t n)
{
    ex_buf_put(ctx, p, n);
}

void ex_buf_json_string(ex_buf *b, const char *s)
{
    ex_json_string(s, buf_put, b);
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

const char *ex_standing_name(ex_standing standing)
{
    static const char *const names[] = {"new", "fresh", "exists", "missing",
                                        "changed", "incomplete", "failed", "forced"};
    return (size_t)standing < sizeof names / sizeof names[0] ? names[standing] : "new";
}

/* Text for a person's terminal: control characters (an ESC in a title could
 * move the cursor or retitle the window) shown as \xNN. */
static void put_text(ex_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            ex_buf_printf(b, "\\x%02x", *p);
        else
            ex_buf_put(b, p, 1);
    }
}

/* Every line of progress goes out in one write(2), so that it never
 * interleaves with a processor's own output. A reader that went away (EPIPE)
 * only loses the progress. */
static void emit(const ex_progress *pr, ex_buf *b)
{
    if (!b->failed && b->len)
        ex_write_all(pr->fd, b->data, b->len);
    ex_buf_free(b);
}

static bool plain(const ex_progress *pr)
{
    return pr->mode == EX_PROGRESS_PLAIN;
}

static bool json(const ex_progress *pr)
{
    return pr->mode == EX_PROGRESS_JSON;
}

/* {"event":…,"file":…,"time":…[,"scene":n] */
static void event_begin(const ex_progress *pr, ex_buf *b, const char *event,
                        const ex_scene_record *rec)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    ex_buf_printf(b, "{\"event\":\"%s\",\"file\":", event);
    ex_buf_json_string(b, pr->file);
    ex_buf_printf(b, ",\"time\":%lld.%03ld", (long long)tv.tv_sec, (long)tv.tv_usec / 1000);
    if (rec)
        ex_buf_printf(b, ",\"scene\":%ld", rec->scene_number);
}

static void event_end(const ex_progress *pr, ex_buf *b)
{
    ex_buf_printf(b, "}\n");
    emit(pr, b);
}

void ex_progress_init(ex_progress *pr, const ex_run_options *opts, const char *file,
                      size_t total)
{
    memset(pr, 0, sizeof *pr);
    pr->fd = opts->progress_fd;
    pr->mode = opts->progress;
    if (pr->mode == EX_PROGRESS_AUTO) {
        pr->mode = EX_PROGRESS_PLAIN;
        pr->live = isatty(pr->fd) == 1;
    }
    pr->tagged = opts->jobs > 1;
    pr->started = ex_now();
    pr->file = file;
    pr->total = total;
    pr->max_attempts = opts->retries + 1;
    pr->on_scene = opts->on_scene;
    pr->scene_ctx = opts->scene_ctx;
    pr->followed = opts->on_scene_numbers;
    pr->n_followed = opts->n_on_scene_numbers;
}

static bool followed(const ex_progress *pr, long number)
{
    size_t lo = 0, hi = pr->n_followed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pr->followed[mid] == number)
            return true;
        if (pr->followed[mid] < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* on_scene: every event of a scene it follows; of the others, one a second. */
static void tell(ex_progress *pr, const ex_scene_record *rec, const char *event)
{
    if (!pr->on_scene)
        return;
    if (pr->followed && !followed(pr, rec->scene_number)) {
        double now = ex_now();
        if (now < pr->tell_next)
            return;
        pr->tell_next = now + 1.0;
    }
    pr->on_scene(pr->scene_ctx, rec, event, pr->settled);
}

static void format_duration(char *buf, size_t size, double seconds)
{
    if (seconds < 0)
        seconds = 0;
    long s = (long)(seconds + 0.5);
    snprintf(buf, size, "%ldm %02lds", s / 60, s % 60);
}

/* ---- the bar on a terminal's last row ------------------------------------------
 *
 * As apt draws its progress: the rows above the last one are made a scroll
 * region (DECSTBM), so that every line printed, ours or a processor's, scrolls
 * there and never reaches the bar; the bar is drawn on the last row between a
 * save and a restore of the cursor, in one write. The summary releases the
 * region. Nothing of it outside a terminal in auto mode.
 */

/* The terminal's rows and columns; 0 when it does not say. */
static int terminal_size(int fd, int *cols)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0)
        return 0;
    *cols = ws.ws_col;
    return ws.ws_row;
}

static void bar_release(ex_progress *pr)
{
    if (!pr->bar_rows)
        return;
    ex_buf b = {0};
    /* The whole screen scrolls again; the bar's row is cleared. */
    ex_buf_printf(&b, "\0337\033[r\033[%d;1H\033[2K\0338", pr->bar_rows);
    emit(pr, &b);
    pr->bar_rows = 0;
}

/* "[#####-----] 5/12 scenes, 0m 21s, about 0m 30s left, scene 6 running" */
static void bar_text(const ex_progress *pr, char *line, size_t size, int cols)
{
    size_t total = pr->total ? pr->total : 1, done = pr->settled > total ? total : pr->settled;
    int width = cols - 72;
    width = width < 10 ? 10 : width > 30 ? 30 : width;
    int filled = (int)((double)width * (double)done / (double)total);
    char bar[32], elapsed[32], left[64] = "";
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '-', (size_t)(width - filled));
    bar[width] = '\0';
    double took = ex_now() - pr->started;
    format_duration(elapsed, sizeof elapsed, took);
    if (pr->processed > 0 && done < total) {
        char t[32];
        /* Skipped scenes cost nothing: the estimate comes from those run. */
        format_duration(t, sizeof t, took / (double)pr->processed * (double)(total - done));
        snprintf(left, sizeof left, ", about %s left", t);
    }
    char now[48] = "";
    if (pr->running == 1)
        snprintf(now, sizeof now, ", scene %ld running", pr->current);
    else if (pr->running > 1)
        snprintf(now, sizeof now, ", %zu scenes running", pr->running);
    snprintf(line, size, "[%s] %zu/%zu scenes, %s%s%s", bar, done, pr->total, elapsed, left, now);
    if ((int)strlen(line) > cols - 1) /* ASCII only: a byte is a column */
        line[cols - 1] = '\0';
}

/* Draw the bar (at most ten times a second unless `now`); false when the
 * terminal has no room for one. */
static bool bar_draw(ex_progress *pr, bool now)
{
    if (!pr->live || !plain(pr) || pr->bar_refused)
        return false;
    double t = ex_now();
    if (!now && t < pr->bar_next)
        return true;
    int cols = 0, rows = terminal_size(pr->fd, &cols);
    if (rows < 5 || cols < 40) {
        bar_release(pr);
        pr->bar_refused = true;
        return false;
    }
    ex_buf b = {0};
    if (pr->bar_rows != rows) {
        if (pr->bar_rows) /* resized: the region again, for the new height */
            ex_buf_printf(&b, "\0337\033[r\033[%d;1H\033[2K\0338", pr->bar_rows);
        /* A new line first, so that the cursor is off the row the bar takes;
         * setting the region homes the cursor: saved and restored around it. */
        ex_buf_printf(&b, "\n\0337\033[1;%dr\0338\033[1A", rows - 1);
        pr->bar_rows = rows;
    }
    char line[512];
    bar_text(pr, line, sizeof line, cols);
    ex_buf_printf(&b, "\0337\033[%d;1H\033[2K%s\0338", rows, line);
    emit(pr, &b);
    pr->bar_next = t + 0.1;
    return true;
}

void ex_progress_note(const ex_progress *pr, const char *level, const char *fmt, ...)
{
    if (!plain(pr) && !json(pr))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *text = ex_vformat(fmt, ap);
    va_end(ap);
    if (!text)
        return;
    ex_buf b = {0};
    if (json(pr)) {
        event_begin(pr, &b, "message", NULL);
        ex_buf_printf(&b, ",\"level\":\"%s\",\"message\":", level);
        ex_buf_json_string(&b, text);
        event_end(pr, &b);
    } else {
        put_text(&b, text);
        ex_buf_put(&b, "\n", 1);
        emit(pr, &b);
    }
    free(text);
}

void ex_progress_skip(ex_progress *pr, const ex_scene_record *rec)
{
    pr->settled++;
    tell(pr, rec, rec->state == EX_SCENE_LOCKED ? "locked" : "skipped");
    ex_buf b = {0};
    if (json(pr)) {
        event_begin(pr, &b, rec->state == EX_SCENE_LOCKED ? "locked" : "skipped", rec);
        ex_buf_printf(&b, ",\"reason\":");
        ex_buf_json_string(&b, rec->reason);
        event_end(pr, &b);
        return;
    }
    if (!plain(pr))
        return;
    /* "fresh" and "exists" are said as the contract words it; another
     * reason ("done by another run") is said as it is. */
    const char *why = rec->reason;
    if ((rec->standing == EX_STANDING_FRESH || rec->standing == EX_STANDING_EXISTS) &&
        (!why || strcmp(why, ex_standing_name(rec->standing)) == 0))
        why = "output already exists";
    ex_buf_printf(&b, "[%zu/%zu] Scene %ld: ", rec->index, pr->total, rec->scene_number);
    put_text(&b, rec->scene->title);
    ex_buf_printf(&b, "\n      Skipping (");
    put_text(&b, why);
    ex_buf_printf(&b, ")\n");
    emit(pr, &b);
    bar_draw(pr, false);
}

void ex_progress_start(ex_progress *pr, const ex_scene_record *rec, int attempt)
{
    tell(pr, rec, "start");
    pr->running++;
    pr->current = rec->scene_number;
    ex_buf b = {0};
    if (json(pr)) {
        event_begin(pr, &b, "start", rec);
        ex_buf_printf(&b, ",\"title\":");
        ex_buf_json_string(&b, rec->scene->title);
        ex_buf_printf(&b, ",\"attempt\":%d,\"index\":%zu,\"total\":%zu,\"reason\":",
                      attempt, rec->index, pr->total);
        ex_buf_json_string(&b, rec->reason);
        event_end(pr, &b);
        return;
    }
    if (!plain(pr))
        return;
    ex_buf_printf(&b, "[%zu/%zu] %s Scene %ld: ", rec->index, pr->total,
                  attempt == 1 ? "Processing" : "Retrying", rec->scene_number);
    put_text(&b, rec->scene->title);
    if (attempt > 1)
        ex_buf_printf(&b, " (attempt %d of %d)", attempt, pr->max_attempts);
    ex_buf_printf(&b, "\n");
    emit(pr, &b);
    bar_draw(pr, true); /* what runs now, before it prints */
}

void ex_progress_settled(ex_progress *pr, const ex_scene_record *rec)
{
    bool ok = rec->state == EX_SCENE_COMPLETED;
    pr->settled++;
    pr->processed++;
    tell(pr, rec, ok ? "done" : "failed");
    pr->running -= pr->running > 0;
    ex_buf b = {0};
    if (json(pr)) {
        event_begin(pr, &b, ok ? "done" : "failed", rec);
        ex_buf_printf(&b, ",\"attempts\":%d,\"seconds\":%.3f", rec->attempts, rec->seconds);
        if (!ok) {
            ex_buf_printf(&b, ",\"error\":");
            ex_buf_json_string(&b, rec->error);
        }
        event_end(pr, &b);
        return;
    }
    if (!plain(pr))
        return;
    ex_buf_printf(&b, "      ");
    if (pr->tagged)
        ex_buf_printf(&b, "Scene %ld: ", rec->scene_number);
    if (ok) {
        double last = rec->attempt_log && rec->attempts > 0
                          ? rec->attempt_log[rec->attempts - 1].seconds
                          : rec->seconds;
        ex_buf_printf(&b, "Done in %.1fs\n", last);
    } else {
        ex_buf_printf(&b, "Failed: ");
        put_text(&b, rec->error ? rec->error : "failed");
        ex_buf_printf(&b, "\n");
    }
    emit(pr, &b);
}

void ex_progress_retry(ex_progress *pr, const ex_scene_record *rec, double delay)
{
    tell(pr, rec, "retry");
    pr->running -= pr->running > 0;
    ex_buf b = {0};
    if (json(pr)) {
        event_begin(pr, &b, "retry", rec);
        ex_buf_printf(&b, ",\"attempt\":%d,\"delay\":%.3f,\"error\":", rec->attempts + 1,
                      delay);
        ex_buf_json_string(&b, rec->error);
        event_end(pr, &b);
        return;
    }
    if (!plain(pr))
        return;
    ex_buf_printf(&b, "      Scene %ld: attempt %d failed (", rec->scene_number,
                  rec->attempts);
    put_text(&b, rec->error ? rec->error : "failed");
    ex_buf_printf(&b, "); retrying in %.1fs\n", delay);
    emit(pr, &b);
}

void ex_progress_eta(ex_progress *pr, size_t done, size_t processed)
{
    if (!pr->live || !plain(pr) || done >= pr->total || bar_draw(pr, true))
        return;
    double elapsed = ex_now() - pr->started;
    char el[32], left[32];
    format_duration(el, sizeof el, elapsed);
    ex_buf b = {0};
    if (processed == 0) {
        ex_buf_printf(&b, "      %zu/%zu done, %s elapsed\n", done, pr->total, el);
    } else {
        /* Skipped scenes cost nothing: estimate from the scenes actually run. */
        format_duration(left, sizeof left,
                        elapsed / (double)processed * (double)(pr->total - done));
        ex_buf_printf(&b, "      %zu/%zu done, %s elapsed, about %s left\n", done,
                      pr->total, el, left);
    }
    emit(pr, &b);
}

static size_t not_run(const ex_stats *stats)
{
    return stats->total - stats->completed - stats->skipped - stats->failed - stats->locked;
}

void ex_progress_summary(ex_progress *pr, const ex_stats *stats, const char *report)
{
    bar_release(pr);
    ex_buf b = {0};
    if (json(pr)) {
        event_begin(pr, &b, "summary", NULL);
        ex_buf_printf(&b,
                      ",\"total\":%zu,\"completed\":%zu,\"skipped\":%zu,"
                      "\"failed\":%zu,\"locked\":%zu,\"not_run\":%zu,"
                      "\"elapsed_time\":%.3f,\"interrupted\":",
                      stats->total, stats->completed, stats->skipped, stats->failed,
                      stats->locked, not_run(stats), stats->elapsed_time);
        if (stats->interrupted)
            ex_buf_printf(&b, "\"%s\"", ex_signal_name(stats->interrupted));
        else
            ex_buf_printf(&b, "null");
        ex_buf_printf(&b, ",\"fatal\":");
        ex_buf_json_string(&b, stats->fatal);
        ex_buf_printf(&b, ",\"report\":");
        ex_buf_json_string(&b, report);
        event_end(pr, &b);
        return;
    }
    if (!plain(pr))
        return;
    char took[32];
    format_duration(took, sizeof took, stats->elapsed_time);
    ex_buf_printf(&b, "\nSummary for ");
    put_text(&b, pr->file);
    ex_buf_printf(&b, "\n");
    if (stats->interrupted)
        ex_buf_printf(&b, "  Interrupted by %s: running scenes were stopped and "
                          "stay undone\n", ex_signal_name(stats->interrupted));
    if (stats->fatal) {
        ex_buf_printf(&b, "  Stopped: ");
        put_text(&b, stats->fatal);
        ex_buf_printf(&b, "\n");
    }
    ex_buf_printf(&b, "  Completed: %zu\n  Skipped: %zu\n  Failed: %zu\n",
                  stats->completed, stats->skipped, stats->failed);
    if (stats->locked)
        ex_buf_printf(&b, "  Locked by another run: %zu\n", stats->locked);
    if (not_run(stats))
        ex_buf_printf(&b, "  Not run: %zu\n", not_run(stats));
    ex_buf_printf(&b, "  Time: %s (%.2fs)\n", took, stats->elapsed_time);
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        if (rec->state != EX_SCENE_FAILED)
            continue;
        ex_buf_printf(&b, "  Scene %ld failed: ", rec->scene_number);
        put_text(&b, rec->error ? rec->error : "failed");
        ex_buf_printf(&b, "\n");
    }
    if (report) {
        ex_buf_printf(&b, "  Report: ");
        put_text(&b, report);
        ex_buf_printf(&b, "\n");
    }
    emit(pr, &b);
}

static void plan_json_fields(ex_buf *b, const ex_scene_record *rec, bool run_it)
{
    ex_buf_printf(b, "\"scene\":%ld,\"action\":\"%s\",\"standing\":\"%s\",\"reason\":",
                  rec->scene_number, run_it ? "run" : "skip",
                  ex_standing_name(rec->standing));
    ex_buf_json_string(b, rec->reason);
    ex_buf_printf(b, ",\"title\":");
    ex_buf_json_string(b, rec->scene->title);
    ex_buf_printf(b, ",\"output_dir\":");
    ex_buf_json_string(b, rec->output_dir);
}

void ex_plan_print(const ex_run_options *opts, const char *file, const ex_stats *stats)
{
    if (opts->progress == EX_PROGRESS_QUIET && !opts->plan_json)
        return;
    ex_progress pr;
    ex_progress_init(&pr, opts, file, stats->n_records);
    ex_buf b = {0};
    size_t would = 0;
    if (opts->plan_json)
        ex_buf_printf(&b, "[");
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        bool run_it = rec->state == EX_SCENE_PENDING;
        would += run_it;
        if (opts->plan_json) {
            ex_buf_printf(&b, "%s\n  {", i ? "," : "");
            plan_json_fields(&b, rec, run_it);
            ex_buf_printf(&b, "}");
        } else if (json(&pr)) {
            event_begin(&pr, &b, "plan", NULL);
            ex_buf_printf(&b, ",");
            plan_json_fields(&b, rec, run_it);
            ex_buf_printf(&b, "}\n");
        } else {
            ex_buf_printf(&b, "%s Scene %ld: ", run_it ? "run " : "skip", rec->scene_number);
            put_text(&b, rec->scene->title);
            ex_buf_printf(&b, " (");
            put_text(&b, rec->reason);
            ex_buf_printf(&b, ")\n");
        }
    }
    if (opts->plan_json) {
        ex_buf_printf(&b, "\n]\n");
    } else if (!json(&pr)) {
        put_text(&b, file);
        ex_buf_printf(&b, ": would run %zu, skip %zu of %zu scenes\n", would,
                      stats->n_records - would, stats->n_records);
    }
    if (!b.failed)
        ex_write_all(opts->plan_fd, b.data, b.len);
    ex_buf_free(&b);
}

/* Write all of data to path through a temporary file, fsync'd, then renamed. */
static int write_atomically(const char *path, const char *data, size_t len)
{
    char *tmp = ex_format("%s.tmp.%ld", path, (long)getpid());
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    int rc = fd < 0 ? -1 : ex_write_all(fd, data, len);
    if (fd >= 0) {
        int saved = errno;
        if (close(fd) != 0 && rc == 0)
            rc = -1;
        else
            errno = saved;
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    free(tmp);
    return rc;
}

int ex_report_write(const char *path, const ex_document *doc,
                    const ex_run_options *opts, const ex_stats *stats)
{
    ex_buf b = {0};
    ex_buf_printf(&b, "{\n  \"file\": ");
    ex_buf_json_string(&b, doc->path ? doc->path : doc->name);
    ex_buf_printf(&b, ",\n  \"name\": ");
    ex_buf_json_string(&b, doc->name);
    ex_buf_printf(&b, ",\n  \"workflow\": ");
    ex_buf_json_string(&b, opts->workflow);
    ex_buf_printf(&b,
                  ",\n  \"total\": %zu, \"completed\": %zu, \"skipped\": %zu, "
                  "\"failed\": %zu, \"locked\": %zu, \"not_run\": %zu,\n"
                  "  \"elapsed_time\": %.3f, \"jobs\": %d, \"interrupted\": ",
                  stats->total, stats->completed, stats->skipped, stats->failed,
                  stats->locked, not_run(stats), stats->elapsed_time,
                  opts->jobs > 0 ? opts->jobs : 1);
    if (stats->interrupted)
        ex_buf_printf(&b, "\"%s\"", ex_signal_name(stats->interrupted));
    else
        ex_buf_printf(&b, "null");
    ex_buf_printf(&b, ", \"fatal\": ");
    ex_buf_json_string(&b, stats->fatal);
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
        ex_buf_printf(&b, ", \"state\": \"%s\", \"standing\": \"%s\", \"reason\": ",
                      ex_scene_state_name(r->state), ex_standing_name(r->standing));
        ex_buf_json_string(&b, r->reason);
        ex_buf_printf(&b, ", \"seconds\": %.3f, \"error\": ", r->seconds);
        ex_buf_json_string(&b, r->error);
        ex_buf_printf(&b, ", \"output_dir\": ");
        ex_buf_json_string(&b, r->output_dir);
        ex_buf_printf(&b, ", \"inputs\": \"%016llx\", \"attempts\": [",
                      (unsigned long long)r->inputs.key);
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
    int rc = write_atomically(path, b.data, b.len);
    int saved = errno;
    ex_buf_free(&b);
    errno = saved;
    return rc;
}
