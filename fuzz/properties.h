/*
 * properties.h -- what must hold for every document the parser returns, whatever
 * the input. Shared by the fuzzer (fuzz/fuzz_parse.c) and the regression test over
 * the seed corpus and past crashes (tests/c/test_corpus.c).
 *
 * ex_check_properties(text, len, doc) returns NULL when every property holds, else
 * a static message naming the first one that does not:
 *
 *  1. Every string is valid UTF-8 without CR (NUL cannot occur: they are C strings).
 *     The JSON writer and the Lua binding rely on it.
 *  2. Every scene's `line` is a line of the input in one form for all the scenes of
 *     a document: each starts with exactly "##" and holds the word "scene" (any
 *     case), or, in a script without those, each is of one other family of scene
 *     headers: "scene" and a digit at column 0 (after an optional "**"), "## part"
 *     and a digit, or "##" and a digit. Scene lines strictly increase. Warning lines
 *     lie within the input and are sorted.
 *  3. total_duration is the sum of the scene durations when the header has none.
 *  4. Round trip: the document rendered back to canonical explainer text (one
 *     "## SCENE n: title (d seconds)[ - NO NARRATION]" header per scene and, where
 *     it can be written unambiguously — no later line that opens a field and no
 *     quote that closes the value before its end — a quoted Narration line) parses to
 *     the same scene numbers, titles, durations, no_narration flags and narrations.
 *  5. Line ends do not matter: when the input has no CR, the same text with every
 *     LF turned into CRLF parses to an identical document.
 *  6. Encodings do not matter: UTF-16 with a byte-order mark parses to the same
 *     document as its UTF-8 decoding (and properties 2-5 hold for that text).
 *  7. Nothing that looks like a scene header is dropped silently: every line that
 *     starts with exactly "##" and then (blanks, an optional "**") the word SCENE, a blank and a
 *     digit is a scene's line or carries a warning. Every warning has a rule and a
 *     column of at least 1.
 *  8. Nor is a scene of another family followed by its narration (issue 17): in a
 *     text without quotes (no '"', no U+201C) and without the word "script" (so no
 *     value is open and there is no NARRATION SCRIPT section), every line that
 *     starts "Scene N: ", "**Scene N: ", "## Part N: " or "## N. " (N of 1 to 9
 *     digits) and whose next line starts "Narration: " is a scene's line or carries
 *     a warning.
 *
 * Reading outside the input is not checked here: the fuzzer hands the parser an
 * exactly sized heap block, so AddressSanitizer reports any such read.
 */
#ifndef EXPLAINER_FUZZ_PROPERTIES_H
#define EXPLAINER_FUZZ_PROPERTIES_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ------------------------------------------------------------------ buffer */

typedef struct prop_buf {
    char *p;
    size_t n, cap;
} prop_buf;

static void prop_put(prop_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void prop_puts(prop_buf *b, const char *s) { prop_put(b, s, strlen(s)); }

/* ----------------------------------------------------------------- strings */

static bool prop_valid_text(const char *s)
{
    if (!s)
        return true;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                                 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (len == 0 || c == '\r')
            return false;
        for (size_t i = 1; i < len; i++)
            if ((u[i] & 0xC0) != 0x80)
                return false;
        if ((c == 0xE0 && u[1] < 0xA0) || (c == 0xF0 && u[1] < 0x90) ||
            (c == 0xED && u[1] > 0x9F) || (c == 0xF4 && u[1] > 0x8F))
            return false;
        u += len;
    }
    return true;
}

static bool prop_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *prop_check_strings(const ex_document *doc)
{
    const char *top[] = {doc->name, doc->path, doc->title, doc->style, doc->format,
                         doc->audience};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        if (!prop_valid_text(top[i]))
            return "a document string is not clean UTF-8";
    for (size_t i = 0; i < doc->n_scenes; i++) {
        const ex_scene *s = &doc->scenes[i];
        const char *str[] = {s->narration, s->layout, s->initial_prompt, s->final_prompt,
                             s->animation_prompt, s->prompt};
        if (!s->title)
            return "a scene has no title";
        if (!prop_valid_text(s->title))
            return "a scene title is not clean UTF-8";
        for (size_t k = 0; k < sizeof str / sizeof *str; k++)
            if (!prop_valid_text(str[k]))
                return "a scene string is not clean UTF-8";
        if (s->n_iterations && !s->iterations)
            return "n_iterations without iterations";
        for (size_t k = 0; k < s->n_iterations; k++)
            if (!s->iterations[k] || !prop_valid_text(s->iterations[k]))
                return "an iteration is missing or not clean UTF-8";
        if (s->n_fields && !s->fields)
            return "n_fields without fields";
        for (size_t k = 0; k < s->n_fields; k++) {
            if (!s->fields[k].label || !s->fields[k].value)
                return "a field without label or value";
            if (!prop_valid_text(s->fields[k].label) || !prop_valid_text(s->fields[k].value))
                return "a field is not clean UTF-8";
        }
        if (s->no_narration && s->narration)
            return "a NO NARRATION scene has narration";
        if (!(s->duration >= 0) || !isfinite(s->duration))
            return "a scene duration is negative or not finite";
    }
    for (size_t i = 0; i < doc->n_warnings; i++)
        if (!doc->warnings[i].message || !prop_valid_text(doc->warnings[i].message))
            return "a warning message is missing or not clean UTF-8";
    return NULL;
}

