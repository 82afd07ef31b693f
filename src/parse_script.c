/*
 * parse_script.c -- a `## NARRATION SCRIPT` section: its `Scene 2: "..."` entries
 * (bold, bulleted, with a duration, no blank line needed between them), and after
 * the pass the narration they give to scenes that have none of their own.
 */
#include "parse_internal.h"

#include <stdlib.h>
#include <string.h>

/* "NARRATION SCRIPT", "Full Narration Script:", "Voiceover Script", "VO script". */
bool px_is_narration_script_heading(span text)
{
    static const char *const words[] = {"narration", "voiceover", "voice-over", "voice over",
                                        "vo"};
    for (size_t i = 0; i < text.n; i++) {
        if (i > 0 && is_alpha(at(text, i - 1)))
            continue;
        for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
            if (!has_ci_at(text, i, words[w]))
                continue;
            size_t n = strlen(words[w]);
            size_t k = skip_blanks(text, i + n);
            if (k > i + n && has_ci_at(text, k, "script") &&
                (k + 6 == text.n || !is_alpha(at(text, k + 6))))
                return true;
        }
    }
    return false;
}

/* A line that names a NARRATION SCRIPT section without being a `#` or `##`
 * heading, and nothing else: `### Narration Script`, `**NARRATION SCRIPT:**`,
 * `NARRATION SCRIPT:` (not a bullet such as `- [ ] Complete Narration Script`).
 * Its entries are not read; the parser says so (parse.c). */
bool px_loose_script_heading(span line)
{
    span t = trim(line);
    while (t.n && t.p[0] == '#')
        t = trim(skip(t, 1));
    t = strip_bold(t);
    while (t.n && (t.p[t.n - 1] == ':' || is_space(at(t, t.n - 1))))
        t.n--;
    t = strip_bold(t);
    return t.n > 0 && t.n <= 40 && is_alpha(at(t, 0)) && px_is_narration_script_heading(t);
}

/*
 * The head of a NARRATION SCRIPT entry at t[i]: `Scene 3:`, `**Scene 3**:`,
 * `**Scene 3:**`, `Scene 3 (6s):`, `**Scene 3 (6s):**`. Sets *number and returns
 * the offset of the text after it; 0 when t[i] starts no entry.
 */
static size_t script_entry_head(span t, size_t i, long *number)
{
    if (i + 1 < t.n && t.p[i] == '*' && t.p[i + 1] == '*')
        i += 2;
    if (!has_ci_at(t, i, "scene") || i + 5 >= t.n || !is_blank(at(t, i + 5)))
        return 0;
    size_t k = skip_blanks(t, i + 5);
    bool overflow;
    if (!px_parse_long(t, &k, number, &overflow))
        return 0;
    for (int part = 0; part < 3; part++) { /* "**", a group, "**", in this order */
        k = skip_blanks(t, k);
        if (part != 1 && k + 1 < t.n && t.p[k] == '*' && t.p[k + 1] == '*') {
            k += 2;
        } else if (part == 1 && k < t.n && (t.p[k] == '(' || t.p[k] == '[')) {
            const char *close = memchr(t.p + k, t.p[k] == '(' ? ')' : ']', t.n - k);
            if (!close)
                return 0;
            k = (size_t)(close - t.p) + 1;
        }
    }
    if (k >= t.n || t.p[k] != ':')
        return 0;
    k++;
    if (k + 1 < t.n && t.p[k] == '*' && t.p[k + 1] == '*')
        k += 2;
    return k;
}

void px_close_entry(parser *p)
{
    if (!p->entry_open)
        return;
    p->entry_open = false;
    px_warn_unclosed(p, &p->entry_quote, "this NARRATION SCRIPT entry",
                     "the entry ends at the next blank line");
    px_warn_after(p, &p->entry_after, &p->entry_quote, "the NARRATION SCRIPT entry",
                  "put it inside the quotes, or after a blank line as a note");
    script_entry *e = px_vec_push(&p->script, sizeof *e);
    if (!e) {
        p->oom = true;
        return;
    }
    *e = p->entry;
}

/* `Scene 3: "..."` (optionally bold or bulleted) in a NARRATION SCRIPT section.
 * An entry runs to a blank line or the next entry; no blank line is needed
 * between entries, but an entry whose quote is still open keeps its next lines,
 * and one whose quote has closed at the end of a line keeps none. */
