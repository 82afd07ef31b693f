/*
 * standing.h -- which scenes a run takes, and where each stands (standing.c).
 */
#ifndef EXPLAINER_STANDING_H
#define EXPLAINER_STANDING_H

#include <stdbool.h>

#include "journal.h"
#include "orchestrate.h"
#include "report.h"

/* "FILE: duplicate scene number N (lines A and B); ...", or NULL. */
char *ex_duplicate_message(const ex_document *doc);

/* rec->reason = a copy of text. */
void ex_set_reason(ex_scene_record *rec, const char *text);

/* The short form of the record's parts (made when first needed); NULL when
 * memory runs out. */
const char *ex_record_parts(ex_scene_record *rec);

/* Fill stats->records with the selected scenes (file order). 0, or -1 with
 * *errmsg. */
int ex_make_records(const ex_document *doc, const ex_run_options *opts, ex_stats *stats,
                    char **errmsg);

/* Where a scene stands (rec->standing, rec->reason); true when it is to run. */
bool ex_scene_standing(const ex_run_options *opts, const ex_journal *journal,
                       ex_scene_record *rec);

/* The --scenes numbers the script lacks: a warning, or (none of them there)
 * an error. 0, or -1 with *errmsg. */
int ex_check_scene_numbers(const ex_progress *pr, const ex_document *doc,
                           const ex_run_options *opts, const char *file, char **errmsg);

#endif