/* ------------------------------------------------------------------- lines */

/* Offsets of the line starts, split as the parser does (LF, CRLF or CR; a BOM
 * skipped). Returns the number of lines; *starts is malloc'd. */
static size_t prop_lines(const char *text, size_t len, size_t **starts)
{
    size_t cap = 64, n = 0, i = 0;
    size_t *v = malloc(cap * sizeof *v);
    if (!v)
        abort();
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len) {
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            if (!v)
                abort();
        }
        v[n++] = i;
        while (i < len && text[i] != '\n' && text[i] != '\r')
            i++;
        if (i < len)
            i += (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
    }
    *starts = v;
    return n;
}

static bool prop_holds_scene(const char *p, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++) {
        size_t k = 0;
        while (k < 5 && (p[i + k] | 32) == "scene"[k])
            k++;
        if (k == 5)
            return true;
    }
    return false;
}

/* The forms a scene's line may take (property 2), as bits. */
enum { PROP_HASH_SCENE = 1, PROP_COL0_SCENE = 2, PROP_PART = 4, PROP_NUMBERED = 8 };

static bool prop_digit(const char *p, size_t n, size_t i) { return i < n && p[i] >= '0' && p[i] <= '9'; }

/* Does p[i..] start with `word` (lower case), ASCII letters in any case? */
static bool prop_word_at(const char *p, size_t n, size_t i, const char *word)
{
    size_t k = 0;
    for (; word[k] && i + k < n; k++) {
        char c = p[i + k];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[k])
            break;
    }
    return !word[k];
}

static unsigned prop_header_forms(const char *p, size_t n)
{
    unsigned forms = 0;
    bool two_hashes = n >= 3 && p[0] == '#' && p[1] == '#' && p[2] != '#';
    if (two_hashes && prop_holds_scene(p, n))
        forms |= PROP_HASH_SCENE;
    size_t i = n > 2 && p[0] == '*' && p[1] == '*' ? 2 : 0;
    if (prop_word_at(p, n, i, "scene") && i + 5 < n && (p[i + 5] == ' ' || p[i + 5] == '\t')) {
        i += 5;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (prop_digit(p, n, i))
            forms |= PROP_COL0_SCENE;
    }
    if (two_hashes) {
        i = 2;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '*'))
            i++;
        if (prop_digit(p, n, i))
            forms |= PROP_NUMBERED;
        if (prop_word_at(p, n, i, "part")) {
            i += 4;
            while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (prop_digit(p, n, i))
                forms |= PROP_PART;
        }
    }
    return forms;
}

static const char *prop_check_lines(const char *text, size_t len, const ex_document *doc)
{
    size_t *starts;
    size_t n = prop_lines(text, len, &starts);
    const char *bad = NULL;
    long prev = 0;
    unsigned forms = PROP_HASH_SCENE | PROP_COL0_SCENE | PROP_PART | PROP_NUMBERED;
    for (size_t i = 0; i < doc->n_scenes && !bad; i++) {
        long line = doc->scenes[i].line;
        if (line <= prev || line < 1 || (size_t)line > n) {
            bad = "a scene line is out of range or out of order";
            break;
        }
        prev = line;
        size_t from = starts[line - 1], to = from;
        while (to < len && text[to] != '\n' && text[to] != '\r')
            to++;
        forms &= prop_header_forms(text + from, to - from);
        if (!forms)
            bad = "a scene line is no scene header, or not of the form of the others";
    }
    long last = 0;
    for (size_t i = 0; i < doc->n_warnings && !bad; i++) {
        long line = doc->warnings[i].line;
        if (line < last || line < 0 || (size_t)line > (n ? n : 1))
            bad = "a warning line is out of range or out of order";
        last = line;
    }
    free(starts);
    return bad;
}