void px_script_line(parser *p, span line, long lineno)
{
    span t = trim(line);
    if (!t.n || px_is_separator(t) || px_heading_level(line)) {
        px_close_entry(p);
        return;
    }
    if (p->entry_open && quote_open(&p->entry_quote)) {
        p->entry.end = t.p + t.n;
        px_quote_feed(&p->entry_quote, line, line, lineno);
        return;
    }
    size_t i = 0;
    if (t.n > 1 && (t.p[0] == '-' || t.p[0] == '*') && is_blank(at(t, 1)))
        i = skip_blanks(t, 1);
    long number;
    size_t k = script_entry_head(t, i, &number);
    if (k) {
        px_close_entry(p);
        p->entry_open = true;
        p->entry.number = number;
        p->entry.start = t.p + k;
        p->entry.end = t.p + t.n;
        p->entry.line = lineno;
        memset(&p->entry_quote, 0, sizeof p->entry_quote);
        memset(&p->entry_after, 0, sizeof p->entry_after);
        px_quote_feed(&p->entry_quote, skip(t, k), line, lineno);
        return;
    }
    if (p->entry_open && p->entry_quote.ended) {
        note_after(&p->entry_after, line, lineno); /* not part of the entry's value */
    } else if (p->entry_open) {
        p->entry.end = t.p + t.n;
        px_quote_feed(&p->entry_quote, line, line, lineno);
    }
}

static int by_number_then_line(const void *a, const void *b)
{
    const script_entry *x = a, *y = b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Sort the entries by scene number (then line), for the lookups below. */
void px_script_sort(parser *p)
{
    if (p->script.n > 1)
        qsort(p->script.items, p->script.n, sizeof(script_entry), by_number_then_line);
}

/* The index of the first entry of scene `number` in the sorted entries; p->script.n
 * when there is none. */
static size_t first_entry(const parser *p, long number)
{
    const script_entry *e = p->script.items;
    size_t lo = 0, hi = p->script.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->script.n && e[lo].number == number ? lo : p->script.n;
}

/* Does the (sorted) NARRATION SCRIPT section have an entry with words, or one that
 * says the scene is silent, for scene `number`? */
bool px_script_has_entry(const parser *p, long number)
{
    const script_entry *e = p->script.items;
    for (size_t i = first_entry(p, number); i < p->script.n && e[i].number == number; i++)
        if (trim(span_between(e[i].start, e[i].end)).n)
            return true;
    return false;
}

/* An entry that says a scene is silent rather than what is said: "", "[none]",
 * "(no narration)", "Silent - title card", "No narration", "-". */
static bool is_silence_note(span v)
{
    v = trim(v);
    if (!v.n || px_is_empty_single_quotes(v) || px_is_placeholder(v) || (v.p[0] == '(' && v.p[v.n - 1] == ')') ||
        eq_ci(v, "-") || eq_ci(v, "none") || eq_ci(v, "n/a") ||
        eq_ci(v, "\xE2\x80\x94") || eq_ci(v, "\xE2\x80\x93"))
        return true;
    return has_ci_at(v, 0, "no narration") || has_ci_at(v, 0, "silen");
}

/* The line of a scene's `Narration: None`, when that is what made it silent; 0 when
 * its header's NO NARRATION did. `*cursor` walks p->silenced along the scenes. */
static long silenced_at(parser *p, size_t scene, size_t *cursor)
{
    const silenced_scene *v = p->silenced.items;
    while (*cursor < p->silenced.n && v[*cursor].scene < scene)
        (*cursor)++;
    return *cursor < p->silenced.n && v[*cursor].scene == scene ? v[*cursor].line : 0;
}

/* A silent scene's entry with words in it: they are not said, and a warning says so. */
static void warn_silent_entry(parser *p, const ex_scene *sc, const script_entry *e, long said)
{
    if (said)
        px_warn(p, e->line, 1, EX_RULE_NO_NARRATION,
                "scene %ld's Narration (line %ld) says it is silent, but the NARRATION "
                "SCRIPT has narration for it; it is ignored",
                sc->number, said);
    else
        px_warn(p, e->line, 1, EX_RULE_NO_NARRATION,
                "scene %ld is marked NO NARRATION (line %ld) but the NARRATION "
                "SCRIPT has narration for it; it is ignored",
                sc->number, sc->line);
}

void px_narration_fallback(parser *p)
{
    script_entry *e = p->script.items;
    size_t n = p->script.n, cursor = 0;
    if (n == 0)
        return;
    px_script_sort(p);
    ex_scene *scenes = p->scenes.items;
    for (size_t s = 0; s < p->scenes.n && !p->oom; s++) {
        ex_scene *sc = &scenes[s];
        if (sc->narration && !sc->no_narration)
            continue;
        for (size_t lo = first_entry(p, sc->number); lo < n && e[lo].number == sc->number;
             lo++) {
            span raw = span_between(e[lo].start, e[lo].end);
            span v = px_value_of(raw);
            if (sc->no_narration) {
                if (!is_silence_note(v)) {
                    warn_silent_entry(p, sc, &e[lo], silenced_at(p, s, &cursor));
                    break;
                }
            } else if (px_is_silence(raw)) {
                sc->no_narration = true; /* "Scene 7: None" */
                break;
            } else if (v.n) {
                sc->narration = px_text_copy(p, v);
                break;
            }
        }
    }
}
