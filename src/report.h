/*
 * report.h -- what a run tells the outside world: progress on stderr (plain
 * lines or one JSON event a line), the dry run's plan, the summary, and
 * <out>/<name>/report.json. The orchestrator decides; this file only prints.
 */
#ifndef EXPLAINER_REPORT_H
#define EXPLAINER_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "records.h"
#include "util.h"

/* s as a JSON string (NULL -> null). */
void ex_buf_json_string(ex_buf *b, const char *s);

const char *ex_scene_state_name(ex_scene_state state);

typedef struct ex_progress {
    int fd;
    ex_progress_mode mode;   /* AUTO resolved to PLAIN */
    bool live;               /* a terminal: the bar, elapsed and time left */
    bool tagged;             /* several scenes at once: name the scene a line is about */
    double started;
    const char *file;        /* the script, in every JSON event */
    size_t total;
    int max_attempts;
    /* Told of each scene event (ex_run_options.on_scene), in every mode. */
    void (*on_scene)(void *ctx, const ex_scene_record *rec, const char *event, size_t settled);
    void *scene_ctx;
    const long *followed;    /* ex_run_options.on_scene_numbers */
    size_t n_followed;
    double tell_next;        /* when an event of a scene not followed is told next */
    /* The bar on a terminal's last row (live only): the rows it reserved (0:
     * none), when it may be drawn again, and what it counts. */
    int bar_rows;
    bool bar_refused;        /* the terminal is too small for one */
    double bar_next;
    size_t settled, processed, running;
    long current;            /* the scene started last */
} ex_progress;

void ex_progress_init(ex_progress *pr, const ex_run_options *opts, const char *file,
                      size_t total);

/* A line of its own (a warning about the selection, a stop): plain mode only;
 * in JSON mode a {"event":"message"} event. */
void ex_progress_note(const ex_progress *pr, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A scene's events: a line (plain), a JSON event (json), nothing (quiet);
 * on_scene is told in every mode. On a terminal (auto mode, the progress on
 * a TTY) the last row is a bar of the run's progress, redrawn in place: the
 * rows above it scroll on their own (a scroll region), so that what
 * processors print meanwhile goes above it, whole. */
void ex_progress_skip(ex_progress *pr, const ex_scene_record *rec);
void ex_progress_start(ex_progress *pr, const ex_scene_record *rec, int attempt);
void ex_progress_settled(ex_progress *pr, const ex_scene_record *rec);
void ex_progress_retry(ex_progress *pr, const ex_scene_record *rec, double delay);
/* After each settled scene: how far along the run is, on a terminal (the
 * bar; a line when the terminal has no room for one). */
void ex_progress_eta(ex_progress *pr, size_t done, size_t processed);
/* The summary; the bar is gone first, and the terminal's rows all scroll again. */
void ex_progress_summary(ex_progress *pr, const ex_stats *stats, const char *report);

/* A dry run's list: "run  Scene 3: Title (changed: narration)" lines and a
 * count, or (plan_json) one JSON array, or (JSON progress) plan events. */
void ex_plan_print(const ex_run_options *opts, const char *file, const ex_stats *stats);

/* Write the report of a run to `path` (through a temporary file and rename, so
 * a reader never sees half of one). 0, or -1 with errno. */
int ex_report_write(const char *path, const ex_document *doc,
                    const ex_run_options *opts, const ex_stats *stats);

#endif
