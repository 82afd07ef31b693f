/*
 * orchestrate.c -- the run: select scenes, skip, dispatch, record, count.
 *
 * One scene's life: planned (run or skip, and why, from the journal and the
 * output file), locked (so that no other run on the same folder does it at
 * the same time), re-checked under the lock, journaled as started, processed
 * (here, or in a worker process when there are jobs or a timeout), journaled
 * as done or failed, retried with backoff, unlocked. The journal and the locks
 * live in <out>/<name>/.explainer.
 */
#include "orchestrate.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "journal.h"
#include "lock.h"
#include "report.h"
#include "worker.h"

double ex_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ex_run_options_init(ex_run_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->skip_existing = true;
    opts->output_base_dir = "output";
    opts->output_filename = "final.png";
    opts->continue_on_error = true;
    opts->progress = EX_PROGRESS_AUTO;
    opts->progress_fd = 2;
    opts->jobs = 1;
    opts->retry_delay = 1.0;
    opts->plan_fd = 1;
    opts->write_report = true;
}

char *ex_scene_output_dir(const char *base, const char *name, long number)
{
    int n = snprintf(NULL, 0, "%s/%s/scene_%02ld", base, name, number);
    if (n < 0)
        return NULL;
    char *dir = malloc((size_t)n + 1);
    if (dir)
        snprintf(dir, (size_t)n + 1, "%s/%s/scene_%02ld", base, name, number);
    return dir;
}

bool ex_output_exists(const char *dir, const char *filename)
{
    size_t len = strlen(dir) + strlen(filename) + 2;
    char *path = malloc(len);
    if (!path)
        return false;
    snprintf(path, len, "%s/%s", dir, filename);
    struct stat st;
    bool exists = stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
    free(path);
    return exists;
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

char *ex_state_dir(const char *base, const char *name)
{
    return ex_format("%s/%s/.explainer", base, name);
}

int ex_parse_rate(const char *spec, double *per_second)
{
    char *end;
    errno = 0;
    double count = strtod(spec, &end);
    if (end == spec || errno || !(count > 0) || !isfinite(count))
        return -1;
    double period = 1;
    if (*end == '/') {
        const char *unit = end + 1;
        static const struct { const char *name; double seconds; } units[] = {
            {"s", 1}, {"sec", 1}, {"second", 1}, {"m", 60}, {"min", 60},
            {"minute", 60}, {"h", 3600}, {"hour", 3600}};
        period = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strcasecmp(unit, units[i].name) == 0)
                period = units[i].seconds;
        if (period == 0)
            return -1;
    } else if (*end != '\0') {
        return -1;
    }
    *per_second = count / period;
    return 0;
}

