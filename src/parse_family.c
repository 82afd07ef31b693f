/*
 * parse_family.c -- scene headers of other forms than `## SCENE n: Title`:
 * `**Scene 2: Title (6s)**`, `Scene 2: Title` / `Scene 2 — Title` at column 0,
 * `## Part 2: Title`, `## 2. Title` (recognized by px_other_header). A line of any
 * of these is a candidate, and the pass notes whether a narration label follows it
 * in its block (up to the next candidate or level-1/2 heading).
 *
 * When the pass ends: in a script with `## SCENE` headers, a narrated candidate is
 * a scene that would be lost, and a warning with its line. In a script without any,
 * the family with the most narrated candidates is its scene headers: the pass plans
 * a second one that reads those lines as scenes (ex_parse runs it), and that pass
 * warns about the rest. So no scene-like line followed by a Narration is ever
 * silently dropped, and a script of `## SCENE` headers never gains scenes from
 * `Scene 2:` lines in its prose or its NARRATION SCRIPT section.
 */
#include "parse_internal.h"

#include <stdlib.h>

/* How a family's headers are written, for warnings. */
static const char *family_example(enum header_family family)
{
    switch (family) {
    case HEADER_SCENE:
        return "Scene n: Title";
    case HEADER_PART:
        return "## Part n: Title";
    case HEADER_NUMBERED:
        return "## n. Title";
    case HEADER_NONE:
        break;
    }
    return "## SCENE n: Title";
}

static header_candidate *add_candidate(parser *p, span line, long lineno,
                                       enum header_family family, const scene_head *h)
{
    header_candidate *c = px_vec_push(&p->candidates, sizeof *c);
    if (!c) {
        p->oom = true;
        return NULL;
    }
    c->line = lineno;
    c->number = h->number;
    c->family = family;
    c->narrated = h->no_narration; /* a silent scene needs no Narration line */
    c->text = line;
    p->candidate_open = true;
    return c;
}

/* A heading or a `## SCENE` header ends the block of the last candidate. */
void px_candidate_end(parser *p)
{
    p->candidate_open = false;
}

/* A level-1 or level-2 heading other than `## SCENE` and NARRATION SCRIPT ones:
 * `## Part 2: …` and `## 2. …` are candidates. */
void px_candidate_heading(parser *p, span line, long lineno)
{
    p->candidate_open = false;
    scene_head h;
    enum header_family family = px_other_header(line, &h);
    if (family != HEADER_NONE)
        add_candidate(p, line, lineno, family, &h);
}

/*
 * Any other line outside a NARRATION SCRIPT section and an open quote: a `Scene 2:
 * …` candidate, or a narration label in the block of the open one. `warned`: the
 * line has its scene-header warning already (`SCENE 3: …` without its `## `).
 */
void px_candidate_line(parser *p, span line, long lineno, bool warned)
{
    if (!line.n)
        return;
    if (line.p[0] == '*' || lower((unsigned char)line.p[0]) == 's') {
        scene_head h;
        enum header_family family = px_other_header(line, &h);
        if (family != HEADER_NONE) {
            header_candidate *c = add_candidate(p, line, lineno, family, &h);
            if (c)
                c->warned = warned;
            return;
        }
    }
    if (!p->candidate_open)
        return;
    header_candidate *open =
        (header_candidate *)p->candidates.items + (p->candidates.n - 1);
    span label;
    const char *value;
    if (!open->narrated && px_match_label(line, &label, &value) &&
        px_field_kind(label) == F_NARRATION)
        open->narrated = true;
}

/* In a second pass: is this line one of the plan's scene headers? Sets *h to it. */
bool px_planned_header(parser *p, span line, long lineno, scene_head *h)
{
    const header_plan *plan = p->plan;
    if (!plan || p->next_planned >= plan->n || plan->lines[p->next_planned] != lineno)
        return false; /* handle_line looks first, since this is asked of every line */
    p->next_planned++;
    enum header_family family = px_other_header(line, h);
    if (family == HEADER_NONE)
        return false; /* not reached: the first pass read this line so */
    header_candidate *c = add_candidate(p, line, lineno, family, h);
    if (c)
        c->chosen = true;
    return true;
}

