/*
 * inputs.h -- what a scene's output depends on: its key and the parts it is
 * made of.
 *
 * A scene's inputs are a list of named parts, each with a 64-bit hash of its
 * value, written canonically as lines "name:0123456789abcdef\n". The scene's
 * key (what the journal records and a rerun compares) is a hash of those
 * lines; the parts let a rerun say *what* changed ("changed: narration,
 * voice"). Without a workflow's inputs(scene), the parts are the parsed
 * scene's own keys (title, duration, narration, ...) and its fields; with
 * one, they are whatever it returned (the Lua side writes the lines).
 */
#ifndef EXPLAINER_INPUTS_H
#define EXPLAINER_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

typedef struct ex_inputs {
    uint64_t key;
    char *parts;   /* "name:hash8,name:hash8": the journal's short form; NULL
                      until ex_inputs_parts() makes it */
} ex_inputs;

/* The parsed scene's own key (parts: ex_inputs_parts). A rerun that skips
 * every scene computes only keys: no text is formatted. */
void ex_inputs_of_scene(const ex_scene *scene, ex_inputs *out);

/* The key of parts given as canonical lines (from a workflow's
 * inputs(scene)); text that is not in that form counts as one part named
 * "inputs". */
void ex_inputs_of_lines(const char *lines, size_t len, ex_inputs *out);

/* Fill in->parts (the short form) for the scene, or for the lines it was
 * made from (lines NULL: the scene's own). 0, or -1 when memory runs out. */
int ex_inputs_parts(ex_inputs *in, const ex_scene *scene, const char *lines, size_t len);

void ex_inputs_free(ex_inputs *in);

/* What changed between two short forms, for people: "narration, voice".
 * Parts named "field/..." (a scene's raw fields) are named only when nothing
 * else changed, since editing the narration also edits its field. malloc'd;
 * NULL when the old record has no parts or memory runs out. */
char *ex_inputs_changed(const char *old_parts, const char *new_parts);

#endif
