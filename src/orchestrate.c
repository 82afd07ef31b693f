/*
 * orchestrate.c -- the run: select scenes, decide, dispatch, record, count.
 *
 * One scene's life: its standing decided (run or skip, and why: from the
 * workflow's journal, the output file and the scene's inputs), locked (so
 * that no other run of the workflow on the same folder does it at the same
 * time), decided again under the lock, journaled as started, processed (here,
 * or in a worker process when there are jobs or a timeout), journaled as done
 * or failed, retried with backoff, unlocked. The journal and the locks live in
 * <out>/<name>/.explainer/<workflow>. What is printed is report.c's business.
 */
#include "orchestrate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "lock.h"
#include "report.h"
#include "signals.h"
#include "util.h"
#include "worker.h"

void ex_run_options_init(ex_run_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->skip_existing = true;
    opts->output_base_dir = "output";
    opts->output_filename = "final.png";
    opts->workflow = "default";
    opts->continue_on_error = true;
    opts->progress = EX_PROGRESS_AUTO;
    opts->progress_fd = 2;
    opts->jobs = 1;
    opts->retry_delay = 1.0;
    opts->plan_fd = 1;
    opts->write_report = true;
}

/* A name that stays one path component: no '/', not "." or "..", no leading
 * '-' (an option to the tools that get paths) and no control characters. */