/* A script without scenes: plan a second pass over the family with the most narrated
 * candidates (on a tie, the first of Scene, Part, numbered). A candidate whose number
 * has an entry in the NARRATION SCRIPT section is narrated too: its narration is
 * there. False when none is. */
static bool plan_second_pass(parser *p)
{
    header_candidate *c = p->candidates.items;
    size_t n = p->candidates.n, count[HEADER_NUMBERED + 1] = {0};
    if (p->script.n)
        px_script_sort(p);
    for (size_t i = 0; i < n; i++) {
        if (!c[i].narrated && p->script.n && px_script_has_entry(p, c[i].number))
            c[i].narrated = true;
        count[c[i].family] += c[i].narrated;
    }
    enum header_family best = HEADER_NONE;
    for (int f = HEADER_SCENE; f <= HEADER_NUMBERED; f++)
        if (count[f] > count[best])
            best = (enum header_family)f;
    if (best == HEADER_NONE || !p->replan)
        return false;
    header_plan *plan = p->replan;
    plan->lines = px_malloc(count[best] * sizeof *plan->lines);
    if (!plan->lines) {
        p->oom = true;
        return true;
    }
    plan->family = best;
    for (size_t i = 0; i < n; i++)
        if (c[i].narrated && c[i].family == best)
            plan->lines[plan->n++] = c[i].line;
    return true;
}

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The scene numbers, sorted (malloc'd; NULL when memory ran out). */
static long *sorted_numbers(parser *p)
{
    size_t n = p->scenes.n;
    long *v = px_malloc(n * sizeof *v);
    if (!v) {
        p->oom = true;
        return NULL;
    }
    const ex_scene *scenes = p->scenes.items;
    for (size_t i = 0; i < n; i++)
        v[i] = scenes[i].number;
    qsort(v, n, sizeof *v, by_value);
    return v;
}

static void warn_candidate(parser *p, const header_candidate *c,
                           enum header_family family, const long *numbers)
{
    const char *line = px_excerpt(p, c->text);
    if (!p->scenes.n)
        px_warn(
            p, c->line, 1, EX_RULE_SCENE_HEADER,
            "'%s' looks like a scene header but no Narration follows it and the "
            "NARRATION SCRIPT has no entry for it; it is not a scene (scenes are "
            "'## SCENE n: Title' headings, or numbered headers each followed by a "
            "Narration or with an entry in a NARRATION SCRIPT section)",
            line);
    else if (c->narrated && family == HEADER_NONE)
        px_warn(
            p, c->line, 1, EX_RULE_SCENE_HEADER,
            "'%s' looks like scene %ld (a Narration follows it) but is not a '## SCENE "
            "n: Title' heading like this script's scenes; it is not a scene",
            line, c->number);
    else if (c->narrated)
        px_warn(
            p, c->line, 1, EX_RULE_SCENE_HEADER,
            "'%s' looks like scene %ld (a Narration follows it) but is written unlike "
            "this script's scene headers ('%s'); it is not a scene",
            line, c->number, family_example(family));
    else if (c->family == family && numbers &&
             !bsearch(&c->number, numbers, p->scenes.n, sizeof *numbers, by_value))
        px_warn(
            p, c->line, 1, EX_RULE_SCENE_HEADER,
            "'%s' is written like this script's scene headers but no Narration follows "
            "it; it is not a scene (a silent scene says 'Narration: None')",
            line);
}

/*
 * The pass has ended: warn about the candidates that are no scene and should have
 * been one (see the file comment), or, in a first pass that found no scene, plan
 * the second. A candidate of the scenes' own family without a Narration whose
 * number is a scene's is a list of the scenes, and no warning.
 */
void px_candidates_finish(parser *p)
{
    if (!p->scenes.n && !p->plan && plan_second_pass(p))
        return;
    enum header_family family = p->plan ? p->plan->family : HEADER_NONE;
    long *numbers = family != HEADER_NONE && p->scenes.n ? sorted_numbers(p) : NULL;
    const header_candidate *c = p->candidates.items;
    for (size_t i = 0; i < p->candidates.n && !p->oom; i++)
        if (!c[i].chosen && !c[i].warned)
            warn_candidate(p, &c[i], family, numbers);
    free(numbers);
}
