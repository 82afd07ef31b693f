/*
 * parse_fields.c -- the inside of a scene block: `Label: value` fields (bold too), a
 * quoted value that stays open across lines until its quote closes, and, when the
 * block ends, its fields turned into the scene's members (narration, layout, the
 * Nano Banana and 2-step image prompts, the animation prompt) and `fields`.
 *
 * A field is remembered as a span of the source text while the block is read and
 * copied once, when the block ends, which keeps the parser linear.
 */
#include "parse_internal.h"

#include <stdio.h>
#include <string.h>

/* Longest label accepted in `Label: value`; longer "labels" are prose with a colon. */
#define MAX_LABEL 100

/* Does s[i..] hold `n` asterisks? */
static bool stars_at(span s, size_t i, size_t n)
{
    if (i + n > s.n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (s.p[i + k] != '*')
            return false;
    return true;
}

/*
 * `Label: value` starting at column 0. A label starts with a letter (or any
 * non-ASCII byte), holds no double quote, is at most MAX_LABEL bytes, and its
 * colon is followed by a blank or the end of the line (so "https://" and "10:30"
 * are not labels). Bullets ("- Text: ...", "* Text: ...") and indented lines never
 * match. In markdown bold or italic too, `**Label:** value`, `**Label**: value`,
 * `*Label:* value`, `*Label*: value` (scripts written in a chat tool often come that
 * way).
 */
bool px_match_label(span line, span *label, const char **value_start)
{
    size_t marks = stars_at(line, 0, 2) ? 2 : stars_at(line, 0, 1) ? 1 : 0;
    size_t start = marks;
    if (line.n <= start || !(is_alpha(at(line, start)) || at(line, start) >= 0x80))
        return false;
    for (size_t i = start + 1; i < line.n && i <= MAX_LABEL + start; i++) {
        unsigned char c = at(line, i);
        if (c == '"')
            return false;
        size_t after;
        if (!marks && c == ':')
            after = i + 1;
        else if (marks && c == ':' && stars_at(line, i + 1, marks))
            after = i + 1 + marks; /* **Label:** */
        else if (marks && c == '*' && stars_at(line, i, marks) && i + marks < line.n &&
                 line.p[i + marks] == ':')
            after = i + marks + 1; /* **Label**: */
        else
            continue;
        if (after == line.n || is_blank(at(line, after))) {
            *label = trim(mkspan(line.p + start, i - start));
            *value_start = line.p + after;
            return true;
        }
    }
    return false;
}

/* `Narration`, `Narration (VO)`, `Voiceover`, `Voice-over`, `Voice over`, `VO`,
 * `V.O.`: any of them with an optional parenthesised note. */
static bool is_narration_label(span label)
{
    static const char *const names[] = {"narration", "voiceover", "voice-over", "voice over",
                                        "vo", "v.o.", "v.o"};
    if (!label.n || (lower(at(label, 0)) != 'n' && lower(at(label, 0)) != 'v'))
        return false;
    if (label.n && label.p[label.n - 1] == ')') {
        const char *open = memchr(label.p, '(', label.n);
        if (open)
            label = trim(span_between(label.p, open));
    }
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (eq_ci(label, names[k]))
            return true;
    return false;
}

enum field_kind px_field_kind(span label)
{
    if (is_narration_label(label))
        return F_NARRATION;
    if (eq_ci(label, "layout design"))
        return F_LAYOUT;
    if (eq_ci(label, "nano banana iterative prompt"))
        return F_NANO_BANANA;
    if (has_ci_at(label, 0, "image generation prompt"))
        return F_TWO_STEP;
    if (eq_ci(label, "animation prompt for ai video model") || eq_ci(label, "animation prompt"))
        return F_ANIMATION;
    if (eq_ci(label, "initial") || eq_ci(label, "initial prompt"))
        return F_INITIAL;
    if (has_ci_at(label, 0, "final prompt"))
        return F_FINAL;
    return F_OTHER;
}

/* "Iteration 2" (any case), the label of a Nano Banana step. */
static bool is_iteration_label(span label)
{
    if (!has_ci_at(label, 0, "iteration"))
        return false;
    size_t i = skip_blanks(label, 9);
    if (i == label.n || !is_digit(at(label, i)))
        return false;
    while (i < label.n && is_digit(at(label, i)))
        i++;
    return i == label.n;
}

/* Lines inside an image-prompt block that look like labels but belong to it. */
static bool is_sub_label(enum field_kind kind, span label)
{
    enum field_kind k = px_field_kind(label);
    if (kind == F_NANO_BANANA)
        return k == F_INITIAL || is_iteration_label(label);
    if (kind == F_TWO_STEP)
        return k == F_INITIAL || k == F_FINAL;
    return false;
}

/*
 * The value of a field: a value that starts with a double quote runs from that
 * quote to the last one (inner quotes kept); an unterminated quote runs to the end.
 * Curly quotes (U+201C ... U+201D) are treated the same way. Anything else is the
 * trimmed text.
 */
span px_value_of(span raw)
{
    span t = trim(raw);
    if (t.n && t.p[0] == '"') {
        size_t last = t.n - 1;
        while (last > 0 && t.p[last] != '"')
            last--;
        if (last == 0)
            return trim(skip(t, 1));
        return trim(mkspan(t.p + 1, last - 1));
    }
    static const char open[] = "\xE2\x80\x9C", close[] = "\xE2\x80\x9D";
    if (has_ci_at(t, 0, open)) {
        span rest = skip(t, 3);
        size_t last = rest.n;
        while (last >= 3 && memcmp(rest.p + last - 3, close, 3) != 0)
            last--;
        if (last < 3)
            return trim(rest);
        return trim(mkspan(rest.p, last - 3));
    }
    return t;
}

/* `None`, `N/A`, a dash, `Silent`, `No narration` (any case, an optional final '.'). */
static bool is_silence_word(span v)
{
    static const char *const words[] = {"none", "n/a", "-", "--", "\xE2\x80\x93",
                                        "\xE2\x80\x94", "silent", "silence", "no narration"};
    v = trim(v);
    if (v.n && v.p[v.n - 1] == '.')
        v = trim(mkspan(v.p, v.n - 1));
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (eq_ci(v, words[k]))
            return true;
    return false;
}

/* Single quotes around nothing: `''`, `‘’`. (Single quotes are no quotes otherwise:
 * `'Hello'` is said with them, since an apostrophe cannot be told from one.) */
bool px_is_empty_single_quotes(span v)
{
    v = trim(v);
    return eq_ci(v, "''") || eq_ci(v, "\xE2\x80\x98\xE2\x80\x99");
}

/*
 * Does a narration value say there is none, so that the scene is silent? Quotes
 * around nothing (`""`, `“”`, `''`, `‘’`), or a word for nothing, bare, quoted, in
 * brackets (`(none)`) or before a note in brackets (`None (title card)`). A value
 * that is empty without quotes says nothing: the field is not filled in yet.
 */
bool px_is_silence(span raw)
{
    span t = trim(raw);
    span v = px_value_of(t);
    if (!v.n)
        return t.n > 0;
    if (px_is_empty_single_quotes(v))
        return true;
    if (v.n >= 2 && ((v.p[0] == '(' && v.p[v.n - 1] == ')') ||
                     (v.p[0] == '[' && v.p[v.n - 1] == ']')))
        return is_silence_word(mkspan(v.p + 1, v.n - 2));
    if (is_silence_word(v))
        return true;
    long note = px_trailing_group(v);
    return note > 0 && is_silence_word(mkspan(v.p, (size_t)note));
}

/* A template placeholder: one bracket group covering the whole text,
 * "[To be determined after review]", "[Follow same 3-step iteration process]". */
bool px_is_placeholder(span s)
{
    s = trim(s);
    if (s.n < 2 || s.p[0] != '[')
        return false;
    const char *close = memchr(s.p, ']', s.n);
    return close == s.p + s.n - 1;
}

/* Take in more of a value: `text` is part of the line `line` (for the column). */
void px_quote_feed(quote_state *q, span text, span line, long lineno)
{
    static const char open_curly[] = "\xE2\x80\x9C", close_curly[] = "\xE2\x80\x9D";
    size_t i = 0;
    if (q->kind == Q_NOTHING_YET) {
        while (i < text.n && is_space(at(text, i)))
            i++;
        if (i == text.n)
            return;
        q->line = lineno;
        q->column = px_column_at(line, text.p + i);
        if (text.p[i] == '"') {
            q->kind = Q_STRAIGHT;
            q->open = true;
            i++;
        } else if (has_ci_at(text, i, open_curly)) {
            q->kind = Q_CURLY;
            q->open = true;
            q->depth = 1;
            i += 3;
        } else {
            q->kind = Q_UNQUOTED;
            return;
        }
    }
    if (q->kind == Q_STRAIGHT) {
        const char *last = NULL, *end = text.p + text.n;
        for (const char *c = text.p + i; (c = memchr(c, '"', (size_t)(end - c))) != NULL; c++) {
            q->open = !q->open;
            last = c;
        }
        /* Its last quote closes the value unless a letter or digit follows it, as
         * one follows the inner opening quote of `"She called it "the` + newline. */
        unsigned char next = last && last + 1 < end ? (unsigned char)last[1] : ' ';
        q->ended = !q->open && last && !is_alpha(next) && !is_digit(next) && next < 0x80;
    } else if (q->kind == Q_CURLY) {
        bool closed = false;
        for (; i + 3 <= text.n; i++) {
            if (text.p[i] != '\xE2')
                continue;
            if (memcmp(text.p + i, open_curly, 3) == 0) {
                q->depth++;
            } else if (memcmp(text.p + i, close_curly, 3) == 0 && q->depth) {
                q->depth--;
                closed = q->depth == 0;
            }
        }
        q->open = q->depth > 0;
        q->ended = !q->open && closed;
    }
    if (q->ended)
        q->end_line = lineno;
}

/* `Initial: ... | Iteration 1: ... | Iteration 2: ...` -> initial, iterations. */
static void split_iterative(parser *p, ex_scene *sc, span v)
{
    size_t start = 0;
    if (has_ci_at(v, 0, "initial")) {
        size_t i = 7;
        if (has_ci_at(v, skip_blanks(v, i), "prompt"))
            i = skip_blanks(v, i) + 6;
        i = skip_blanks(v, i);
        if (i < v.n && v.p[i] == ':')
            start = i + 1;
    }
    /* An iteration label follows a '|' or starts a line. A blank run is skipped
     * by at most two of these triggers, so the scan stays linear. */
    p->parts.n = 0;
    for (size_t i = 0; i < v.n; i++) {
        size_t j;
        if (v.p[i] == '|') {
            for (j = i + 1; j < v.n && is_space(at(v, j));)
                j++;
        } else if (v.p[i] == '\n' || v.p[i] == '\r') {
            j = skip_blanks(v, i + 1);
        } else if (i == 0) {
            j = 0;
        } else {
            continue;
        }
        if (!has_ci_at(v, j, "iteration"))
            continue;
        size_t k = skip_blanks(v, j + 9);
        if (k == v.n || !is_digit(at(v, k)))
            continue;
        while (k < v.n && is_digit(at(v, k)))
            k++;
        k = skip_blanks(v, k);
        if (k == v.n || v.p[k] != ':')
            continue;
        span *marker = px_vec_push(&p->parts, sizeof *marker);
        if (!marker) {
            p->oom = true;
            return;
        }
        *marker = mkspan(v.p + i, k + 1 - i); /* from the trigger to after the colon */
        i = k;
    }
    span *m = p->parts.items;
    size_t nm = p->parts.n;

    const char *first_end = nm ? m[0].p : v.p + v.n;
    span initial = trim(span_between(v.p + start, first_end));
    while (initial.n && initial.p[initial.n - 1] == '|')
        initial = trim(mkspan(initial.p, initial.n - 1));
    if (!sc->initial_prompt && !px_is_placeholder(initial))
        sc->initial_prompt = px_member_copy(p, initial);

    if (nm == 0 || sc->iterations)
        return;
    char **list = px_alloc(p, nm * sizeof *list);
    if (!list)
        return;
    size_t count = 0;
    for (size_t k = 0; k < nm; k++) {
        const char *from = m[k].p + m[k].n;
        const char *to = k + 1 < nm ? m[k + 1].p : v.p + v.n;
        span text = trim(span_between(from, to));
        while (text.n && text.p[text.n - 1] == '|')
            text = trim(mkspan(text.p, text.n - 1));
        if (text.n)
            list[count++] = px_text_copy(p, text);
    }
    sc->iterations = list;
    sc->n_iterations = count;
}

/* The body of `Image Generation Prompts (2-Step Workflow):` with its
 * `Initial Prompt:` and `Final Prompt (...):` sub-lines. */
static void split_two_step(parser *p, ex_scene *sc, span raw)
{
    const char *initial_at = NULL, *initial_end = NULL;
    const char *final_at = NULL, *final_end = NULL;
    const char **open_end = NULL;
    const char *end = raw.p + raw.n;
    for (const char *line = raw.p; line < end;) {
        const char *eol = line;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        span l = span_between(line, eol);
        size_t i = skip_blanks(l, 0);
        if (i + 1 < l.n && (l.p[i] == '-' || l.p[i] == '*') && is_blank(at(l, i + 1)))
            i = skip_blanks(l, i + 1);
        span label;
        const char *value;
        if (line != raw.p && px_match_label(skip(l, i), &label, &value)) {
            enum field_kind k = px_field_kind(label);
            if (k == F_INITIAL || k == F_FINAL) {
                if (open_end)
                    *open_end = line;
                open_end = NULL;
                if (k == F_INITIAL && !initial_at) {
                    initial_at = value;
                    open_end = &initial_end;
                } else if (k == F_FINAL && !final_at) {
                    final_at = value;
                    open_end = &final_end;
                }
            }
        }
        line = eol;
        if (line < end)
            line += (*line == '\r' && line + 1 < end && line[1] == '\n') ? 2 : 1;
    }
    if (open_end)
        *open_end = end;
    if (!initial_at && !final_at) {
        initial_at = raw.p;
        initial_end = end;
    }
    if (initial_at && !sc->initial_prompt) {
        span v = px_value_of(span_between(initial_at, initial_end));
        if (!px_is_placeholder(v))
            sc->initial_prompt = px_member_copy(p, v);
    }
    if (final_at && !sc->final_prompt) {
        span v = px_value_of(span_between(final_at, final_end));
        if (!px_is_placeholder(v))
            sc->final_prompt = px_member_copy(p, v);
    }
}

void px_close_field(parser *p)
{
    if (!p->field_open)
        return;
    p->field_open = false;
    if (quote_open(&p->field_quote) || p->field_after.line) {
        char *label = px_text_copy(p, p->field.label);
        size_t n = label ? strlen(label) + 16 : 0;
        char *what = n ? px_alloc(p, n) : NULL;
        if (what) {
            snprintf(what, n, "the %s value", label);
            px_warn_unclosed(p, &p->field_quote, what,
                             "the value ends at the first label or scene header after a "
                             "blank line");
            px_warn_after(p, &p->field_after, &p->field_quote, what,
                          "put it inside the quotes, or under a label of its own");
        }
    }
    pending_field *f = px_vec_push(&p->fields, sizeof *f);
    if (!f) {
        p->oom = true;
        return;
    }
    *f = p->field;
}

/* A Narration that says there is none: the scene is silent, and the line that
 * says so is remembered for the NARRATION SCRIPT's warning (parse_script.c). */
static void silence(parser *p, ex_scene *sc, long line)
{
    if (sc->no_narration)
        return; /* NO NARRATION in its header already says so */
    sc->no_narration = true;
    silenced_scene *s = px_vec_push(&p->silenced, sizeof *s);
    if (!s) {
        p->oom = true;
        return;
    }
    s->scene = p->scenes.n - 1;
    s->line = line;
}

/* The scene block has ended: turn its pending fields into strings and members. */
void px_finish_scene(parser *p)
{
    px_close_field(p);
    ex_scene *sc = current_scene(p);
    pending_field *pf = p->fields.items;
    size_t n = p->fields.n;
    long narration_line = 0;
    if (n) {
        sc->fields = px_alloc(p, n * sizeof *sc->fields);
        if (!sc->fields)
            return;
        sc->n_fields = n;
    }
    for (size_t i = 0; i < n && !p->oom; i++) {
        span raw = span_between(pf[i].value_start, pf[i].value_end);
        span v = px_value_of(raw);
        ex_field *f = &sc->fields[i];
        f->label = px_text_copy(p, pf[i].label);
        f->value = px_text_copy(p, v);
        if (!f->label || !f->value)
            return;
        switch (pf[i].kind) {
        case F_NARRATION:
            if (narration_line)
                break;
            narration_line = pf[i].line;
            if (px_is_silence(raw))
                silence(p, sc, narration_line);
            else
                sc->narration = v.n ? f->value : NULL;
            break;
        case F_LAYOUT:
            if (!sc->layout && v.n)
                sc->layout = f->value;
            break;
        case F_NANO_BANANA:
            if (!sc->prompt && v.n) {
                sc->prompt = f->value;
                split_iterative(p, sc, v);
            }
            break;
        case F_TWO_STEP:
            if (!sc->prompt && v.n) {
                sc->prompt = f->value;
                split_two_step(p, sc, raw);
            }
            break;
        case F_INITIAL:
            if (!sc->initial_prompt && v.n && !px_is_placeholder(v))
                sc->initial_prompt = f->value;
            break;
        case F_FINAL:
            if (!sc->final_prompt && v.n && !px_is_placeholder(v))
                sc->final_prompt = f->value;
            break;
        case F_ANIMATION:
            if (!sc->animation_prompt && v.n)
                sc->animation_prompt = f->value;
            break;
        case F_OTHER:
            break;
        }
    }
    p->fields.n = 0;
    if (sc->no_narration && sc->narration) {
        px_warn(p, narration_line, 1, EX_RULE_NO_NARRATION,
                "scene %ld is marked NO NARRATION but has a Narration; it is ignored",
                sc->number);
        sc->narration = NULL;
    }
}

/* `**Scene 2: Title**`, `Scene 2 — Title`, `SCENE 2: Title`: a line written as a scene
 * header of another form than a heading (headings end every field anyway). */
static bool scene_header_line(span line)
{
    scene_head h;
    if (!line.n || (line.p[0] != '*' && lower(at(line, 0)) != 's'))
        return false;
    return px_other_header(line, &h) != HEADER_NONE || px_bare_scene_header(line);
}

void px_scene_line(parser *p, span line, long lineno)
{
    if (px_is_separator(line) || px_heading_level(line)) {
        px_close_field(p);
        return;
    }
    span label;
    const char *value;
    bool blank = trim(line).n == 0;
    if (p->field_open && !blank &&
        (quote_open(&p->field_quote) && !p->field_blank_after)) {
        /* "Stored program: that idea..." inside a quote still open is its text. */
        p->field.value_end = line.p + line.n;
        px_quote_feed(&p->field_quote, line, line, lineno);
        return;
    }
    if (px_match_label(line, &label, &value)) {
        if (p->field_open && is_sub_label(p->field.kind, label)) {
            if (p->field_quote.ended) {
                note_after(&p->field_after, line, lineno);
                return;
            }
            p->field.value_end = line.p + line.n;
            p->field_blank_after = false;
            px_quote_feed(&p->field_quote, line, line, lineno);
            return;
        }
        px_close_field(p);
        p->field_open = true;
        p->field.label = label;
        p->field.value_start = value;
        p->field.value_end = line.p + line.n;
        p->field.line = lineno;
        p->field.kind = px_field_kind(label);
        p->field_blank_after = false;
        memset(&p->field_quote, 0, sizeof p->field_quote);
        memset(&p->field_after, 0, sizeof p->field_after);
        px_quote_feed(&p->field_quote, span_between(value, line.p + line.n), line, lineno);
        return;
    }
    if (!p->field_open)
        return;
    if (blank) {
        p->field_blank_after = true;
        return;
    }
    if (p->field.kind == F_NARRATION && scene_header_line(line)) {
        /* A scene's narration never runs into the next scene's header, read as a
         * scene or not (that one has its own warning). */
        px_close_field(p);
        return;
    }
    if (p->field_quote.ended) {
        note_after(&p->field_after, line, lineno); /* not part of the value */
        return;
    }
    p->field.value_end = line.p + line.n;
    p->field_blank_after = false;
    px_quote_feed(&p->field_quote, line, line, lineno);
}