/* -------------------------------------------------------------- round trip */

/* Would `"` + s + `"` end before its last line (docs/format.md)? A value ends with the
 * line where its quotes balance when a letter or digit does not follow its last quote. */
static bool prop_quote_ends_early(const char *s)
{
    size_t quotes = 1; /* the opening one */
    for (const char *l = s, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
        const char *last = NULL;
        for (const char *c = l; c < nl; c++)
            if (*c == '"') {
                quotes++;
                last = c;
            }
        unsigned char next = last ? (unsigned char)last[1] : 'a';
        bool word = (next | 32) >= 'a' && (next | 32) <= 'z';
        if (last && quotes % 2 == 0 && !word && !(next >= '0' && next <= '9') && next < 0x80)
            return true;
    }
    return false;
}

/* Can the narration be written as `Narration: "..."` and read back the same? Its
 * later lines must not open a field (a letter, `*` for a bold or italic label), end
 * the block or be a separator, and its quote must not close before its end. */
static bool prop_writable_narration(const char *s)
{
    if (prop_quote_ends_early(s))
        return false;
    for (const char *nl = strchr(s, '\n'); nl; nl = strchr(nl + 1, '\n')) {
        const unsigned char *l = (const unsigned char *)nl + 1;
        if (*l == '#' || *l == '*' || *l >= 0x80 || ((*l | 32) >= 'a' && (*l | 32) <= 'z'))
            return false;
        const unsigned char *e = l;
        while (*e && *e != '\n')
            e++;
        while (e > l && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\f' || e[-1] == '\v'))
            e--;
        const unsigned char *b = l;
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\f' || *b == '\v'))
            b++;
        bool dashes = e - b >= 3;
        for (const unsigned char *q = b; q < e && dashes; q++)
            dashes = *q == '-';
        if (dashes)
            return false;
    }
    return true;
}

static bool prop_near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static const char *prop_check_round_trip(const ex_document *doc)
{
    prop_buf b = {0};
    bool *compare_narration = calloc(doc->n_scenes + 1, sizeof *compare_narration);
    if (!compare_narration)
        abort();
    prop_puts(&b, "");
    for (size_t i = 0; i < doc->n_scenes; i++) {
        const ex_scene *s = &doc->scenes[i];
        char head[128];
        snprintf(head, sizeof head, "## SCENE %ld: ", s->number);
        prop_puts(&b, head);
        prop_puts(&b, s->title);
        /* Fixed notation: the parser reads digits and a fraction, no exponent. */
        snprintf(head, sizeof head, " (%.20f seconds)%s\n", s->duration,
                 s->no_narration ? " - NO NARRATION" : "");
        prop_puts(&b, head);
        if (s->narration && prop_writable_narration(s->narration)) {
            compare_narration[i] = true;
            prop_puts(&b, "Narration: \"");
            prop_puts(&b, s->narration);
            prop_puts(&b, "\"\n");
        }
    }
    ex_document *again = ex_parse(b.p, b.n, "roundtrip", NULL);
    if (!again)
        abort();
    const char *bad = NULL;
    if (again->n_scenes != doc->n_scenes)
        bad = "round trip: the scene count differs";
    for (size_t i = 0; i < doc->n_scenes && !bad; i++) {
        const ex_scene *x = &doc->scenes[i], *y = &again->scenes[i];
        if (x->number != y->number)
            bad = "round trip: a scene number differs";
        else if (!prop_same(x->title, y->title))
            bad = "round trip: a scene title differs";
        else if (!prop_near(x->duration, y->duration))
            bad = "round trip: a scene duration differs";
        else if (x->no_narration != y->no_narration)
            bad = "round trip: a no_narration flag differs";
        else if (compare_narration[i] && !prop_same(x->narration, y->narration))
            bad = "round trip: a narration differs";
        else if (!x->narration && y->narration)
            bad = "round trip: a narration appeared";
    }
    if (bad && getenv("EXPLAINER_PROPERTY_VERBOSE"))
        fprintf(stderr, "--- canonical text:\n%s---\n", b.p);
    ex_document_free(again);
    free(compare_narration);
    free(b.p);
    return bad;
}

/* ------------------------------------------------------------- line ends */

static bool prop_same_scene(const ex_scene *x, const ex_scene *y)
{
    if (x->number != y->number || x->line != y->line || x->duration != y->duration ||
        x->no_narration != y->no_narration || x->n_iterations != y->n_iterations ||
        x->n_fields != y->n_fields)
        return false;
    if (!prop_same(x->title, y->title) || !prop_same(x->narration, y->narration) ||
        !prop_same(x->layout, y->layout) || !prop_same(x->initial_prompt, y->initial_prompt) ||
        !prop_same(x->final_prompt, y->final_prompt) ||
        !prop_same(x->animation_prompt, y->animation_prompt) || !prop_same(x->prompt, y->prompt))
        return false;
    for (size_t k = 0; k < x->n_iterations; k++)
        if (!prop_same(x->iterations[k], y->iterations[k]))
            return false;
    for (size_t k = 0; k < x->n_fields; k++)
        if (!prop_same(x->fields[k].label, y->fields[k].label) ||
            !prop_same(x->fields[k].value, y->fields[k].value))
            return false;
    return true;
}

/* Same values everywhere (name and path aside). */
static bool prop_same_document(const ex_document *a, const ex_document *b)
{
    if (a->n_scenes != b->n_scenes || a->n_warnings != b->n_warnings ||
        a->declared_scenes != b->declared_scenes || a->total_duration != b->total_duration ||
        !prop_same(a->title, b->title) || !prop_same(a->style, b->style) ||
        !prop_same(a->format, b->format) || !prop_same(a->audience, b->audience))
        return false;
    for (size_t i = 0; i < a->n_scenes; i++)
        if (!prop_same_scene(&a->scenes[i], &b->scenes[i]))
            return false;
    for (size_t i = 0; i < a->n_warnings; i++)
        if (a->warnings[i].line != b->warnings[i].line ||
            a->warnings[i].column != b->warnings[i].column ||
            !prop_same(a->warnings[i].rule, b->warnings[i].rule) ||
            !prop_same(a->warnings[i].message, b->warnings[i].message))
            return false;
    return true;
}

static const char *prop_check_crlf(const char *text, size_t len, const ex_document *doc)
{
    if (memchr(text, '\r', len))
        return NULL;
    prop_buf b = {0};
    prop_puts(&b, "");
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t stop = nl ? (size_t)(nl - text) : len;
        prop_put(&b, text + i, stop - i);
        if (nl)
            prop_put(&b, "\r\n", 2);
        i = stop + 1;
    }
    ex_document *crlf = ex_parse(b.p, b.n, doc->name, doc->path);
    if (!crlf)
        abort();
    const char *bad = NULL;
    if (crlf->n_scenes != doc->n_scenes || crlf->n_warnings != doc->n_warnings ||
        crlf->declared_scenes != doc->declared_scenes ||
        crlf->total_duration != doc->total_duration || !prop_same(crlf->title, doc->title) ||
        !prop_same(crlf->style, doc->style) || !prop_same(crlf->format, doc->format) ||
        !prop_same(crlf->audience, doc->audience))
        bad = "CRLF: the document differs";
    for (size_t i = 0; i < doc->n_scenes && !bad; i++)
        if (!prop_same_scene(&doc->scenes[i], &crlf->scenes[i]))
            bad = "CRLF: a scene differs";
    for (size_t i = 0; i < doc->n_warnings && !bad; i++)
        if (crlf->warnings[i].line != doc->warnings[i].line ||
            crlf->warnings[i].column != doc->warnings[i].column ||
            !prop_same(crlf->warnings[i].message, doc->warnings[i].message))
            bad = "CRLF: a warning differs";
    ex_document_free(crlf);
    free(b.p);
    return bad;
}

