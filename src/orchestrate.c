/*
 * orchestrate.c -- the run: select scenes, skip, dispatch, record, count.
 */
#include "orchestrate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

static char *format_message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *msg = malloc((size_t)n + 1);
    if (!msg)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return msg;
}

/* ---- progress ------------------------------------------------------------ */

/* Progress is assembled in a buffer and written with one write(2) per line, so
 * lines from this process never interleave with a processor's own output. */
typedef struct progress {
    int fd;
    ex_progress_mode mode;
    bool live;           /* stderr is a terminal: show elapsed and time left */
    double started;
} progress;

static void progress_printf(const progress *pr, const char *fmt, ...)
{
    if (pr->mode == EX_PROGRESS_QUIET)
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
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = write(pr->fd, line + off, (size_t)n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (line != small)
        free(line);
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

static void print_summary(const progress *pr, const char *file,
                          const ex_stats *stats)
{
    char took[32];
    format_duration(took, sizeof took, stats->elapsed_time);
    progress_printf(pr, "\nSummary for %s\n", file);
    progress_printf(pr, "  Completed: %zu\n  Skipped: %zu\n  Failed: %zu\n",
                    stats->completed, stats->skipped, stats->failed);
    size_t not_run = stats->total - stats->completed - stats->skipped - stats->failed;
    if (not_run)
        progress_printf(pr, "  Not run: %zu\n", not_run);
    progress_printf(pr, "  Time: %s (%.2fs)\n", took, stats->elapsed_time);
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        if (rec->state == EX_SCENE_FAILED)
            progress_printf(pr, "  Scene %ld failed: %s\n", rec->scene_number,
                            rec->error ? rec->error : "failed");
    }
}

/* ---- the run ------------------------------------------------------------- */

static bool selected(const ex_run_options *opts, long number)
{
    if (!opts->scene_numbers)
        return true;
    for (size_t i = 0; i < opts->n_scene_numbers; i++)
        if (opts->scene_numbers[i] == number)
            return true;
    return false;
}

static char *duplicate_message(const ex_document *doc)
{
    const char *file = doc->path ? doc->path : doc->name;
    for (size_t i = 0; i < doc->n_scenes; i++)
        for (size_t j = i + 1; j < doc->n_scenes; j++)
            if (doc->scenes[i].number == doc->scenes[j].number)
                return format_message(
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
        free(stats->records[i].output_dir);
        free(stats->records[i].error);
        free(stats->records[i].result);
    }
    free(stats->records);
    memset(stats, 0, sizeof *stats);
}

int ex_orchestrate(const ex_document *doc, const ex_run_options *opts,
                   ex_process_fn process, void *ctx, ex_stats *stats,
                   char **errmsg)
{
    memset(stats, 0, sizeof *stats);
    *errmsg = NULL;
    double started = ex_now();
    const char *file = doc->path ? doc->path : doc->name;

    if (doc->has_duplicates) {
        *errmsg = duplicate_message(doc);
        if (!*errmsg)
            *errmsg = format_message("%s: duplicate scene numbers", file);
        return -1;
    }

    progress pr = {opts->progress_fd, opts->progress, false, started};
    if (pr.mode == EX_PROGRESS_AUTO) {
        pr.mode = EX_PROGRESS_PLAIN;
        pr.live = isatty(pr.fd) == 1;
    }

    for (size_t i = 0; opts->scene_numbers && i < opts->n_scene_numbers; i++)
        if (!ex_document_scene(doc, opts->scene_numbers[i]))
            progress_printf(&pr, "warning: %s has no scene %ld\n", file,
                            opts->scene_numbers[i]);

    size_t n = 0;
    for (size_t i = 0; i < doc->n_scenes; i++)
        if (selected(opts, doc->scenes[i].number))
            n++;
    stats->records = calloc(n ? n : 1, sizeof *stats->records);
    if (!stats->records) {
        *errmsg = format_message("%s: out of memory", file);
        return -1;
    }
    stats->total = n;

    size_t done = 0, processed = 0;
    bool aborted = false;
    for (size_t i = 0; i < doc->n_scenes && !aborted; i++) {
        const ex_scene *scene = &doc->scenes[i];
        if (!selected(opts, scene->number))
            continue;
        ex_scene_record *rec = &stats->records[stats->n_records++];
        rec->scene_number = scene->number;
        rec->scene = scene;
        rec->output_dir = ex_scene_output_dir(opts->output_base_dir, doc->name,
                                              scene->number);
        if (!rec->output_dir) {
            rec->state = EX_SCENE_FAILED;
            rec->error = format_message("out of memory");
            stats->failed++;
            aborted = !opts->continue_on_error;
            continue;
        }
        done++;
        if (opts->skip_existing &&
            ex_output_exists(rec->output_dir, opts->output_filename)) {
            rec->state = EX_SCENE_SKIPPED;
            stats->skipped++;
            progress_printf(&pr, "[%zu/%zu] Scene %ld: %s\n", done, n,
                            scene->number, scene->title);
            progress_printf(&pr, "      Skipping (output already exists)\n");
            continue;
        }
        progress_printf(&pr, "[%zu/%zu] Processing Scene %ld: %s\n", done, n,
                        scene->number, scene->title);
        ex_outcome out = {false, NULL, NULL, 0};
        double t0 = ex_now();
        if (ex_mkdir_p(rec->output_dir) != 0) {
            out.error = format_message("cannot create %s: %s", rec->output_dir,
                                       strerror(errno));
        } else {
            process(ctx, doc, scene, rec->output_dir, &out);
        }
        rec->seconds = ex_now() - t0;
        rec->attempts = 1;
        rec->result = out.result;
        rec->result_len = out.result_len;
        processed++;
        if (out.ok) {
            free(out.error);
            rec->state = EX_SCENE_COMPLETED;
            stats->completed++;
            progress_printf(&pr, "      Done in %.1fs\n", rec->seconds);
        } else {
            rec->state = EX_SCENE_FAILED;
            rec->error = out.error ? out.error : format_message("failed");
            stats->failed++;
            progress_printf(&pr, "      Failed: %s\n",
                            rec->error ? rec->error : "failed");
            if (!opts->continue_on_error) {
                aborted = true;
                progress_printf(&pr, "Stopping: --abort-on-error is set\n");
            }
        }
        progress_eta(&pr, done, n, processed);
    }
    stats->elapsed_time = ex_now() - started;
    print_summary(&pr, file, stats);
    return 0;
}
