/*
 * orchestrate.c -- the run: select scenes, decide, dispatch, record, count.
 *
 * One scene's life: its standing decided (run or skip, and why: from the
 * workflow's journal, the output file and the scene's inputs), locked (so
 * that no other run of the workflow on the same folder does it at the same
 * time), decided again under the lock, journaled as started, processed (here,
 * or in a worker process when there are jobs or a timeout), journaled as done
 * or failed, retried with backoff, unlocked. The journal and the locks live in
 * <out>/<name>/.explainer/<workflow>. What is printed is report.c's business;
 * which scenes and where each stands is standing.c's; the worker processes
 * are pool.c's.
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
#include "run.h"
#include "signals.h"
#include "standing.h"
#include "util.h"

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
int ex_run_make_dir_below(const char *base, const char *dir, bool parent_checked, char **why)
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

/* ---- the run ------------------------------------------------------------- */

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
double ex_run_backoff(run *r, int attempt)
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
void ex_run_stdout_gone(run *r)
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

void ex_run_emit_skip(run *r, ex_scene_record *rec, ex_scene_state state)
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
bool ex_run_acquire(run *r, size_t i)
{
    ex_scene_record *rec = &r->stats->records[i];
    if (r->lock_fd >= 0) {
        if (ex_lock_scene(r->lock_fd, rec->scene_number) == 0) {
            r->locked[i] = true;
        } else if (errno == EWOULDBLOCK) {
            ex_set_reason(rec, "locked by another run");
            ex_run_emit_skip(r, rec, EX_SCENE_LOCKED);
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
    if (!ex_scene_standing(r->opts, &r->journal, rec)) {
        free(planned);
        ex_set_reason(rec, "done by another run");
        ex_run_emit_skip(r, rec, EX_SCENE_SKIPPED);
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

void ex_run_release(run *r, size_t i)
{
    if (r->locked[i])
        ex_unlock_scene(r->lock_fd, r->stats->records[i].scene_number);
    r->locked[i] = false;
}

bool ex_run_emit_start(run *r, ex_scene_record *rec, int attempt)
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
bool ex_run_record_attempt(run *r, ex_scene_record *rec, ex_outcome *out, double seconds)
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
                          out->ok ? ex_record_parts(rec) : NULL) != 0)
        fail_run(r, "write");
    if (out->ok)
        free(out->error);
    else
        rec->error = out->error ? out->error : ex_strdup("failed");
    out->error = NULL;
    return out->ok;
}

void ex_run_settle(run *r, size_t i, ex_scene_state state)
{
    ex_scene_record *rec = &r->stats->records[i];
    rec->state = state;
    r->sched[i] = S_DONE;
    r->finished++;
    r->processed++;
    ex_run_release(r, i);
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

double ex_run_rate_next(const run *r)
{
    return r->opts->rate > 0 ? r->last_start + 1.0 / r->opts->rate : 0;
}

static void call_here(run *r, ex_scene_record *rec, ex_outcome *out, double *seconds)
{
    *out = (ex_outcome){false, NULL, NULL, 0, false};
    double t0 = ex_now();
    char *why;
    if (ex_run_make_dir_below(r->opts->output_base_dir, rec->output_dir, true, &why) != 0)
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
        double wait = ex_run_rate_next(r) - ex_now();
        if (wait > 0)
            pause_for(wait);
        if (ex_signals_interrupted() || !ex_run_emit_start(r, rec, attempt))
            return;
        ex_outcome out;
        double seconds;
        call_here(r, rec, &out, &seconds);
        if (!out.ok && ex_signals_interrupted()) {
            free(out.error);
            free(out.result);
            return; /* stopped by the interrupt: stays undone ("started") */
        }
        if (ex_run_record_attempt(r, rec, &out, seconds)) {
            ex_run_settle(r, i, EX_SCENE_COMPLETED);
            return;
        }
        if (attempt > r->opts->retries || ex_signals_interrupted() || r->stats->fatal) {
            ex_run_settle(r, i, EX_SCENE_FAILED);
            return;
        }
        double delay = ex_run_backoff(r, attempt);
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
            ex_run_emit_skip(r, &stats->records[i], EX_SCENE_SKIPPED);
            continue;
        }
        if (ex_run_acquire(r, i))
            run_scene_here(r, i);
        ex_run_release(r, i);
        double now = ex_now();
        if (now >= next_stdout_check) { /* a poll(2) a scene would cost a run of cheap ones */
            next_stdout_check = now + 0.1;
            if (stdout_closed())
                ex_run_stdout_gone(r);
        }
    }
    /* A run shorter than the checks' interval is checked once more at its end. */
    if (!r->stop && !ex_signals_interrupted() && stdout_closed())
        ex_run_stdout_gone(r);
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
    if (ex_make_records(doc, opts, stats, errmsg) != 0)
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
        bool run_it = ex_scene_standing(opts, &journal, rec);
        const ex_journal_entry *e = ex_journal_get(&journal, rec->scene_number);
        if (e) {
            rec->attempts = e->attempt;
            rec->seconds = e->seconds;
        }
        if (held) {
            ex_set_reason(rec, running ? "running" : "running in another run");
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
    if (ex_check_scene_numbers(&pr, doc, opts, file, errmsg) != 0)
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
    if (ex_run_make_dir_below(opts->output_base_dir, r->state_dir, false, &why) != 0) {
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

/* Wait until no other run holds scene i's lock (it is done with it), or
 * the run is interrupted. False when it cannot tell or was interrupted. */
static bool wait_for_lock(run *r, size_t i)
{
    long number = r->stats->records[i].scene_number;
    while (!ex_signals_interrupted()) {
        if (ex_lock_scene(r->lock_fd, number) == 0) {
            ex_unlock_scene(r->lock_fd, number);
            return true;
        }
        if (errno != EWOULDBLOCK)
            return false;
        pause_for(0.1);
    }
    return false;
}

/* The scenes this run left to another ("locked by another run") are waited
 * for before the workflow's finish, which joins what every run made: joined
 * now, the film would leave them out, or find no clip at all. This run holds
 * no scene lock by now, so two runs waiting for each other's scenes cannot
 * wait for ever. Each is then what the other run made of it. */
static void wait_for_others(run *r)
{
    ex_stats *stats = r->stats;
    size_t waiting = 0;
    for (size_t i = 0; i < stats->n_records; i++)
        waiting += stats->records[i].state == EX_SCENE_LOCKED;
    if (waiting == 0 || r->lock_fd < 0)
        return;
    ex_progress_note(&r->pr, "info", "Waiting for %zu scene%s another run is making ...",
                     waiting, waiting == 1 ? "" : "s");
    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        if (rec->state != EX_SCENE_LOCKED)
            continue;
        if (!wait_for_lock(r, i) || ex_journal_refresh(&r->journal) != 0)
            return;
        const ex_journal_entry *e = ex_journal_get(&r->journal, rec->scene_number);
        if (e && e->state == EX_JOURNAL_DONE) {
            ex_set_reason(rec, "done by another run");
            rec->state = EX_SCENE_SKIPPED;
            stats->locked--;
            stats->skipped++;
        } else {
            ex_set_reason(rec, e && e->state == EX_JOURNAL_FAILED ? "failed in another run"
                                                                 : "left undone by another run");
        }
    }
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
                ex_run_emit_skip(r, &stats->records[i], EX_SCENE_SKIPPED);
        ex_run_workers(r);
    } else {
        run_here(r); /* skips are announced as the loop reaches them */
    }
    if (r->opts->wait_for_others && !r->stop)
        wait_for_others(r);
    stats->interrupted = ex_signals_interrupted();
    ex_signals_restore();
    for (size_t i = 0; i < stats->n_records; i++) {
        ex_scene_record *rec = &stats->records[i];
        if (rec->state == EX_SCENE_PENDING)
            ex_set_reason(rec, stats->interrupted ? "interrupted" : "not reached");
        ex_run_release(r, i);
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
        *errmsg = ex_duplicate_message(doc);
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
    if (ex_check_scene_numbers(&r.pr, doc, opts, file, errmsg) != 0)
        return -1;
    if (opts->dry_run) {
        int rc = look(doc, opts, stats, false, errmsg);
        stats->elapsed_time = ex_now() - started;
        if (rc == 0)
            ex_plan_print(opts, file, stats);
        return rc;
    }
    if (ex_make_records(doc, opts, stats, errmsg) != 0 || open_state(&r, errmsg) != 0) {
        close_state(&r);
        return -1;
    }
    r.pr.total = stats->total;
    r.cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < stats->n_records; i++)
        if (!ex_scene_standing(opts, &r.journal, &stats->records[i]))
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