/* --------------------------------------------------------- scene headers */

/* "##", blanks, an optional "**", blanks, "scene" (any case), a blank, a digit. */
static bool prop_scene_header_attempt(const char *p, size_t n)
{
    if (n < 3 || p[0] != '#' || p[1] != '#' || p[2] == '#')
        return false;
    size_t i = 2;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i + 1 < n && p[i] == '*' && p[i + 1] == '*')
        i += 2;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (n - i < 7)
        return false;
    for (size_t k = 0; k < 5; k++)
        if ((p[i + k] | 32) != "scene"[k])
            return false;
    i += 5;
    if (p[i] != ' ' && p[i] != '\t')
        return false;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < n && p[i] >= '0' && p[i] <= '9';
}

static const char *prop_check_headers(const char *text, size_t len, const ex_document *doc)
{
    for (size_t i = 0; i < doc->n_warnings; i++)
        if (!doc->warnings[i].rule || doc->warnings[i].column < 1)
            return "a warning without a rule or a column";
    size_t *starts;
    size_t n = prop_lines(text, len, &starts);
    size_t scene = 0, warning = 0;
    const char *bad = NULL;
    for (size_t line = 1; line <= n && !bad; line++) {
        size_t from = starts[line - 1], to = from;
        while (to < len && text[to] != '\n' && text[to] != '\r')
            to++;
        if (!prop_scene_header_attempt(text + from, to - from))
            continue;
        while (scene < doc->n_scenes && doc->scenes[scene].line < (long)line)
            scene++;
        while (warning < doc->n_warnings && doc->warnings[warning].line < (long)line)
            warning++;
        bool seen = (scene < doc->n_scenes && doc->scenes[scene].line == (long)line) ||
                    (warning < doc->n_warnings && doc->warnings[warning].line == (long)line);
        if (!seen)
            bad = "a '## SCENE n' line is neither a scene nor a warning";
    }
    free(starts);
    return bad;
}