static bool safe_component(const char *s)
{
    if (!s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || *s == '-')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == '/' || *p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int ex_run_options_check(const ex_run_options *o, char **errmsg)
{
    *errmsg = NULL;
    if (!o->output_base_dir || !*o->output_base_dir)
        *errmsg = ex_format("the output folder is empty (give --output-dir a folder)");
    else if (!safe_component(o->output_filename))
        *errmsg = ex_format("bad output filename '%s' (one file name, not a path)",
                            o->output_filename ? o->output_filename : "");
    else if (!safe_component(o->workflow))
        *errmsg = ex_format("bad workflow name '%s' (letters, digits, '.', '_', '-')",
                            o->workflow ? o->workflow : "");
    else if (o->jobs < 1)
        *errmsg = ex_format("jobs must be at least 1 (got %d)", o->jobs);
    else if (!(o->timeout >= 0) || !(o->retry_delay >= 0) || !(o->rate >= 0))
        *errmsg = ex_format("timeout, retry_delay and rate cannot be negative");
    else if (o->retries < 0)
        *errmsg = ex_format("retries cannot be negative (got %d)", o->retries);
    else if (o->shard_count < 0 || (o->shard_count > 0 && (o->shard_index < 1 ||
                                                           o->shard_index > o->shard_count)))
        *errmsg = ex_format("bad shard %d/%d (K/N with 1 <= K <= N)", o->shard_index,
                            o->shard_count);
    return *errmsg ? -1 : 0;
}

/* The document's name becomes a folder under the output folder: it must not
 * climb out of it ("..") or be it ("."). */
static char *check_document_name(const ex_document *doc)
{
    const char *name = doc->name;
    if (name && *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
        !strchr(name, '/'))
        return NULL;
    return ex_format("%s: its name '%s' cannot name an output folder (rename the file)",
                     doc->path ? doc->path : "script", name ? name : "");
}

/* Is `path` a real folder (not a symlink to one)? */
static bool real_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p a folder under the output folder, then make sure that no part of
 * it below the output folder is a symlink: a symlinked scene_01 or
 * .explainer would send writes anywhere. The output folder itself may be a
 * symlink (the user chose it). parent_checked: the folder's parent was
 * checked already. 0, or -1 with a malloc'd *why. */
static int make_dir_below(const char *base, const char *dir, bool parent_checked, char **why)
{
    *why = NULL;
    /* The common case, a new scene folder in the document's folder (checked
     * when the run began): made here, so it is no symlink. */
    if (parent_checked && mkdir(dir, 0777) == 0)
        return 0;
    if (ex_mkdir_p(dir) != 0) {
        *why = ex_format("cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t base_len = strlen(base);
    if (strncmp(dir, base, base_len) != 0 || dir[base_len] != '/')
        return 0;
    char *copy = strdup(dir);
    if (!copy) {
        *why = ex_format("out of memory");
        return -1;
    }
    for (char *p = copy + base_len + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (!real_dir(copy)) {
            *why = ex_format("refusing to write through %s: it is a symlink, not a folder", copy);
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return *why ? -1 : 0;
}

char *ex_scene_output_dir(const char *base, const char *name, long number)
{
    return ex_format("%s/%s/scene_%02ld", base, name, number);
}

bool ex_output_exists(const char *dir, const char *filename)
{
    char *path = ex_format("%s/%s", dir, filename);
    if (!path)
        return false;
    struct stat st;
    bool exists = stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
    free(path);
    return exists;
}

char *ex_state_dir(const char *base, const char *name, const char *workflow)
{
    return ex_format("%s/%s/.explainer/%s", base, name, workflow);
}


/* ---- selection and decision ------------------------------------------------ */

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
        free(rec->reason);
        free(rec->error);
        free(rec->result);
        ex_inputs_free(&rec->inputs);
        for (int a = 0; rec->attempt_log && a < rec->attempts; a++)
            free(rec->attempt_log[a].error);
        free(rec->attempt_log);
    }
    free(stats->records);
    free(stats->fatal);
    memset(stats, 0, sizeof *stats);
}

/* rec->reason = text (a copy); a static fallback when memory runs out is not
 * possible (it is freed), so the reason is then NULL ("unknown" in reports). */
static void set_reason(ex_scene_record *rec, const char *text)
{
    free(rec->reason);
    rec->reason = ex_strdup(text);
}

static void scene_inputs(const ex_document *doc, const ex_run_options *opts,
                         ex_scene_record *rec)
{
    size_t i = (size_t)(rec->scene - doc->scenes);
    if (opts->inputs && opts->inputs[i]) {
        rec->inputs_text = opts->inputs[i];
        rec->inputs_len = opts->inputs_len ? opts->inputs_len[i] : strlen(opts->inputs[i]);
        ex_inputs_of_lines(rec->inputs_text, rec->inputs_len, &rec->inputs);
    } else {
        ex_inputs_of_scene(rec->scene, &rec->inputs);
    }
}

/* The short form of the record's parts (made when first needed); NULL when
 * memory runs out. */
static const char *record_parts(ex_scene_record *rec)
{
    ex_inputs_parts(&rec->inputs, rec->scene, rec->inputs_text, rec->inputs_len);
    return rec->inputs.parts;
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
        rec->output_dir = ex_scene_output_dir(opts->output_base_dir, doc->name,
                                              rec->scene_number);
        if (!rec->output_dir) {
            *errmsg = ex_format("%s: out of memory", file);
            return -1;
        }
        scene_inputs(doc, opts, rec);
        if (opts->output_keys)
            rec->output_key = opts->output_keys[i];
    }
    return 0;
}

/* The key id recorded beside dir/filename (its ".filename.key", written by
 * explainer.artifact: a line "id <hex>"), or NULL when there is none. */
static char *recorded_key(const char *dir, const char *filename)
{
    char *path = ex_format("%s/.%s.key", dir, filename);
    FILE *f = path ? fopen(path, "re") : NULL;
    free(path);
    if (!f)
        return NULL;
    char line[256];
    char *id = NULL;
    bool first = true;
    while (!id && fgets(line, sizeof line, f)) {
        if (first && strncmp(line, "explainer-key ", 14) != 0)
            break;
        first = false;
        if (strncmp(line, "id ", 3) == 0)
            id = ex_strndup(line + 3, strcspn(line + 3, "\r\n"));
    }
    fclose(f);
    return id;
}

/*
 * Where a scene stands, and why (rec->standing, rec->reason): the one rule
 * every run, dry run and status follows. A scene is skipped when it is fresh
 * (done with these very inputs, and its output is there) or when its output
 * exists with no record of it (made before the journal, or by hand: the
 * plain "output exists" rule).
 */
static bool scene_standing(const ex_run_options *opts, const ex_journal *journal,
                           ex_scene_record *rec)
{
    if (!opts->skip_existing) {
        rec->standing = EX_STANDING_FORCED;
        set_reason(rec, "forced");
        return true;
    }
    bool exists = ex_output_exists(rec->output_dir, opts->output_filename);
    const ex_journal_entry *e = ex_journal_get(journal, rec->scene_number);
    char *text = NULL;
    if (!e && exists && rec->output_key) {
        /* Made, but not by a run of this workflow: its key file says by what. */
        char *made_with = recorded_key(rec->output_dir, opts->output_filename);
        if (made_with && strcmp(made_with, rec->output_key) != 0) {
            rec->standing = EX_STANDING_CHANGED;
            text = ex_format("changed: %s was made with other inputs", opts->output_filename);
        } else {
            rec->standing = made_with ? EX_STANDING_FRESH : EX_STANDING_EXISTS;
        }
        free(made_with);
    } else if (!e) {
        rec->standing = exists ? EX_STANDING_EXISTS : EX_STANDING_NEW;
    } else if (e->state == EX_JOURNAL_STARTED) {
        rec->standing = EX_STANDING_INCOMPLETE;
    } else if (e->state == EX_JOURNAL_FAILED) {
        rec->standing = EX_STANDING_FAILED;
    } else if (e->inputs != rec->inputs.key) {
        rec->standing = EX_STANDING_CHANGED;
        char *old = ex_journal_parts(journal, e);
        char *what = ex_inputs_changed(old, record_parts(rec));
        text = what && *what ? ex_format("changed: %s", what) : NULL;
        free(old);
        free(what);
    } else if (!exists) {
        rec->standing = EX_STANDING_MISSING;
        text = ex_format("missing %s", opts->output_filename);
    } else {
        rec->standing = EX_STANDING_FRESH;
    }
    free(rec->reason);
    rec->reason = text ? text : ex_strdup(ex_standing_name(rec->standing));
    return rec->standing != EX_STANDING_FRESH && rec->standing != EX_STANDING_EXISTS;
}

/* ---- the run ------------------------------------------------------------- */

typedef enum sched_state { S_TODO = 0, S_WAIT, S_RUNNING, S_DONE } sched_state;

typedef struct run {
    const ex_document *doc;
    const ex_run_options *opts;
    ex_process_fn process;
    void *ctx;
    ex_stats *stats;
    ex_progress pr;
    char *state_dir;
    char *journal_path;
    ex_journal journal;
    int lock_fd;              /* the workflow's lock file; -1: runs unlocked */
    bool *locked;             /* per record: we hold its lock */
    sched_state *sched;       /* per record */
    double *not_before;       /* per record: when its retry may start */
    int cwd_fd;               /* the run's folder, restored after each scene */
    size_t ordinal;           /* scenes reached, for [i/n] */
    size_t finished;          /* scenes reached and settled */
    size_t processed;
    double last_start;
    off_t planned_foreign;    /* other runs' journal bytes read when the plan was made */
    bool stop;                /* no new scenes: abort-on-error, interrupt, fatal */
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

/* The journal could not be written: the run cannot promise anything about
 * what it does next, so it stops (exit 1) saying which file and why. */
static void fail_run(run *r, const char *what)
{
    if (!r->stats->fatal)
        r->stats->fatal = ex_format("cannot %s %s: %s", what, r->journal_path,
                                    strerror(errno));
    r->stop = true;
}

/* The reader of the run's standard output went away (`explainer ... | head`):
 * nothing more the scenes print can reach anyone, so the run ends as it
 * would on an interrupt, with its summary and report, but exits 1 saying so. */
static void stdout_gone(run *r)
{
    if (!r->stats->fatal)
        r->stats->fatal = ex_format("standard output was closed (its reader stopped reading)");
    r->stop = true;
}

/* Has the reader of a pipe on stdout gone? (A terminal or a file: never.)
 * What a processor here printed may still wait in stdio's buffer, or have
 * failed there already: flushed and asked too. */
static bool stdout_closed(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return true;
    struct pollfd p = {STDOUT_FILENO, POLLOUT, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
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
    ex_progress_skip(&r->pr, rec);
}

/* Journal bytes other runs wrote, as far as this run has read: all of it
 * but what this process appended (its own records are read back too). */
static off_t foreign_bytes(const ex_journal *j)
{
    return j->offset - j->own_bytes;
}

/* Take the scene's lock and look again: another run may have done it since
 * this one read the journal. Returns true when the scene is ours to run. */
static bool acquire(run *r, size_t i)
{
    ex_scene_record *rec = &r->stats->records[i];
    if (r->lock_fd >= 0) {
        if (ex_lock_scene(r->lock_fd, rec->scene_number) == 0) {
            r->locked[i] = true;
        } else if (errno == EWOULDBLOCK) {
            set_reason(rec, "locked by another run");
            emit_skip(r, rec, EX_SCENE_LOCKED);
            r->sched[i] = S_DONE;
            return false;
        }
        /* A lock that cannot be taken (odd file system): run unlocked rather
         * than not at all; concurrent runs are then on their own. */
    }
    if (ex_journal_refresh(&r->journal) != 0) {
        fail_run(r, "read");
        return false;
    }
    /* No other run has written since the plan was made: it still stands.
     * Otherwise any scene may have been done meanwhile, this one included,
     * however recently the journal was last read: it is decided again. */
    if (foreign_bytes(&r->journal) == r->planned_foreign)
        return true;
    char *planned = rec->reason;
    ex_standing standing = rec->standing;
    rec->reason = NULL;
    if (!scene_standing(r->opts, &r->journal, rec)) {
        free(planned);
        set_reason(rec, "done by another run");
        emit_skip(r, rec, EX_SCENE_SKIPPED);
        r->sched[i] = S_DONE;
        return false;
    }
    /* "incomplete" now may only mean that the run before us died in it; the
     * reason the plan gave is the one the user wants to see. */
    free(rec->reason);
    rec->reason = planned;
    rec->standing = standing;
    return true;
}

static void release(run *r, size_t i)
{
    if (r->locked[i])
        ex_unlock_scene(r->lock_fd, r->stats->records[i].scene_number);
    r->locked[i] = false;
}

static bool emit_start(run *r, ex_scene_record *rec, int attempt)
{
    if (attempt == 1)
        rec->index = ++r->ordinal;
    r->last_start = ex_now();
    if (ex_journal_append(&r->journal, EX_JOURNAL_STARTED, rec->scene_number,
                          rec->inputs.key, attempt, 0, NULL) != 0) {
        fail_run(r, "write");
        return false;
    }
    ex_progress_start(&r->pr, rec, attempt);
    return true;
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
            out->ok ? NULL : ex_strdup(out->error ? out->error : "failed");
        rec->attempts++;
    }
    rec->seconds += seconds;
    free(rec->result);
    rec->result = out->result;
    rec->result_len = out->result_len;
    out->result = NULL;
    free(rec->error);
    rec->error = NULL;
    if (ex_journal_append(&r->journal, out->ok ? EX_JOURNAL_DONE : EX_JOURNAL_FAILED,
                          rec->scene_number, rec->inputs.key, rec->attempts, seconds,
                          out->ok ? record_parts(rec) : NULL) != 0)
        fail_run(r, "write");
    if (out->ok)
        free(out->error);
    else
        rec->error = out->error ? out->error : ex_strdup("failed");
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
    if (state == EX_SCENE_COMPLETED)
        r->stats->completed++;
    else
        r->stats->failed++;
    ex_progress_settled(&r->pr, rec);
    if (state == EX_SCENE_FAILED && !r->opts->continue_on_error && !r->stop) {
        r->stop = true;
        ex_progress_note(&r->pr, "info", "Stopping: --abort-on-error is set");
    }
    ex_progress_eta(&r->pr, r->finished, r->processed);
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

static void call_here(run *r, ex_scene_record *rec, ex_outcome *out, double *seconds)
{
    *out = (ex_outcome){false, NULL, NULL, 0, false};
    double t0 = ex_now();
    char *why;
    if (make_dir_below(r->opts->output_base_dir, rec->output_dir, true, &why) != 0)
        out->error = why;
    else
        r->process(r->ctx, r->doc, rec->scene, rec->output_dir, out);
    /* A processor that changed directory must not move the next scene's
     * folder, the journal or the report (their paths are relative). */
    if (r->cwd_fd >= 0 && fchdir(r->cwd_fd) != 0 && !r->stats->fatal) {
        r->stats->fatal = ex_format("cannot return to the run's folder: %s", strerror(errno));
        r->stop = true;
    }
    *seconds = ex_now() - t0;
}

/* One scene, all its attempts, in this process. */
static void run_scene_here(run *r, size_t i)
{
    ex_scene_record *rec = &r->stats->records[i];
    for (int attempt = 1;; attempt++) {
        double wait = rate_next(r) - ex_now();
        if (wait > 0)
            pause_for(wait);
        if (ex_signals_interrupted() || !emit_start(r, rec, attempt))
            return;
        ex_outcome out;
        double seconds;
        call_here(r, rec, &out, &seconds);
        if (!out.ok && ex_signals_interrupted()) {
            free(out.error);
            free(out.result);
            return; /* stopped by the interrupt: stays undone ("started") */
        }
        if (record_attempt(r, rec, &out, seconds)) {
            settle(r, i, EX_SCENE_COMPLETED);
            return;
        }
        if (attempt > r->opts->retries || ex_signals_interrupted() || r->stats->fatal) {
            settle(r, i, EX_SCENE_FAILED);
            return;
        }
        double delay = backoff(r, attempt);
        ex_progress_retry(&r->pr, rec, delay);
        pause_for(delay);
    }
}

/* jobs = 1 and no timeout: the processor runs in this process, so closures
 * that change the caller's state work as they always did. */
static void run_here(run *r)
{
    ex_stats *stats = r->stats;
    double next_stdout_check = 0;
    for (size_t i = 0; i < stats->n_records && !r->stop; i++) {
        if (ex_signals_interrupted())
            break;
        if (r->sched[i] == S_DONE) {
            emit_skip(r, &stats->records[i], EX_SCENE_SKIPPED);
            continue;
        }
        if (acquire(r, i))
            run_scene_here(r, i);
        release(r, i);
        double now = ex_now();
        if (now >= next_stdout_check) { /* a poll(2) a scene would cost a run of cheap ones */
            next_stdout_check = now + 0.1;
            if (stdout_closed())
                stdout_gone(r);
        }
    }
    /* A run shorter than the checks' interval is checked once more at its end. */
    if (!r->stop && !ex_signals_interrupted() && stdout_closed())
        stdout_gone(r);
}

/* ---- worker processes -------------------------------------------------------- */

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

/* Workers' output the run holds for a slow reader before it stops reading
 * them (they then wait on their pipes). */
#define OUTBOX_CAP (16u << 20)

typedef struct pool {
    ex_worker *workers;
    int jobs;
    int *close_fds;
    struct pollfd *fds;
    size_t cursor;            /* next record never started */
    ex_outbox box;            /* the workers' output on its way out */
} pool;

static void fail_to_start(run *r, size_t i, char *error)
{
    ex_outcome out = {false, error, NULL, 0, false};
    record_attempt(r, &r->stats->records[i], &out, 0);
    settle(r, i, EX_SCENE_FAILED);
}

/* Start record i (attempt) in the free worker slot w. */
static void start_worker(run *r, pool *p, ex_worker *w, size_t i, int attempt)
{
    ex_scene_record *rec = &r->stats->records[i];
    if (!emit_start(r, rec, attempt)) {
        r->sched[i] = S_TODO;
        return;
    }
    /* The child keeps none of the run's descriptors: not the journal, not the
     * lock file (closing a copy releases no lock: the run holds them), not
     * the other workers' pipes. */
    size_t n_close = 0;
    p->close_fds[n_close++] = r->journal.fd;
    p->close_fds[n_close++] = r->lock_fd;
    p->close_fds[n_close++] = r->cwd_fd;
    for (int k = 0; k < p->jobs; k++) {
        if (p->workers[k].pid <= 0)
            continue;
        p->close_fds[n_close++] = p->workers[k].result_fd;
        p->close_fds[n_close++] = p->workers[k].out.fd;
        p->close_fds[n_close++] = p->workers[k].err.fd;
    }
    r->sched[i] = S_RUNNING;
    w->record = i;
    w->attempt = attempt;
    w->started = ex_now();
    w->deadline = r->opts->timeout > 0 ? w->started + r->opts->timeout : 0;
    w->pid = 0;
    char *why;
    if (make_dir_below(r->opts->output_base_dir, rec->output_dir, true, &why) != 0) {
        fail_to_start(r, i, why);
        return;
    }
    worker_job job = {r, rec};
    if (ex_worker_start(w, worker_body, &job, p->close_fds, n_close, &p->box) != 0) {
        w->pid = 0;
        fail_to_start(r, i, ex_format("cannot start a worker: %s", strerror(errno)));
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
        set_reason(rec, "interrupted");
        release(r, i);
        return;
    }
    if (record_attempt(r, rec, &out, seconds)) {
        settle(r, i, EX_SCENE_COMPLETED);
    } else if (rec->attempts <= r->opts->retries && !ex_signals_interrupted() &&
               !r->stats->fatal) {
        double delay = backoff(r, rec->attempts);
        ex_progress_retry(&r->pr, rec, delay);
        r->sched[i] = S_WAIT; /* keeps its lock through the backoff */
        r->not_before[i] = ex_now() + delay;
    } else {
        settle(r, i, EX_SCENE_FAILED);
    }
}

/* Kill what overran its deadline (or everything, on an interrupt); settle
 * what exited. Returns how many still run. */
static int reap_workers(run *r, pool *p, bool *interrupt_handled)
{
    double now = ex_now();
    if (ex_signals_interrupted() && !*interrupt_handled) {
        *interrupt_handled = true;
        r->stop = true;
        for (int k = 0; k < p->jobs; k++)
            if (p->workers[k].pid > 0) {
                p->workers[k].killed = true;
                ex_worker_kill(&p->workers[k]);
            }
    }
    int running = 0;
    for (int k = 0; k < p->jobs; k++) {
        ex_worker *w = &p->workers[k];
        if (w->pid <= 0)
            continue;
        if (!w->reaped && w->deadline > 0 && now >= w->deadline) {
            w->timed_out = true;
            ex_worker_kill(w);
        }
        if (!w->reaped && waitpid(w->pid, &w->status, WNOHANG) == w->pid)
            w->reaped = true;
        if (w->reaped)
            worker_done(r, w);
        else
            running++;
    }
    return running;
}

/* The record to start next: a due retry first, then the next scene in file
 * order that is ours to run; SIZE_MAX for none. *wake moves to the earliest
 * retry that is not due yet. */
static size_t next_record(run *r, pool *p, double *wake)
{
    ex_stats *stats = r->stats;
    for (size_t i = 0; i < stats->n_records; i++)
        if (r->sched[i] == S_WAIT) {
            if (r->not_before[i] <= ex_now())
                return i;
            if (r->not_before[i] < *wake)
                *wake = r->not_before[i];
        }
    while (!r->stop && p->cursor < stats->n_records) {
        size_t i = p->cursor++;
        if (r->sched[i] == S_TODO && acquire(r, i))
            return i;
    }
    return SIZE_MAX;
}

/* Fill the free worker slots; returns how many were started. */
static int start_due(run *r, pool *p, double *wake)
{
    int started = 0;
    for (int k = 0; k < p->jobs && !ex_signals_interrupted(); k++) {
        ex_worker *w = &p->workers[k];
        if (w->pid > 0)
            continue;
        size_t pick = next_record(r, p, wake);
        if (pick == SIZE_MAX)
            break;
        double at = rate_next(r);
        if (at > ex_now()) {
            /* Not yet: put it back where it will be found first. */
            r->sched[pick] = S_WAIT;
            r->not_before[pick] = at;
            if (at < *wake)
                *wake = at;
            break;
        }
        start_worker(r, p, w, pick, r->stats->records[pick].attempts + 1);
        started += w->pid > 0;
    }
    return started;
}

/* Wait for output, an exit, a signal, a deadline, a due start, or room in a
 * slow reader's pipe for the output the run holds. */
static void wait_for_events(pool *p, double wake)
{
    bool room = ex_outbox_pending(&p->box) < OUTBOX_CAP;
    nfds_t n = 0;
    p->fds[n++] = (struct pollfd){ex_signals_fd(), POLLIN, 0};
    for (int fd = 1; fd <= 2; fd++)
        if (ex_outbox_waiting(&p->box, fd))
            p->fds[n++] = (struct pollfd){fd, POLLOUT, 0};
    for (int k = 0; k < p->jobs; k++) {
        ex_worker *w = &p->workers[k];
        if (w->pid <= 0)
            continue;
        if (w->deadline > 0 && w->deadline < wake)
            wake = w->deadline;
        int rfds[3] = {w->result_fd, room ? w->out.fd : -1, room ? w->err.fd : -1};
        for (int f = 0; f < 3; f++)
            if (rfds[f] >= 0)
                p->fds[n++] = (struct pollfd){rfds[f], POLLIN, 0};
    }
    double left = wake - ex_now();
    poll(p->fds, n, left <= 0 ? 0 : (int)(left * 1000) + 1);
    ex_signals_drain();
    for (int k = 0; k < p->jobs; k++)
        if (p->workers[k].pid > 0)
            ex_worker_pump(&p->workers[k], ex_outbox_pending(&p->box) < OUTBOX_CAP);
    ex_outbox_send(&p->box);
}

static bool more_to_start(const run *r, const pool *p)
{
    for (size_t i = 0; i < r->stats->n_records; i++)
        if (r->sched[i] == S_WAIT)
            return true;
    return !r->stop && p->cursor < r->stats->n_records;
}

/* jobs > 1 or a timeout: each scene in a worker process, `jobs` at a time. */
static void run_workers(run *r)
{
    pool p = {0};
    p.jobs = r->opts->jobs > 0 ? r->opts->jobs : 1;
    p.workers = calloc((size_t)p.jobs, sizeof *p.workers);
    p.close_fds = malloc((3 + 3 * (size_t)p.jobs) * sizeof *p.close_fds);
    p.fds = malloc((3 + 3 * (size_t)p.jobs) * sizeof *p.fds);
    if (!p.workers || !p.close_fds || !p.fds) {
        free(p.workers), free(p.close_fds), free(p.fds);
        r->stop = true;
        return;
    }
    bool interrupt_handled = false;
    for (;;) {
        if (p.box.closed[0])
            stdout_gone(r);
        int running = reap_workers(r, &p, &interrupt_handled);
        double wake = ex_now() + 1.0;
        if (!ex_signals_interrupted())
            running += start_due(r, &p, &wake);
        if (running == 0 && (!more_to_start(r, &p) || ex_signals_interrupted()))
            break;
        wait_for_events(&p, wake);
    }
    /* Retries cut short by an interrupt: the last attempt's failure stands. */
    for (size_t i = 0; i < r->stats->n_records; i++)
        if (r->sched[i] == S_WAIT) {
            if (r->stats->records[i].attempts > 0) {
                settle(r, i, EX_SCENE_FAILED);
            } else {
                r->sched[i] = S_TODO;
                release(r, i);
            }
        }
    ex_outbox_flush(&p.box);
    ex_outbox_free(&p.box);
    free(p.workers);
    free(p.close_fds);
    free(p.fds);
}

/* ---- entry points ------------------------------------------------------------ */

/* The workflow's journal as it stands, read-only (dry run, status). */
static int read_journal(const ex_document *doc, const ex_run_options *opts,
                        ex_journal *journal, char **state_dir, char **errmsg)
{
    const char *file = doc->path ? doc->path : doc->name;
    *state_dir = ex_state_dir(opts->output_base_dir, doc->name, opts->workflow);
    char *path = *state_dir ? ex_format("%s/journal", *state_dir) : NULL;
    if (!path) {
        *errmsg = ex_format("%s: out of memory", file);
        return -1;
    }
    int rc = ex_journal_open(journal, path, false, false);
    if (rc != 0)
        *errmsg = ex_format("%s: %s", path, strerror(errno));
    free(path);
    return rc;
}

/* Decide every selected scene as a dry run sees it; with `running`, a scene
 * whose lock another run holds says so. */
static int look(const ex_document *doc, const ex_run_options *opts, ex_stats *stats,
                bool running, char **errmsg)
{
    stats->dry_run = true;
    if (make_records(doc, opts, stats, errmsg) != 0)
        return -1;
    ex_journal journal;
    char *state_dir = NULL;
    if (read_journal(doc, opts, &journal, &state_dir, errmsg) != 0) {
        free(state_dir);
        return -1;
    }
    char *locks = ex_format("%s/locks", state_dir);
    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        /* The lock first, then the journal as it is now: a scene another run
         * finished after the journal was first read is done, not new. */
        bool held = locks && ex_lock_scene_held(locks, rec->scene_number);
        if (!held && ex_journal_refresh(&journal) != 0) {
            *errmsg = ex_format("%s/journal: %s", state_dir, strerror(errno));
            break;
        }
        bool run_it = scene_standing(opts, &journal, rec);
        const ex_journal_entry *e = ex_journal_get(&journal, rec->scene_number);
        if (e) {
            rec->attempts = e->attempt;
            rec->seconds = e->seconds;
        }
        if (held) {
            set_reason(rec, running ? "running" : "running in another run");
            run_it = false;
        }
        rec->state = run_it ? EX_SCENE_PENDING
                     : rec->standing == EX_STANDING_FAILED ? EX_SCENE_FAILED
                                                             : EX_SCENE_SKIPPED;
        if (rec->state == EX_SCENE_SKIPPED)
            stats->skipped++;
    }
    free(locks);
    ex_journal_close(&journal);
    free(state_dir);
    return *errmsg ? -1 : 0;
}

/* The --scenes numbers the script lacks, in one line: "99", "5, 7",
 * "13 to 100000" (a range of the command line is said as one). */
static char *missing_numbers(const ex_document *doc, const ex_run_options *opts)
{
    ex_buf b = {0};
    const long *n = opts->scene_numbers;
    for (size_t i = 0; i < opts->n_scene_numbers;) {
        if (ex_document_scene(doc, n[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < opts->n_scene_numbers && n[j + 1] == n[j] + 1 &&
               !ex_document_scene(doc, n[j + 1]))
            j++;
        char *part = j == i ? ex_format("%s%ld", b.len ? ", " : "", n[i])
                   : j == i + 1 ? ex_format("%s%ld, %ld", b.len ? ", " : "", n[i], n[j])
                                : ex_format("%s%ld to %ld", b.len ? ", " : "", n[i], n[j]);
        if (part)
            ex_buf_put(&b, part, strlen(part));
        free(part);
        i = j + 1;
    }
    if (b.failed) {
        ex_buf_free(&b);
        return NULL;
    }
    if (b.data)
        ex_buf_put(&b, "", 1);
    return b.data;
}

/* A --scenes number the script does not have is said, by runs, dry runs and
 * status alike: "--scenes 99" on a 12-scene script is a typo, not a no-op.
 * When none of them is there, nothing runs and nothing is written. */
static int check_scene_numbers(const ex_progress *pr, const ex_document *doc,
                               const ex_run_options *opts, const char *file, char **errmsg)
{
    if (!opts->scene_numbers || opts->n_scene_numbers == 0 || doc->n_scenes == 0)
        return 0;
    size_t found = 0;
    for (size_t i = 0; i < opts->n_scene_numbers; i++)
        found += ex_document_scene(doc, opts->scene_numbers[i]) != NULL;
    if (found == 0) {
        long lo = doc->scenes[0].number, hi = lo;
        for (size_t i = 1; i < doc->n_scenes; i++) {
            lo = doc->scenes[i].number < lo ? doc->scenes[i].number : lo;
            hi = doc->scenes[i].number > hi ? doc->scenes[i].number : hi;
        }
        *errmsg = ex_format("%s has no scene %ld (its scenes: %ld to %ld)", file,
                            opts->scene_numbers[0], lo, hi);
        return -1;
    }
    char *missing = missing_numbers(doc, opts);
    if (missing && *missing)
        ex_progress_note(pr, "warning", "warning: %s has no scene%s %s", file,
                         strpbrk(missing, ", ") ? "s" : "", missing);
    free(missing);
    return 0;
}

int ex_status(const ex_document *doc, const ex_run_options *opts,
              ex_stats *stats, char **errmsg)
{
    memset(stats, 0, sizeof *stats);
    *errmsg = NULL;
    if (ex_run_options_check(opts, errmsg) != 0)
        return -1;
    if ((*errmsg = check_document_name(doc)))
        return -1;
    ex_progress pr;
    const char *file = doc->path ? doc->path : doc->name;
    ex_progress_init(&pr, opts, file, 0);
    if (check_scene_numbers(&pr, doc, opts, file, errmsg) != 0)
        return -1;
    return look(doc, opts, stats, true, errmsg);
}

/* The workflow's state folder, journal and lock file, for writing. */
static int open_state(run *r, char **errmsg)
{
    const ex_run_options *opts = r->opts;
    r->state_dir = ex_state_dir(opts->output_base_dir, r->doc->name, opts->workflow);
    char *locks = r->state_dir ? ex_format("%s/locks", r->state_dir) : NULL;
    r->journal_path = r->state_dir ? ex_format("%s/journal", r->state_dir) : NULL;
    if (!locks || !r->journal_path) {
        free(locks);
        *errmsg = ex_format("%s: out of memory", r->pr.file);
        return -1;
    }
    int rc = 0;
    char *why = NULL;
    if (make_dir_below(opts->output_base_dir, r->state_dir, false, &why) != 0) {
        *errmsg = why;
        rc = -1;
    } else if (ex_journal_open(&r->journal, r->journal_path, true, opts->durable) != 0) {
        *errmsg = ex_format("cannot use %s: %s", r->journal_path, strerror(errno));
        rc = -1;
    }
    r->lock_fd = rc == 0 ? ex_lockfile_open(locks) : -1;
    free(locks);
    size_t n = r->stats->n_records ? r->stats->n_records : 1;
    r->locked = calloc(n, sizeof *r->locked);
    r->sched = calloc(n, sizeof *r->sched);
    r->not_before = calloc(n, sizeof *r->not_before);
    if (rc == 0 && (!r->locked || !r->sched || !r->not_before)) {
        *errmsg = ex_format("%s: out of memory", r->pr.file);
        rc = -1;
    }
    return rc;
}

static void close_state(run *r)
{
    if (ex_journal_close(&r->journal) != 0 && !r->stats->fatal)
        r->stats->fatal = ex_format("cannot sync %s: %s", r->journal_path, strerror(errno));
    if (r->lock_fd >= 0)
        close(r->lock_fd);
    if (r->cwd_fd >= 0)
        close(r->cwd_fd);
    free(r->locked);
    free(r->sched);
    free(r->not_before);
    free(r->state_dir);
    free(r->journal_path);
}

static char *write_report(run *r)
{
    const ex_run_options *opts = r->opts;
    if (!opts->write_report)
        return NULL;
    char *report = opts->shard_count > 0
                       ? ex_format("%s/%s/report.shard-%d-of-%d.json", opts->output_base_dir,
                                   r->doc->name, opts->shard_index, opts->shard_count)
                       : ex_format("%s/%s/report.json", opts->output_base_dir, r->doc->name);
    if (report && ex_report_write(report, r->doc, opts, r->stats) != 0) {
        ex_progress_note(&r->pr, "warning", "warning: cannot write %s: %s", report,
                         strerror(errno));
        free(report);
        report = NULL;
    }
    return report;
}

static void dispatch(run *r)
{
    ex_stats *stats = r->stats;
    bool in_workers = r->opts->jobs > 1 || r->opts->timeout > 0;
    /* Only a processor running in this process needs stopping from the signal
     * handler; workers are killed instead. */
    ex_signals_install(in_workers, in_workers ? NULL : r->opts->on_interrupt,
                       r->opts->interrupt_ctx);
    if (in_workers) {
        /* Skips first, in order: the workers then get the rest. */
        for (size_t i = 0; i < stats->n_records; i++)
            if (r->sched[i] == S_DONE)
                emit_skip(r, &stats->records[i], EX_SCENE_SKIPPED);
        run_workers(r);
    } else {
        run_here(r); /* skips are announced as the loop reaches them */
    }
    stats->interrupted = ex_signals_interrupted();
    ex_signals_restore();
    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        if (rec->state == EX_SCENE_PENDING)
            set_reason(rec, stats->interrupted ? "interrupted" : "not reached");
        release(r, i);
    }
}

int ex_orchestrate(const ex_document *doc, const ex_run_options *opts,
                   ex_process_fn process, void *ctx, ex_stats *stats,
                   char **errmsg)
{
    memset(stats, 0, sizeof *stats);
    *errmsg = NULL;
    double started = ex_now();
    const char *file = doc->path ? doc->path : doc->name;
    if (ex_run_options_check(opts, errmsg) != 0)
        return -1;
    if ((*errmsg = check_document_name(doc)))
        return -1;
    if (doc->has_duplicates) {
        *errmsg = duplicate_message(doc);
        return -1;
    }
    run r;
    memset(&r, 0, sizeof r);
    r.doc = doc;
    r.opts = opts;
    r.process = process;
    r.ctx = ctx;
    r.stats = stats;
    r.lock_fd = r.cwd_fd = -1;
    r.rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15u ^ (uint64_t)(started * 1e6) ^ 1;
    r.last_start = -1e9;
    ex_progress_init(&r.pr, opts, file, 0);
    if (check_scene_numbers(&r.pr, doc, opts, file, errmsg) != 0)
        return -1;
    if (opts->dry_run) {
        int rc = look(doc, opts, stats, false, errmsg);
        stats->elapsed_time = ex_now() - started;
        if (rc == 0)
            ex_plan_print(opts, file, stats);
        return rc;
    }
    if (make_records(doc, opts, stats, errmsg) != 0 || open_state(&r, errmsg) != 0) {
        close_state(&r);
        return -1;
    }
    r.pr.total = stats->total;
    r.cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < stats->n_records; i++)
        if (!scene_standing(opts, &r.journal, &stats->records[i]))
            r.sched[i] = S_DONE;
    r.planned_foreign = foreign_bytes(&r.journal);
    dispatch(&r);
    close_state(&r);
    stats->elapsed_time = ex_now() - started;
    char *report = write_report(&r);
    ex_progress_summary(&r.pr, stats, report);
    free(report);
    return 0;
}