int ex_parse_shard(const char *spec, int *index, int *count)
{
    char tail;
    int k, n;
    if (sscanf(spec, "%d/%d%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n)
        return -1;
    *index = k;
    *count = n;
    return 0;
}

/* ---- progress ------------------------------------------------------------ */

/* Progress is assembled in a buffer and written with one write(2) per event, so
 * lines from this process never interleave with a processor's own output. */
typedef struct progress {
    int fd;
    ex_progress_mode mode;
    bool live;           /* stderr is a terminal: show elapsed and time left */
    double started;
    bool tagged;         /* several scenes at once: say which one a line is about */
} progress;

static void write_whole(int fd, const char *data, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

static void progress_printf(const progress *pr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void progress_printf(const progress *pr, const char *fmt, ...)
{
    if (pr->mode != EX_PROGRESS_PLAIN)
        return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *line = small;
    if ((size_t)n >= sizeof small) {
        line = malloc((size_t)n + 1);
        if (!line)
            return;
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    write_whole(pr->fd, line, (size_t)n);
    if (line != small)
        free(line);
}

/* One JSON event line; `fields` is the JSON after the event name. */
static void progress_event(const progress *pr, ex_buf *b)
{
    if (pr->mode == EX_PROGRESS_JSON && !b->failed) {
        ex_buf_printf(b, "}\n");
        write_whole(pr->fd, b->data, b->len);
    }
    ex_buf_free(b);
}

static void event_begin(ex_buf *b, const char *event, const ex_scene_record *rec)
{
    ex_buf_printf(b, "{\"event\":\"%s\"", event);
    if (rec)
        ex_buf_printf(b, ",\"scene\":%ld", rec->scene_number);
}

static void format_duration(char *buf, size_t size, double seconds)
{
    if (seconds < 0)
        seconds = 0;
    long s = (long)(seconds + 0.5);
    snprintf(buf, size, "%ldm %02lds", s / 60, s % 60);
}

/* After each scene: on a terminal, how far along the run is and what remains. */
static void progress_eta(const progress *pr, size_t done, size_t total,
                         size_t processed)
{
    if (!pr->live || pr->mode != EX_PROGRESS_PLAIN || done >= total)
        return;
    double elapsed = ex_now() - pr->started;
    char el[32], left[32];
    format_duration(el, sizeof el, elapsed);
    if (processed == 0) {
        progress_printf(pr, "      %zu/%zu done, %s elapsed\n", done, total, el);
        return;
    }
    /* Skipped scenes cost nothing: estimate from the scenes actually run. */
    format_duration(left, sizeof left,
                    elapsed / (double)processed * (double)(total - done));
    progress_printf(pr, "      %zu/%zu done, %s elapsed, about %s left\n", done,
                    total, el, left);
}

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

static void print_summary(const progress *pr, const char *file,
                          const ex_stats *stats, const char *report)
{
    size_t not_run = stats->total - stats->completed - stats->skipped -
                     stats->failed - stats->locked;
    if (pr->mode == EX_PROGRESS_JSON) {
        ex_buf b = {0};
        event_begin(&b, "summary", NULL);
        ex_buf_printf(&b, ",\"file\":");
        ex_buf_json_string(&b, file);
        ex_buf_printf(&b,
                      ",\"total\":%zu,\"completed\":%zu,\"skipped\":%zu,"
                      "\"failed\":%zu,\"locked\":%zu,\"not_run\":%zu,"
                      "\"elapsed_time\":%.3f,\"interrupted\":",
                      stats->total, stats->completed, stats->skipped, stats->failed,
                      stats->locked, not_run, stats->elapsed_time);
        if (stats->interrupted)
            ex_buf_printf(&b, "\"%s\"", signal_name(stats->interrupted));
        else
            ex_buf_printf(&b, "null");
        ex_buf_printf(&b, ",\"report\":");
        ex_buf_json_string(&b, report);
        progress_event(pr, &b);
        return;
    }
    char took[32];
    format_duration(took, sizeof took, stats->elapsed_time);
    progress_printf(pr, "\nSummary for %s\n", file);
    if (stats->interrupted)
        progress_printf(pr, "  Interrupted by %s: running scenes were stopped and "
                            "stay undone\n", signal_name(stats->interrupted));
    progress_printf(pr, "  Completed: %zu\n  Skipped: %zu\n  Failed: %zu\n",
                    stats->completed, stats->skipped, stats->failed);
    if (stats->locked)
        progress_printf(pr, "  Locked by another run: %zu\n", stats->locked);
    if (not_run)
        progress_printf(pr, "  Not run: %zu\n", not_run);
    progress_printf(pr, "  Time: %s (%.2fs)\n", took, stats->elapsed_time);
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        if (rec->state == EX_SCENE_FAILED)
            progress_printf(pr, "  Scene %ld failed: %s\n", rec->scene_number,
                            rec->error ? rec->error : "failed");
    }
    if (report)
        progress_printf(pr, "  Report: %s\n", report);
}

/* ---- selection and planning ------------------------------------------------ */

static bool selected(const ex_run_options *opts, const ex_document *doc, size_t i)
{
    if (opts->shard_count > 0 && (long)(i % (size_t)opts->shard_count) !=
                                     opts->shard_index - 1)
        return false;
    if (!opts->scene_numbers)
        return true;
    for (size_t k = 0; k < opts->n_scene_numbers; k++)
        if (opts->scene_numbers[k] == doc->scenes[i].number)
            return true;
    return false;
}

static char *duplicate_message(const ex_document *doc)
{
    const char *file = doc->path ? doc->path : doc->name;
    for (size_t i = 0; i < doc->n_scenes; i++)
        for (size_t j = i + 1; j < doc->n_scenes; j++)
            if (doc->scenes[i].number == doc->scenes[j].number)
                return ex_format(
                    "%s: duplicate scene number %ld (lines %ld and %ld); "
                    "their outputs would overwrite each other",
                    file, doc->scenes[i].number, doc->scenes[i].line,
                    doc->scenes[j].line);
    return NULL;
}

void ex_stats_free(ex_stats *stats)
{
    if (!stats)
        return;
    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        free(rec->output_dir);
        free(rec->error);
        free(rec->result);
        for (int a = 0; rec->attempt_log && a < rec->attempts; a++)
            free(rec->attempt_log[a].error);
        free(rec->attempt_log);
    }
    free(stats->records);
    memset(stats, 0, sizeof *stats);
}

static uint64_t scene_inputs(const ex_document *doc, const ex_run_options *opts,
                             const ex_scene *scene)
{
    size_t i = (size_t)(scene - doc->scenes);
    if (opts->inputs && opts->inputs[i]) {
        /* A different seed from the content hash: switching to inputs() (or
         * back) counts as a change. */
        uint64_t h = ex_hash_bytes(EX_HASH_SEED, "inputs()", 8);
        return ex_hash_bytes(h, opts->inputs[i], opts->inputs_len ? opts->inputs_len[i]
                                                                  : strlen(opts->inputs[i]));
    }
    return ex_scene_hash(scene);
}

/* Fill stats->records with the selected scenes (file order). */
static int make_records(const ex_document *doc, const ex_run_options *opts,
                        ex_stats *stats, char **errmsg)
{
    const char *file = doc->path ? doc->path : doc->name;
    size_t n = 0;
    for (size_t i = 0; i < doc->n_scenes; i++)
        if (selected(opts, doc, i))
            n++;
    stats->records = calloc(n ? n : 1, sizeof *stats->records);
    if (!stats->records) {
        *errmsg = ex_format("%s: out of memory", file);
        return -1;
    }
    stats->total = n;
    for (size_t i = 0; i < doc->n_scenes; i++) {
        if (!selected(opts, doc, i))
            continue;
        ex_scene_record *rec = &stats->records[stats->n_records++];
        rec->scene = &doc->scenes[i];
        rec->scene_number = rec->scene->number;
        rec->inputs = scene_inputs(doc, opts, rec->scene);
        rec->output_dir = ex_scene_output_dir(opts->output_base_dir, doc->name,
                                              rec->scene_number);
        if (!rec->output_dir) {
            *errmsg = ex_format("%s: out of memory", file);
            return -1;
        }
    }
    return 0;
}

/* Does the scene need to run, and why (rec->reason)? */
static bool needs_run(const ex_run_options *opts, const ex_journal *journal,
                      ex_scene_record *rec)
{
    if (!opts->skip_existing) {
        rec->reason = "forced";
        return true;
    }
    bool exists = ex_output_exists(rec->output_dir, opts->output_filename);
    const ex_journal_entry *e = journal ? ex_journal_get(journal, rec->scene_number) : NULL;
    if (!e) { /* outputs made some other way: the plain rule */
        rec->reason = exists ? "exists" : "missing";
        return !exists;
    }
    switch (e->state) {
    case EX_JOURNAL_STARTED:
        rec->reason = "incomplete";
        return true;
    case EX_JOURNAL_FAILED:
        rec->reason = "failed";
        return true;
    default:
        if (e->inputs != rec->inputs) {
            rec->reason = "changed";
            return true;
        }
        rec->reason = exists ? "done" : "missing";
        return !exists;
    }
}

static char *lock_path(const char *state_dir, long number)
{
    return ex_format("%s/locks/scene_%02ld.lock", state_dir, number);
}

static int refuse(ex_stats *stats, char **errmsg, char *msg, const char *file)
{
    *errmsg = msg ? msg : ex_format("%s: out of memory", file);
    (void)stats;
    return -1;
}

/* ---- the run ------------------------------------------------------------- */

typedef enum sched_state { S_TODO = 0, S_WAIT, S_RUNNING, S_DONE } sched_state;

typedef struct run {
    const ex_document *doc;
    const ex_run_options *opts;
    ex_process_fn process;
    void *ctx;
    ex_stats *stats;
    progress pr;
    const char *file;
    char *state_dir;
    ex_journal journal;
    int *lock_fds;            /* per record */
    sched_state *sched;       /* per record */
    double *not_before;       /* per record: when its retry may start */
    size_t ordinal;           /* scenes reached, for [i/n] */
    size_t finished;          /* scenes reached and settled */
    size_t processed;
    double last_start;
    bool stop;                /* no new scenes: abort-on-error or interrupt */
    uint64_t rng;
} run;

static double jitter(run *r)
{
    /* xorshift64: the backoff's jitter needs no quality, only no global state */
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (double)(r->rng >> 11) / 9007199254740992.0;
}

/* Exponential backoff with jitter: base * 2^(attempt-1), between half and all
 * of it, so that retries of many scenes do not hit a service in step. */
static double backoff(run *r, int attempt)
{
    double d = r->opts->retry_delay * pow(2, attempt - 1);
    if (d > 300)
        d = 300;
    return d * (0.5 + 0.5 * jitter(r));
}

static void emit_skip(run *r, ex_scene_record *rec, ex_scene_state state)
{
    rec->state = state;
    rec->index = ++r->ordinal;
    r->finished++;
    if (state == EX_SCENE_LOCKED)
        r->stats->locked++;
    else
        r->stats->skipped++;
    if (r->pr.mode == EX_PROGRESS_JSON) {
        ex_buf b = {0};
        event_begin(&b, "skipped", rec);
        ex_buf_printf(&b, ",\"reason\":");
        ex_buf_json_string(&b, rec->reason);
        progress_event(&r->pr, &b);
        return;
    }
    const char *why = rec->reason;
    if (strcmp(why, "done") == 0 || strcmp(why, "exists") == 0)
        why = "output already exists";
    progress_printf(&r->pr, "[%zu/%zu] Scene %ld: %s\n      Skipping (%s)\n",
                    rec->index, r->stats->total, rec->scene_number,
                    rec->scene->title, why);
}

/* Take the scene's lock and look again: another run may have done it since
 * this one read the journal. Returns true when the scene is ours to run. */
static bool acquire(run *r, size_t i)
{
    ex_scene_record *rec = &r->stats->records[i];
    char *path = lock_path(r->state_dir, rec->scene_number);
    int fd = path ? ex_lock_try(path) : -1;
    int err = errno;
    free(path);
    if (fd < 0) {
        if (err == EWOULDBLOCK) {
            rec->reason = "locked by another run";
            emit_skip(r, rec, EX_SCENE_LOCKED);
            r->sched[i] = S_DONE;
            return false;
        }
        /* A lock that cannot be made (odd file system): run unlocked rather
         * than not at all; concurrent runs are then on their own. */
    }
    r->lock_fds[i] = fd;
    ex_journal_refresh(&r->journal);
    const char *planned = rec->reason;
    if (!needs_run(r->opts, &r->journal, rec)) {
        rec->reason = "done by another run";
        if (fd >= 0)
            close(fd);
        r->lock_fds[i] = -1;
        emit_skip(r, rec, EX_SCENE_SKIPPED);
        r->sched[i] = S_DONE;
        return false;
    }
    /* "incomplete" now may only mean that the run before us died in it; the
     * reason the plan gave is the one the user wants to see. */
    rec->reason = planned;
    return true;
}

static void release(run *r, size_t i)
{
    if (r->lock_fds[i] >= 0)
        close(r->lock_fds[i]);
    r->lock_fds[i] = -1;
}

static void emit_start(run *r, ex_scene_record *rec, int attempt)
{
    if (attempt == 1)
        rec->index = ++r->ordinal;
    r->last_start = ex_now();
    ex_journal_append(&r->journal, EX_JOURNAL_STARTED, rec->scene_number,
                      rec->inputs, attempt, 0);
    if (r->pr.mode == EX_PROGRESS_JSON) {
        ex_buf b = {0};
        event_begin(&b, "start", rec);
        ex_buf_printf(&b, ",\"title\":");
        ex_buf_json_string(&b, rec->scene->title);
        ex_buf_printf(&b, ",\"attempt\":%d,\"index\":%zu,\"total\":%zu,\"reason\":",
                      attempt, rec->index, r->stats->total);
        ex_buf_json_string(&b, rec->reason);
        progress_event(&r->pr, &b);
    } else if (attempt == 1) {
        progress_printf(&r->pr, "[%zu/%zu] Processing Scene %ld: %s\n", rec->index,
                        r->stats->total, rec->scene_number, rec->scene->title);
    } else {
        progress_printf(&r->pr, "[%zu/%zu] Retrying Scene %ld: %s (attempt %d of %d)\n",
                        rec->index, r->stats->total, rec->scene_number,
                        rec->scene->title, attempt, r->opts->retries + 1);
    }
}

/* Record one attempt's outcome; takes ownership of out's strings. Returns
 * whether it succeeded. */
static bool record_attempt(run *r, ex_scene_record *rec, ex_outcome *out, double seconds)
{
    ex_attempt *log = realloc(rec->attempt_log, ((size_t)rec->attempts + 1) * sizeof *log);
    if (log) {
        rec->attempt_log = log;
        log[rec->attempts].seconds = seconds;
        log[rec->attempts].error =
            out->ok ? NULL : out->error ? strdup(out->error) : strdup("failed");
        rec->attempts++;
    }
    rec->seconds += seconds;
    free(rec->result);
    rec->result = out->result;
    rec->result_len = out->result_len;
    out->result = NULL;
    free(rec->error);
    rec->error = NULL;
    ex_journal_append(&r->journal, out->ok ? EX_JOURNAL_DONE : EX_JOURNAL_FAILED,
                      rec->scene_number, rec->inputs, rec->attempts, seconds);
    if (out->ok) {
        free(out->error);
    } else {
        rec->error = out->error ? out->error : ex_format("failed");
    }
    out->error = NULL;
    return out->ok;
}

static void settle(run *r, size_t i, ex_scene_state state)
{
    ex_scene_record *rec = &r->stats->records[i];
    rec->state = state;
    r->sched[i] = S_DONE;
    r->finished++;
    r->processed++;
    release(r, i);
    const char *tag_fmt = r->pr.tagged ? "      Scene %ld: " : "      ";
    char tag[64];
    snprintf(tag, sizeof tag, tag_fmt, rec->scene_number);
    if (state == EX_SCENE_COMPLETED) {
        r->stats->completed++;
        if (r->pr.mode == EX_PROGRESS_JSON) {
            ex_buf b = {0};
            event_begin(&b, "done", rec);
            ex_buf_printf(&b, ",\"attempts\":%d,\"seconds\":%.3f", rec->attempts,
                          rec->seconds);
            progress_event(&r->pr, &b);
        } else {
            progress_printf(&r->pr, "%sDone in %.1fs\n", tag,
                            rec->attempt_log ? rec->attempt_log[rec->attempts - 1].seconds
                                             : rec->seconds);
        }
    } else {
        r->stats->failed++;
        if (r->pr.mode == EX_PROGRESS_JSON) {
            ex_buf b = {0};
            event_begin(&b, "failed", rec);
            ex_buf_printf(&b, ",\"attempts\":%d,\"seconds\":%.3f,\"error\":",
                          rec->attempts, rec->seconds);
            ex_buf_json_string(&b, rec->error);
            progress_event(&r->pr, &b);
        } else {
            progress_printf(&r->pr, "%sFailed: %s\n", tag, rec->error ? rec->error : "failed");
        }
        if (!r->opts->continue_on_error && !r->stop) {
            r->stop = true;
            progress_printf(&r->pr, "Stopping: --abort-on-error is set\n");
        }
    }
    progress_eta(&r->pr, r->finished, r->stats->total, r->processed);
}

static void emit_retry(run *r, ex_scene_record *rec, double delay)
{
    if (r->pr.mode == EX_PROGRESS_JSON) {
        ex_buf b = {0};
        event_begin(&b, "retry", rec);
        ex_buf_printf(&b, ",\"attempt\":%d,\"delay\":%.3f,\"error\":", rec->attempts + 1,
                      delay);
        ex_buf_json_string(&b, rec->error);
        progress_event(&r->pr, &b);
        return;
    }
    progress_printf(&r->pr, "      Scene %ld: attempt %d failed (%s); retrying in %.1fs\n",
                    rec->scene_number, rec->attempts, rec->error ? rec->error : "failed",
                    delay);
}

/* Sleep, but wake at once for an interrupt. */
static void pause_for(double seconds)
{
    double until = ex_now() + seconds;
    while (!ex_signals_interrupted()) {
        double left = until - ex_now();
        if (left <= 0)
            return;
        struct pollfd p = {ex_signals_fd(), POLLIN, 0};
        poll(&p, p.fd >= 0 ? 1 : 0, (int)(left * 1000) + 1);
        ex_signals_drain();
    }
}

static double rate_next(const run *r)
{
    return r->opts->rate > 0 ? r->last_start + 1.0 / r->opts->rate : 0;
}

static bool call_here(run *r, ex_scene_record *rec, ex_outcome *out, double *seconds)
{
    *out = (ex_outcome){false, NULL, NULL, 0, false};
    double t0 = ex_now();
    if (ex_mkdir_p(rec->output_dir) != 0)
        out->error = ex_format("cannot create %s: %s", rec->output_dir,
                                    strerror(errno));
    else
        r->process(r->ctx, r->doc, rec->scene, rec->output_dir, out);
    *seconds = ex_now() - t0;
    return out->ok;
}

/* jobs = 1 and no timeout: the processor runs in this process, so closures
 * that change the caller's state work as they always did. */
static void run_here(run *r)
{
    ex_stats *stats = r->stats;
    for (size_t i = 0; i < stats->n_records && !r->stop; i++) {
        ex_scene_record *rec = &stats->records[i];
        if (ex_signals_interrupted())
            break;
        if (r->sched[i] == S_DONE) {
            emit_skip(r, rec, EX_SCENE_SKIPPED);
            continue;
        }
        if (!acquire(r, i))
            continue;
        for (int attempt = 1;; attempt++) {
            double wait = rate_next(r) - ex_now();
            if (wait > 0)
                pause_for(wait);
            if (ex_signals_interrupted())
                break;
            emit_start(r, rec, attempt);
            ex_outcome out;
            double seconds;
            call_here(r, rec, &out, &seconds);
            if (!out.ok && ex_signals_interrupted()) {
                free(out.error);
                free(out.result);
                break; /* stopped by the interrupt: stays undone ("started") */
            }
            if (record_attempt(r, rec, &out, seconds)) {
                settle(r, i, EX_SCENE_COMPLETED);
                break;
            }
            if (attempt > r->opts->retries || ex_signals_interrupted()) {
                settle(r, i, EX_SCENE_FAILED);
                break;
            }
            double delay = backoff(r, attempt);
            emit_retry(r, rec, delay);
            pause_for(delay);
        }
        release(r, i);
    }
}

typedef struct worker_job {
    run *r;
    ex_scene_record *rec;
} worker_job;

static void worker_body(void *arg, ex_outcome *out)
{
    worker_job *job = arg;
    run *r = job->r;
    r->process(r->ctx, r->doc, job->rec->scene, job->rec->output_dir, out);
}

/* Start record i (attempt) in a free worker slot. */
static void start_worker(run *r, ex_worker *w, ex_worker *workers, size_t i,
                         int attempt, int *close_fds)
{
    ex_scene_record *rec = &r->stats->records[i];
    emit_start(r, rec, attempt);
    size_t n_close = 0;
    close_fds[n_close++] = r->journal.fd;
    for (int k = 0; k < r->opts->jobs; k++) {
        if (workers[k].pid <= 0)
            continue;
        close_fds[n_close++] = workers[k].result_fd;
        close_fds[n_close++] = workers[k].out.fd;
        close_fds[n_close++] = workers[k].err.fd;
    }
    for (size_t k = 0; k < r->stats->n_records; k++)
        if (r->lock_fds[k] >= 0 && k != i)
            close_fds[n_close++] = r->lock_fds[k];
    r->sched[i] = S_RUNNING;
    w->record = i;
    w->attempt = attempt;
    w->started = ex_now();
    w->deadline = r->opts->timeout > 0 ? w->started + r->opts->timeout : 0;
    if (ex_mkdir_p(rec->output_dir) != 0) {
        ex_outcome out = {false, ex_format("cannot create %s: %s", rec->output_dir,
                                                strerror(errno)),
                          NULL, 0, false};
        w->pid = 0;
        record_attempt(r, rec, &out, 0);
        settle(r, i, EX_SCENE_FAILED);
        return;
    }
    worker_job job = {r, rec};
    if (ex_worker_start(w, worker_body, &job, close_fds, n_close) != 0) {
        ex_outcome out = {false, ex_format("cannot start a worker: %s",
                                                strerror(errno)),
                          NULL, 0, false};
        w->pid = 0;
        record_attempt(r, rec, &out, 0);
        settle(r, i, EX_SCENE_FAILED);
    }
}

/* A worker ended (or was killed): record, then settle or schedule a retry. */
static void worker_done(run *r, ex_worker *w)
{
    size_t i = w->record;
    ex_scene_record *rec = &r->stats->records[i];
    double seconds = ex_now() - w->started;
    bool interrupted = w->killed;
    ex_outcome out;
    ex_worker_finish(w, r->opts->timeout, &out);
    if (interrupted) {
        free(out.error);
        free(out.result);
        r->sched[i] = S_TODO; /* stays undone: its journal record says "started" */
        rec->reason = "interrupted";
        release(r, i);
        return;
    }
    if (record_attempt(r, rec, &out, seconds)) {
        settle(r, i, EX_SCENE_COMPLETED);
    } else if (rec->attempts <= r->opts->retries && !ex_signals_interrupted()) {
        double delay = backoff(r, rec->attempts);
        emit_retry(r, rec, delay);
        r->sched[i] = S_WAIT; /* keeps its lock through the backoff */
        r->not_before[i] = ex_now() + delay;
    } else {
        settle(r, i, EX_SCENE_FAILED);
    }
}

/* jobs > 1 or a timeout: each scene in a worker process, `jobs` at a time. */
static void run_workers(run *r)
{
    ex_stats *stats = r->stats;
    int jobs = r->opts->jobs > 0 ? r->opts->jobs : 1;
    ex_worker *workers = calloc((size_t)jobs, sizeof *workers);
    int *close_fds = malloc((1 + 3 * (size_t)jobs + stats->n_records) * sizeof *close_fds);
    struct pollfd *fds = malloc((1 + 3 * (size_t)jobs) * sizeof *fds);
    if (!workers || !close_fds || !fds) {
        free(workers), free(close_fds), free(fds);
        r->stop = true;
        return;
    }
    size_t cursor = 0; /* next record never started */
    bool interrupted_handled = false;
    for (;;) {
        double now = ex_now();
        if (ex_signals_interrupted() && !interrupted_handled) {
            interrupted_handled = true;
            r->stop = true;
            for (int k = 0; k < jobs; k++)
                if (workers[k].pid > 0) {
                    workers[k].killed = true;
                    ex_worker_kill(&workers[k]);
                }
        }
        /* Timeouts. */
        for (int k = 0; k < jobs; k++) {
            ex_worker *w = &workers[k];
            if (w->pid > 0 && !w->reaped && w->deadline > 0 && now >= w->deadline) {
                w->timed_out = true;
                ex_worker_kill(w);
            }
        }
        /* Reap. */
        int running = 0;
        for (int k = 0; k < jobs; k++) {
            ex_worker *w = &workers[k];
            if (w->pid <= 0)
                continue;
            if (!w->reaped) {
                pid_t got = waitpid(w->pid, &w->status, WNOHANG);
                if (got == w->pid)
                    w->reaped = true;
            }
            if (w->reaped)
                worker_done(r, w);
            else
                running++;
        }
        /* Start what may start. */
        double wake = now + 1.0;
        bool more = false;
        for (int k = 0; k < jobs; k++) {
            ex_worker *w = &workers[k];
            if (w->pid > 0)
                continue;
            if (ex_signals_interrupted())
                break;
            /* A due retry first, then the next scene in file order. */
            size_t pick = SIZE_MAX;
            for (size_t i = 0; i < stats->n_records; i++)
                if (r->sched[i] == S_WAIT) {
                    if (r->not_before[i] <= ex_now()) {
                        pick = i;
                        break;
                    }
                    if (r->not_before[i] < wake)
                        wake = r->not_before[i];
                }
            while (pick == SIZE_MAX && !r->stop && cursor < stats->n_records) {
                size_t i = cursor++;
                if (r->sched[i] == S_TODO && acquire(r, i))
                    pick = i;
            }
            if (pick == SIZE_MAX)
                break;
            double at = rate_next(r);
            if (at > ex_now()) {
                /* Not yet: put it back where it will be found first. */
                if (r->sched[pick] == S_TODO) {
                    r->sched[pick] = S_WAIT;
                }
                r->not_before[pick] = at;
                if (at < wake)
                    wake = at;
                break;
            }
            int attempt = stats->records[pick].attempts + 1;
            start_worker(r, w, workers, pick, attempt, close_fds);
            if (w->pid > 0)
                running++;
        }
        for (size_t i = 0; i < stats->n_records && !more; i++)
            more = r->sched[i] == S_WAIT;
        if (!r->stop && cursor < stats->n_records)
            more = true;
        if (running == 0 && (!more || ex_signals_interrupted()))
            break;
        /* Wait for output, an exit, a signal, a deadline or a due start. */
        nfds_t n = 0;
        fds[n++] = (struct pollfd){ex_signals_fd(), POLLIN, 0};
        for (int k = 0; k < jobs; k++) {
            ex_worker *w = &workers[k];
            if (w->pid <= 0)
                continue;
            if (w->deadline > 0 && w->deadline < wake)
                wake = w->deadline;
            int rfds[3] = {w->result_fd, w->out.fd, w->err.fd};
            for (int f = 0; f < 3; f++)
                if (rfds[f] >= 0)
                    fds[n++] = (struct pollfd){rfds[f], POLLIN, 0};
        }
        double left = wake - ex_now();
        int ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
        poll(fds, n, ms);
        ex_signals_drain();
        for (int k = 0; k < jobs; k++)
            if (workers[k].pid > 0)
                ex_worker_pump(&workers[k]);
    }
    /* Retries cut short by an interrupt: the last attempt's failure stands. */
    for (size_t i = 0; i < stats->n_records; i++)
        if (r->sched[i] == S_WAIT) {
            if (stats->records[i].attempts > 0) {
                settle(r, i, EX_SCENE_FAILED);
            } else {
                r->sched[i] = S_TODO;
                release(r, i);
            }
        }
    free(workers);
    free(close_fds);
    free(fds);
}

static void print_plan(const ex_run_options *opts, const char *file, const ex_stats *stats)
{
    if (opts->progress == EX_PROGRESS_QUIET)
        return;
    ex_buf b = {0};
    size_t would = 0;
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        bool run_it = rec->state == EX_SCENE_PENDING;
        would += run_it;
        if (opts->progress == EX_PROGRESS_JSON) {
            ex_buf_printf(&b, "{\"event\":\"plan\",\"scene\":%ld,\"action\":\"%s\",\"reason\":",
                          rec->scene_number, run_it ? "run" : "skip");
            ex_buf_json_string(&b, rec->reason);
            ex_buf_printf(&b, ",\"title\":");
            ex_buf_json_string(&b, rec->scene->title);
            ex_buf_printf(&b, "}\n");
        } else {
            ex_buf_printf(&b, "%s Scene %ld: %s (%s)\n", run_it ? "run " : "skip",
                          rec->scene_number, rec->scene->title, rec->reason);
        }
    }
    if (opts->progress != EX_PROGRESS_JSON)
        ex_buf_printf(&b, "%s: would run %zu, skip %zu of %zu scenes\n", file, would,
                      stats->n_records - would, stats->n_records);
    if (!b.failed)
        write_whole(opts->plan_fd, b.data, b.len);
    ex_buf_free(&b);
}

/* The journal as it stands, read-only (dry run, status). */
static int read_journal(const ex_document *doc, const ex_run_options *opts,
                        ex_journal *journal, char **state_dir, char **errmsg)
{
    const char *file = doc->path ? doc->path : doc->name;
    *state_dir = ex_state_dir(opts->output_base_dir, doc->name);
    char *path = *state_dir ? ex_format("%s/journal", *state_dir) : NULL;
    if (!path)
        return refuse(NULL, errmsg, NULL, file);
    int rc = ex_journal_open(journal, path, false);
    if (rc != 0)
        *errmsg = ex_format("%s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int ex_status(const ex_document *doc, const ex_run_options *opts,
              ex_stats *stats, char **errmsg)
{
    memset(stats, 0, sizeof *stats);
    *errmsg = NULL;
    stats->dry_run = true;
    if (make_records(doc, opts, stats, errmsg) != 0)
        return -1;
    ex_journal journal;
    char *state_dir = NULL;
    if (read_journal(doc, opts, &journal, &state_dir, errmsg) != 0) {
        free(state_dir);
        return -1;
    }
    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        const ex_journal_entry *e = ex_journal_get(&journal, rec->scene_number);
        bool exists = ex_output_exists(rec->output_dir, opts->output_filename);
        char *lp = lock_path(state_dir, rec->scene_number);
        bool running = lp && ex_lock_held(lp);
        free(lp);
        rec->state = EX_SCENE_PENDING;
        if (running) {
            rec->reason = "running";
        } else if (!e) {
            rec->reason = exists ? "exists" : "not run";
        } else if (e->state == EX_JOURNAL_STARTED) {
            rec->reason = "incomplete";
        } else if (e->state == EX_JOURNAL_FAILED) {
            rec->reason = "failed";
            rec->state = EX_SCENE_FAILED;
        } else if (e->inputs != rec->inputs) {
            rec->reason = "changed";
        } else {
            rec->reason = exists ? "done" : "missing";
        }
        if (strcmp(rec->reason, "done") == 0 || strcmp(rec->reason, "exists") == 0)
            rec->state = EX_SCENE_COMPLETED;
        if (e) {
            rec->attempts = e->attempt;
            rec->seconds = e->seconds;
        }
    }
    ex_journal_close(&journal);
    free(state_dir);
    return 0;
}

int ex_orchestrate(const ex_document *doc, const ex_run_options *opts,
                   ex_process_fn process, void *ctx, ex_stats *stats,
                   char **errmsg)
{
    memset(stats, 0, sizeof *stats);
    *errmsg = NULL;
    double started = ex_now();
    const char *file = doc->path ? doc->path : doc->name;

    if (doc->has_duplicates)
        return refuse(stats, errmsg, duplicate_message(doc), file);

    progress pr = {opts->progress_fd, opts->progress, false, started, false};
    if (pr.mode == EX_PROGRESS_AUTO) {
        pr.mode = EX_PROGRESS_PLAIN;
        pr.live = isatty(pr.fd) == 1;
    }
    bool in_workers = opts->jobs > 1 || opts->timeout > 0;
    pr.tagged = opts->jobs > 1;

    for (size_t i = 0; opts->scene_numbers && i < opts->n_scene_numbers; i++)
        if (!ex_document_scene(doc, opts->scene_numbers[i]))
            progress_printf(&pr, "warning: %s has no scene %ld\n", file,
                            opts->scene_numbers[i]);

    if (make_records(doc, opts, stats, errmsg) != 0)
        return -1;

    run r;
    memset(&r, 0, sizeof r);
    r.doc = doc;
    r.opts = opts;
    r.process = process;
    r.ctx = ctx;
    r.stats = stats;
    r.pr = pr;
    r.file = file;
    r.rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15u ^ (uint64_t)(started * 1e6) ^ 1;
    r.last_start = -1e9;

    if (opts->dry_run) {
        stats->dry_run = true;
        if (read_journal(doc, opts, &r.journal, &r.state_dir, errmsg) != 0) {
            free(r.state_dir);
            return -1;
        }
        for (size_t i = 0; i < stats->n_records; i++) {
            ex_scene_record *rec = &stats->records[i];
            if (needs_run(opts, &r.journal, rec)) {
                char *lp = lock_path(r.state_dir, rec->scene_number);
                if (lp && ex_lock_held(lp))
                    rec->reason = "running in another run";
                free(lp);
                rec->state = EX_SCENE_PENDING;
            } else {
                rec->state = EX_SCENE_SKIPPED;
                stats->skipped++;
            }
        }
        ex_journal_close(&r.journal);
        free(r.state_dir);
        stats->elapsed_time = ex_now() - started;
        print_plan(opts, file, stats);
        return 0;
    }

    r.state_dir = ex_state_dir(opts->output_base_dir, doc->name);
    char *locks = r.state_dir ? ex_format("%s/locks", r.state_dir) : NULL;
    char *jpath = r.state_dir ? ex_format("%s/journal", r.state_dir) : NULL;
    if (!locks || !jpath) {
        free(locks), free(jpath), free(r.state_dir);
        return refuse(stats, errmsg, NULL, file);
    }
    if (ex_mkdir_p(locks) != 0 || ex_journal_open(&r.journal, jpath, true) != 0) {
        char *msg = ex_format("cannot use %s: %s", r.state_dir, strerror(errno));
        free(locks), free(jpath), free(r.state_dir);
        return refuse(stats, errmsg, msg, file);
    }
    free(locks);
    free(jpath);
    r.lock_fds = malloc((stats->n_records ? stats->n_records : 1) * sizeof *r.lock_fds);
    r.sched = calloc(stats->n_records ? stats->n_records : 1, sizeof *r.sched);
    r.not_before = calloc(stats->n_records ? stats->n_records : 1, sizeof *r.not_before);
    if (!r.lock_fds || !r.sched || !r.not_before) {
        free(r.lock_fds), free(r.sched), free(r.not_before), free(r.state_dir);
        ex_journal_close(&r.journal);
        return refuse(stats, errmsg, NULL, file);
    }
    for (size_t i = 0; i < stats->n_records; i++) {
        r.lock_fds[i] = -1;
        /* What the plan says is skipped is said at once, in order, as before:
         * only scenes that need work wait for a lock. */
        if (!needs_run(opts, &r.journal, &stats->records[i]))
            r.sched[i] = S_DONE;
    }

    ex_signals_install(in_workers, opts->on_interrupt, opts->interrupt_ctx);
    if (in_workers) {
        /* Skips first, in order: the workers then get the rest. */
        for (size_t i = 0; i < stats->n_records; i++)
            if (r.sched[i] == S_DONE)
                emit_skip(&r, &stats->records[i], EX_SCENE_SKIPPED);
        run_workers(&r);
    } else {
        run_here(&r); /* skips are announced as the loop reaches them */
    }
    stats->interrupted = ex_signals_interrupted();
    ex_signals_restore();

    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        if (rec->state == EX_SCENE_PENDING)
            rec->reason = stats->interrupted ? "interrupted" : "not reached";
        release(&r, i);
    }
    stats->elapsed_time = ex_now() - started;

    char *report = NULL;
    if (opts->write_report) {
        report = opts->shard_count > 0
                     ? ex_format("%s/%s/report.shard-%d-of-%d.json",
                                      opts->output_base_dir, doc->name,
                                      opts->shard_index, opts->shard_count)
                     : ex_format("%s/%s/report.json", opts->output_base_dir,
                                      doc->name);
        if (report && ex_report_write(report, doc, opts, stats) != 0) {
            progress_printf(&r.pr, "warning: cannot write %s: %s\n", report,
                            strerror(errno));
            free(report);
            report = NULL;
        }
    }
    print_summary(&r.pr, file, stats, report);
    free(report);
    ex_journal_close(&r.journal);
    free(r.lock_fds);
    free(r.sched);
    free(r.not_before);
    free(r.state_dir);
    return 0;
}