/* -------------------------------------------------- other header families */

/* "Scene N: ", "**Scene N: ", "## Part N: ", "## N. " at the start of a line (N of
 * 1 to 9 digits), as property 8 reads them. */
static bool prop_other_header(const char *p, size_t n)
{
    static const char *const heads[] = {"scene ", "**scene ", "## part ", "## "};
    for (size_t h = 0; h < 4; h++) {
        size_t k = strlen(heads[h]);
        if (!prop_word_at(p, n, 0, heads[h]))
            continue;
        size_t digits = 0;
        while (prop_digit(p, n, k + digits))
            digits++;
        if (digits < 1 || digits > 9)
            continue;
        const char *after = h == 3 ? ". " : ": ";
        if (k + digits + 2 <= n && memcmp(p + k + digits, after, 2) == 0)
            return true;
    }
    return false;
}

static bool prop_has_word(const char *text, size_t len, const char *word)
{
    for (size_t i = 0; i < len; i++)
        if (prop_word_at(text, len, i, word))
            return true;
    return false;
}

static const char *prop_check_other_headers(const char *text, size_t len, const ex_document *doc)
{
    if (memchr(text, '"', len) || prop_has_word(text, len, "script"))
        return NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (memcmp(text + i, "\xE2\x80\x9C", 3) == 0)
            return NULL;
    size_t *starts;
    size_t n = prop_lines(text, len, &starts);
    const char *bad = NULL;
    for (size_t line = 1; line < n && !bad; line++) {
        size_t from = starts[line - 1], to = from, next = starts[line];
        while (to < len && text[to] != '\n' && text[to] != '\r')
            to++;
        if (!prop_other_header(text + from, to - from) ||
            !prop_word_at(text, len, next, "narration: "))
            continue;
        bool seen = false;
        for (size_t k = 0; k < doc->n_scenes && !seen; k++)
            seen = doc->scenes[k].line == (long)line;
        for (size_t k = 0; k < doc->n_warnings && !seen; k++)
            seen = doc->warnings[k].line == (long)line;
        if (!seen)
            bad = "a scene-like line followed by a Narration is neither a scene nor a warning";
    }
    free(starts);
    return bad;
}

/* ------------------------------------------------------------------- all */

static const char *ex_check_properties(const char *text, size_t len, const ex_document *doc)
{
    char *decoded = NULL;
    size_t decoded_len = 0;
    int utf16 = ex_utf16_to_utf8(text, len, &decoded, &decoded_len);
    if (utf16 < 0)
        abort();
    if (utf16 > 0) {
        ex_document *plain = ex_parse(decoded, decoded_len, doc->name, doc->path);
        if (!plain)
            abort();
        bool same = prop_same_document(doc, plain);
        ex_document_free(plain);
        if (!same) {
            free(decoded);
            return "UTF-16: the document differs from its UTF-8 decoding's";
        }
        text = decoded;
        len = decoded_len;
    }
    const char *bad = prop_check_strings(doc);
    if (!bad)
        bad = prop_check_lines(text, len, doc);
    if (!bad)
        bad = prop_check_headers(text, len, doc);
    if (!bad)
        bad = prop_check_other_headers(text, len, doc);
    if (!bad && !doc->total_duration_declared) {
        double sum = 0;
        for (size_t i = 0; i < doc->n_scenes; i++)
            sum += doc->scenes[i].duration;
        if (!prop_near(sum, doc->total_duration))
            bad = "total_duration is not the sum of the scene durations";
    }
    if (!bad)
        bad = prop_check_round_trip(doc);
    if (!bad)
        bad = prop_check_crlf(text, len, doc);
    free(decoded);
    return bad;
}

#endif
