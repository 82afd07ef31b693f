/*
 * orchestrate.h -- the run: select scenes, decide, dispatch, record, count.
 *
 * Plain C, no Lua. The processor is a callback (outcome.h); the Lua binding
 * passes the user's process_scene in through it.
 *
 * Whether a scene runs is decided in one place, ex_scene_standing(), from the
 * workflow's journal, the scene's output file and the scene's inputs (its key
 * and parts, inputs.h). Every run, dry run and status uses it, with one
 * vocabulary: "new", "fresh", "exists" (output there, no record: made before
 * the journal or by hand), "missing <file>", "changed: <parts>",
 * "incomplete" (started, never finished), "failed", "forced" (--no-skip);
 * status and dry runs add "running" (another run holds the scene).
 */
#ifndef EXPLAINER_ORCHESTRATE_H
#define EXPLAINER_ORCHESTRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outcome.h"
#include "parse.h"
#include "records.h"

/* Fill the defaults of the contract (docs/lua-api.md). */
void ex_run_options_init(ex_run_options *opts);

/* Check the values (jobs >= 1, 1 <= K <= N, rate >= 0, a usable workflow name
 * and output folder...). 0, or -1 with a malloc'd one-line *errmsg. */
int ex_run_options_check(const ex_run_options *opts, char **errmsg);

/*
 * Run `process` over the selected scenes of `doc`. Returns 0 when the run took
 * place (scenes may have failed, and stats->fatal may say the run had to
 * stop), -1 when it was refused before any scene ran (duplicate scene
 * numbers, an output folder that cannot be made); then *errmsg is a malloc'd
 * one-line message. `stats` is always initialised and must be released with
 * ex_stats_free.
 */
int ex_orchestrate(const ex_document *doc, const ex_run_options *opts,
                   ex_process_fn process, void *ctx, ex_stats *stats,
                   char **errmsg);

void ex_stats_free(ex_stats *stats);

/* Each selected scene's standing, as a dry run sees it, adding "running" for a
 * scene another run holds; no scene runs. Returns 0, or -1 with *errmsg. */
int ex_status(const ex_document *doc, const ex_run_options *opts,
              ex_stats *stats, char **errmsg);

/* <base>/<name>/.explainer/<workflow>, where the journal and the locks live. */
char *ex_state_dir(const char *base, const char *name, const char *workflow);

/* "<base>/<name>/scene_NN" (two digits at least). malloc'd; NULL on OOM. */
char *ex_scene_output_dir(const char *base, const char *name, long number);

/* Does dir/filename exist (as anything but a directory)? */
bool ex_output_exists(const char *dir, const char *filename);

#endif
