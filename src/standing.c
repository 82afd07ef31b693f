/*
 * standing.c -- which scenes a run takes (--scenes, --shard) and where each
 * stands, and why: the one rule (ex_scene_standing) that runs, dry runs and
 * status follow. From the workflow's journal, the output file, the key
 * recorded beside it and the scene's inputs.
 */
#include "standing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool selected(const ex_run_options *opts, const ex_document *doc, size_t i)
{
    if (opts->shard_count > 0 &&
        (long)(i % (size_t)opts->shard_count) != opts->shard_index - 1)
        return false;
    if (!opts->scene_numbers)
        return true;
    for (size_t k = 0; k < opts->n_scene_numbers; k++)
        if (opts->scene_numbers[k] == doc->scenes[i].number)
            return true;
    return false;
}

char *ex_duplicate_message(const ex_document *doc)
{
    const char *file = doc->path ? doc->path : doc->name;
    for (size_t i = 0; i < doc->n_scenes; i++)
        for (size_t j = i + 1; j < doc->n_scenes; j++)
            if (doc->scenes[i].number == doc->scenes[j].number)
                return ex_format("%s: duplicate scene number %ld (lines %ld and %ld); "
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
void ex_set_reason(ex_scene_record *rec, const char *text)
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
        rec->inputs_len =
            opts->inputs_len ? opts->inputs_len[i] : strlen(opts->inputs[i]);
        ex_inputs_of_lines(rec->inputs_text, rec->inputs_len, &rec->inputs);
    } else {
        ex_inputs_of_scene(rec->scene, &rec->inputs);
    }
}

/* The short form of the record's parts (made when first needed); NULL when
 * memory runs out. */
const char *ex_record_parts(ex_scene_record *rec)
{
    ex_inputs_parts(&rec->inputs, rec->scene, rec->inputs_text, rec->inputs_len);
    return rec->inputs.parts;
}

/* Fill stats->records with the selected scenes (file order). */
int ex_make_records(const ex_document *doc, const ex_run_options *opts, ex_stats *stats,
                    char **errmsg)
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
        rec->output_dir =
            ex_scene_output_dir(opts->output_base_dir, doc->name, rec->scene_number);
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
bool ex_scene_standing(const ex_run_options *opts, const ex_journal *journal,
                       ex_scene_record *rec)
{
    if (!opts->skip_existing) {
        rec->standing = EX_STANDING_FORCED;
        ex_set_reason(rec, "forced");
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
            text = ex_format("changed: %s was made with other inputs",
                             opts->output_filename);
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
        char *what = ex_inputs_changed(old, ex_record_parts(rec));
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
                     : j == i + 1
                         ? ex_format("%s%ld, %ld", b.len ? ", " : "", n[i], n[j])
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
int ex_check_scene_numbers(const ex_progress *pr, const ex_document *doc,
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
