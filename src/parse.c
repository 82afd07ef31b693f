/*
 * parse.c -- explainer script text -> document (the format is described in
 * docs/format.md).
 *
 * One pass over the lines. A line is classified by its first bytes; a field is
 * remembered as a span of the source text and turned into strings when its scene
 * block ends. Every byte is therefore looked at a bounded number of times, which
 * keeps the parser linear whatever the input (a 1 MB line, 10,000 scenes).
 *
 * Every string of a document lives in one arena that the document owns; the scene
 * and warning arrays are two more blocks. ex_document_free releases all three.
 *
 * Every string handed out is valid UTF-8 without NUL or CR bytes: line ends become
 * "\n", and a NUL or a byte that is not part of valid UTF-8 becomes U+FFFD. That
 * way binary junk in a script cannot truncate a value or break a JSON writer.
 */
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest label accepted in `Label: value`; longer "labels" are prose with a colon. */
#define MAX_LABEL 100
/* ex_parse_file refuses bigger inputs rather than exhausting memory (/dev/zero). */
#define MAX_FILE_BYTES ((size_t)256 << 20)
/* Bytes of an offending line quoted in a warning. */
#define EXCERPT_BYTES 60
/* A scene longer than this (10 minutes) is a warning: a typo, most likely. */
#define MAX_PLAUSIBLE_SECONDS 600.0

/* ---------------------------------------------------------------- allocation */

static long fail_alloc_countdown = -1;

void ex_parse_fail_alloc_after(long n) { fail_alloc_countdown = n; }

static bool may_allocate(void)
{
    if (fail_alloc_countdown < 0)
        return true;
    if (fail_alloc_countdown == 0)
        return false;
    fail_alloc_countdown--;
    return true;
}

static void *xmalloc(size_t n) { return may_allocate() ? malloc(n ? n : 1) : NULL; }

static void *xrealloc(void *p, size_t n)
{
    return may_allocate() ? realloc(p, n ? n : 1) : NULL;
}

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} chunk;

typedef struct arena {
    chunk *head;
} arena;

#define ARENA_CHUNK ((size_t)64 * 1024)

static void *arena_alloc(arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    if (n > SIZE_MAX - sizeof(chunk) - align)
        return NULL;
    size_t need = (n + align - 1) & ~(align - 1);
    chunk *c = a->head;
    if (c && c->cap - c->used >= need) {
        void *p = c->data + c->used;
        c->used += need;
        return p;
    }
    if (need > ARENA_CHUNK / 4) {
        /* A big block gets a chunk of its own, kept behind the current one so
         * that the room left there is still used. */
        chunk *big = xmalloc(sizeof *big + need);
        if (!big)
            return NULL;
        big->used = big->cap = need;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            big->next = NULL;
            a->head = big;
        }
        return big->data;
    }
    chunk *fresh = xmalloc(sizeof *fresh + ARENA_CHUNK);
    if (!fresh)
        return NULL;
    fresh->next = c;
    fresh->cap = ARENA_CHUNK;
    fresh->used = need;
    a->head = fresh;
    return fresh->data;
}

static void arena_free(arena *a)
{
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

/* A growable array of fixed-size items (malloc'd, doubling). */
typedef struct vec {
    void *items;
    size_t n, cap;
} vec;

static void *vec_push(vec *v, size_t size)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        if (cap > SIZE_MAX / size)
            return NULL;
        void *items = xrealloc(v->items, cap * size);
        if (!items)
            return NULL;
        v->items = items;
        v->cap = cap;
    }
    void *slot = (char *)v->items + v->n * size;
    memset(slot, 0, size);
    v->n++;
    return slot;
}

/* A document is allocated together with the arena that holds its strings. Only
 * ex_parse creates documents, so ex_document_free can find the arena again. */
typedef struct doc_box {
    ex_document doc; /* first: a document pointer is a box pointer */
    arena strings;
} doc_box;

/* ------------------------------------------------------------ text helpers */

typedef struct span {
    const char *p;
    size_t n;
} span;

static span mkspan(const char *p, size_t n)
{
    span s = {p, n};
    return s;
}

static span span_between(const char *from, const char *to)
{
    return mkspan(from, (size_t)(to - from));
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
static bool is_blank(unsigned char c) { return c == ' ' || c == '\t'; }
/* Printable ASCII (no line end: the UTF-16 guess must not depend on line ends). */
static bool printable(char c) { return c >= 0x20 && c < 0x7F; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}
static unsigned char at(span s, size_t i) { return (unsigned char)s.p[i]; }

static span trim(span s)
{
    while (s.n && is_space(at(s, 0))) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(at(s, s.n - 1)))
        s.n--;
    return s;
}

static span skip(span s, size_t k)
{
    return mkspan(s.p + k, s.n - k);
}

static size_t skip_blanks(span s, size_t i)
{
    while (i < s.n && is_blank(at(s, i)))
        i++;
    return i;
}

/* Does s at offset i start with the lowercase ASCII literal, ignoring case? */
static bool has_ci_at(span s, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    if (i > s.n || s.n - i < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (lower(at(s, i + k)) != (unsigned char)lit[k])
            return false;
    return true;
}

static bool eq_ci(span s, const char *lit) { return s.n == strlen(lit) && has_ci_at(s, 0, lit); }

static bool ends_ci(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && has_ci_at(s, s.n - n, lit);
}

/* Strip markdown bold markers from the ends of an already trimmed span. */
static span strip_bold_end(span s)
{
    while (s.n >= 2 && s.p[s.n - 1] == '*' && s.p[s.n - 2] == '*')
        s = trim(mkspan(s.p, s.n - 2));
    return s;
}

static span strip_bold_start(span s)
{
    while (s.n >= 2 && s.p[0] == '*' && s.p[1] == '*')
        s = trim(skip(s, 2));
    return s;
}

static span strip_bold(span s) { return strip_bold_start(strip_bold_end(trim(s))); }

/* If s ends with dashes (ASCII hyphens, en or em dashes: "-", "--", "—"), remove them. */
static bool strip_dash_end(span *s)
{
    size_t n = s->n;
    for (;;) {
        if (s->n >= 1 && s->p[s->n - 1] == '-')
            s->n -= 1;
        else if (ends_ci(*s, "\xE2\x80\x93") || ends_ci(*s, "\xE2\x80\x94"))
            s->n -= 3;
        else
            return s->n < n;
    }
}

/*
 * A decimal number at s[*i]: digits with an optional fraction. Parsed by hand so
 * that the locale's decimal separator never matters. Returns false when there is
 * no digit at *i or the value is not finite.
 */
static bool parse_number(span s, size_t *i, double *out)
{
    size_t k = *i;
    if (k >= s.n || !is_digit(at(s, k)))
        return false;
    double v = 0;
    while (k < s.n && is_digit(at(s, k)))
        v = v * 10 + (at(s, k++) - '0');
    if (k + 1 < s.n && s.p[k] == '.' && is_digit(at(s, k + 1))) {
        double scale = 0.1;
        for (k++; k < s.n && is_digit(at(s, k)); k++) {
            v += (at(s, k) - '0') * scale;
            scale /= 10;
        }
    }
    if (!isfinite(v))
        return false;
    *i = k;
    *out = v;
    return true;
}

/* A non-negative integer at s[*i] that fits in a long; *overflow tells why not. */
static bool parse_long(span s, size_t *i, long *out, bool *overflow)
{
    size_t k = *i;
    long v = 0;
    *overflow = false;
    if (k >= s.n || !is_digit(at(s, k)))
        return false;
    for (; k < s.n && is_digit(at(s, k)); k++) {
        int d = at(s, k) - '0';
        if (v > (LONG_MAX - d) / 10)
            *overflow = true;
        else
            v = v * 10 + d;
    }
    *i = k;
    *out = v;
    return !*overflow;
}

/* Length of the dash (ASCII hyphen, en dash, em dash) at s[i]; 0 when none. */
static size_t dash_at(span s, size_t i)
{
    if (i < s.n && s.p[i] == '-')
        return 1;
    if (has_ci_at(s, i, "\xE2\x80\x93") || has_ci_at(s, i, "\xE2\x80\x94"))
        return 3;
    return 0;
}

/* Length of the run of dashes at s[i] ("-", "--", "—", "-–"); 0 when none. */
static size_t dash_run(span s, size_t i)
{
    size_t k = i, d;
    while ((d = dash_at(s, k)) != 0)
        k += d;
    return k - i;
}

/* Seconds in one unit named by the word w; 0 when w names no time unit. Single
 * letters count only right after a number (see read_term). */
static double unit_scale(span w)
{
    static const char *const secs[] = {"s", "sec", "secs", "second", "seconds"};
    static const char *const mins[] = {"m", "min", "mins", "minute", "minutes"};
    static const char *const hours[] = {"h", "hr", "hrs", "hour", "hours"};
    for (size_t k = 0; k < 5; k++) {
        if (eq_ci(w, secs[k]))
            return 1;
        if (eq_ci(w, mins[k]))
            return 60;
        if (eq_ci(w, hours[k]))
            return 3600;
    }
    return 0;
}

/* A time unit at s[*i] (a word, then an optional '.'): its seconds, 0 when none. */
static double read_unit(span s, size_t *i)
{
    size_t k = *i;
    while (k < s.n && is_alpha(at(s, k)))
        k++;
    double scale = unit_scale(span_between(s.p + *i, s.p + k));
    if (scale == 0)
        return 0;
    if (k < s.n && s.p[k] == '.')
        k++;
    *i = k;
    return scale;
}

/*
 * One term of a duration at s[*i]: "6", "7.5 seconds", "6s", "1 min", or a clock
 * "0:08" (m:ss), "1:02:03" (h:mm:ss). *has_unit tells whether it named a unit (a
 * clock does).
 */
static bool read_term(span s, size_t *i, double *out, bool *has_unit)
{
    size_t k = *i;
    double v;
    if (!parse_number(s, &k, &v))
        return false;
    if (k + 1 < s.n && s.p[k] == ':' && is_digit(at(s, k + 1))) {
        double part[3] = {v, 0, 0};
        int n = 1;
        while (n < 3 && k + 1 < s.n && s.p[k] == ':' && is_digit(at(s, k + 1))) {
            k++;
            if (!parse_number(s, &k, &part[n]))
                return false;
            n++;
        }
        v = n == 2 ? part[0] * 60 + part[1] : part[0] * 3600 + part[1] * 60 + part[2];
        *has_unit = true;
    } else {
        size_t u = skip_blanks(s, k);
        double scale = read_unit(s, &u);
        *has_unit = scale != 0;
        if (scale != 0) {
            v *= scale;
            k = u;
        }
    }
    *i = k;
    *out = v;
    return true;
}

/*
 * A duration at s[*i], in seconds: terms that add up ("4 minutes 30 seconds",
 * "1m30s"), or a range whose upper bound counts ("6-8 seconds", "6 to 8 s"). A
 * number without a unit is seconds. Reads as far as it can and stops; false when
 * there is no number at *i or the value is absurd (over 10^9 s).
 */
static bool read_duration(span s, size_t *i, double *out, bool *any_unit)
{
    size_t k = *i;
    double total, v;
    bool unit, unit2 = false;
    if (!read_term(s, &k, &total, &unit))
        return false;
    *any_unit = unit;
    for (;;) {
        size_t j = skip_blanks(s, k);
        size_t dash = dash_at(s, j);
        size_t to = has_ci_at(s, j, "to") && j + 2 < s.n && is_blank(at(s, j + 2)) ? 2 : 0;
        if (dash || to) { /* a range: its upper bound */
            size_t m = skip_blanks(s, j + (dash ? dash : to));
            if (!read_term(s, &m, &v, &unit2))
                break;
            total = v;
            k = m;
            *any_unit = *any_unit || unit2;
            break;
        }
        if (has_ci_at(s, j, "and") && j + 3 < s.n && is_blank(at(s, j + 3)))
            j = skip_blanks(s, j + 3);
        else if (j < s.n && s.p[j] == ',')
            j = skip_blanks(s, j + 1);
        size_t m = j;
        if (unit && read_term(s, &m, &v, &unit2) && unit2) { /* "4 minutes 30 seconds" */
            total += v;
            k = m;
            continue;
        }
        break;
    }
    if (!isfinite(total) || total > 1e9)
        return false;
    *i = k;
    *out = total;
    return true;
}

/* The header's Total Duration: the duration at its first number
 * ("72 seconds (6 seconds per scene)" -> 72, "4 minutes 30 seconds" -> 270). */
static bool total_duration_of(span s, double *out)
{
    for (size_t i = 0; i < s.n; i++)
        if (is_digit(at(s, i))) {
            size_t k = i;
            bool unit;
            return read_duration(s, &k, out, &unit);
        }
    return false;
}

/* Past a leading "~", "≈", "about", "approx." ... of a duration group. */
static size_t skip_approx(span s)
{
    static const char *const words[] = {"~", "\xE2\x89\x88", "approximately", "approx.",
                                        "approx", "about", "around", "circa", "ca."};
    for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
        size_t n = strlen(words[k]);
        if (has_ci_at(s, 0, words[k]) &&
            (n == s.n || !is_alpha(at(s, n)) || !is_alpha((unsigned char)words[k][n - 1])))
            return skip_blanks(s, n);
    }
    return 0;
}

/* Is w one letter away (one added, dropped, changed, or two swapped) from lit? */
static bool one_edit_from(span w, const char *lit)
{
    size_t n = strlen(lit), i = 0;
    if (w.n + 1 < n || w.n > n + 1)
        return false;
    while (i < w.n && i < n && lower(at(w, i)) == (unsigned char)lit[i])
        i++;
    if (w.n > n) /* added */
        return eq_ci(skip(w, i + 1), lit + i);
    if (w.n < n) /* dropped */
        return eq_ci(skip(w, i), lit + i + 1);
    if (i == n)
        return false; /* the same word */
    if (i + 1 < n && lower(at(w, i)) == (unsigned char)lit[i + 1] &&
        lower(at(w, i + 1)) == (unsigned char)lit[i]) /* swapped */
        return eq_ci(skip(w, i + 2), lit + i + 2);
    return eq_ci(skip(w, i + 1), lit + i + 1); /* changed */
}

/* A unit of seconds or minutes misspelt: "secnds", "secodns", "minuts". */
static bool misspelt_unit(span w)
{
    static const char *const units[] = {"second", "seconds", "minute", "minutes"};
    if (w.n < 5)
        return false; /* "sets", "seas" are one letter from "secs" too */
    for (size_t k = 0; k < sizeof units / sizeof *units; k++)
        if (one_edit_from(w, units[k]))
            return true;
    return false;
}

/*
 * Does a bracket group that did not read as a duration still look like one? A clock
 * ("0:8x"), a number with a unit ("6 or 8 seconds") or with a misspelt one ("6
 * secnds"), or a unit spelled out ("six seconds"). Such a group is a warning rather
 * than part of the title.
 */
static bool looks_like_duration(span s)
{
    bool after_number = false;
    for (size_t i = 0; i < s.n;) {
        unsigned char c = at(s, i);
        if (is_digit(c)) {
            while (i < s.n && (is_digit(at(s, i)) || s.p[i] == '.'))
                i++;
            if (i + 1 < s.n && s.p[i] == ':' && is_digit(at(s, i + 1)))
                return true;
            after_number = true;
            i = skip_blanks(s, i);
            continue;
        }
        if (is_alpha(c)) {
            size_t k = i;
            while (k < s.n && is_alpha(at(s, k)))
                k++;
            span w = span_between(s.p + i, s.p + k);
            double scale = unit_scale(w);
            if (scale != 0 && (after_number || (w.n > 2 && scale < 3600)))
                return true;
            if (after_number && misspelt_unit(w))
                return true;
            i = k;
        } else {
            i++;
        }
        after_number = false;
    }
    return false;
}

/*
 * The value of a field: a value that starts with a double quote runs from that
 * quote to the last one (inner quotes kept); an unterminated quote runs to the end.
 * Curly quotes (U+201C ... U+201D) are treated the same way. Anything else is the
 * trimmed text.
 */
static span value_of(span raw)
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

/* A template placeholder: one bracket group covering the whole text,
 * "[To be determined after review]", "[Follow same 3-step iteration process]". */
static bool is_placeholder(span s)
{
    s = trim(s);
    if (s.n < 2 || s.p[0] != '[')
        return false;
    const char *close = memchr(s.p, ']', s.n);
    return close == s.p + s.n - 1;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when it is not one or is NUL. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xF0 && s[1] < 0x90)) /* overlong */
        return 0;
    if (c == 0xED && s[1] > 0x9F) /* UTF-16 surrogate */
        return 0;
    if (c == 0xF4 && s[1] > 0x8F) /* beyond U+10FFFF */
        return 0;
    return len;
}

/* ------------------------------------------------------------------ parser */

enum region { IN_HEADER, IN_SCENE, IN_NARRATION_SCRIPT, IN_OTHER };

enum field_kind {
    F_OTHER,
    F_NARRATION,
    F_LAYOUT,
    F_NANO_BANANA,
    F_TWO_STEP,
    F_INITIAL,
    F_FINAL,
    F_ANIMATION
};

/*
 * How far a value's quotes have got. A value that starts with a quote stays open
 * until its quotes balance: straight quotes by their count (inner pairs such as
 * "the ultimate takeout," cancel out), curly ones by opening minus closing. While
 * it is open, a line that looks like `Label:` is still part of the value.
 */
typedef struct quote_state {
    enum { Q_NOTHING_YET, Q_UNQUOTED, Q_STRAIGHT, Q_CURLY } kind;
    bool open;
    size_t depth; /* curly quotes still open */
    long line, column; /* where the opening quote is */
} quote_state;

typedef struct pending_field {
    span label;
    const char *value_start, *value_end;
    long line;
    enum field_kind kind;
} pending_field;

/* A `Scene <n>: "..."` line of a NARRATION SCRIPT section. */
typedef struct script_entry {
    long number;
    const char *start, *end;
    long line;
} script_entry;

typedef struct pending_warning {
    long line, column;
    size_t seq;
    const char *rule;
    char *message;
} pending_warning;

typedef struct parser {
    arena *strings;
    ex_document *doc;
    vec scenes;   /* ex_scene */
    vec warnings; /* pending_warning */
    vec fields;   /* pending_field of the open scene block */
    vec script;   /* script_entry */
    vec parts;    /* span, scratch for iterations */
    enum region region;
    bool field_open;
    pending_field field;
    quote_state field_quote; /* of the open field (kept here: fields are copied around) */
    bool field_blank_after;  /* a blank line since the open field's last line */
    bool entry_open;
    script_entry entry;
    quote_state entry_quote;
    bool seen_scene;
    bool total_seen;
    long title_line;
    bool oom;
} parser;

static void *palloc(parser *p, size_t n)
{
    void *m = arena_alloc(p->strings, n);
    if (!m)
        p->oom = true;
    return m;
}

/* A sanitized, NUL-terminated copy of s in the arena (see the file comment). */
/*
 * Length of the prefix of in[0..n) made of bytes that copy as they are: ASCII
 * other than NUL and CR. Eight bytes at a time, since values are mostly plain
 * ASCII and this scan is most of the parser's work.
 */
static size_t plain_prefix(const unsigned char *in, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, cr;
        memcpy(&w, in + i, 8);
        cr = w ^ (ones * '\r');
        /* a byte >= 0x80, a zero byte, a zero byte of w ^ CR (that is, a CR) */
        if ((w | ((w - ones) & ~w) | ((cr - ones) & ~cr)) & highs)
            break;
    }
    while (i < n && in[i] && in[i] < 0x80 && in[i] != '\r')
        i++;
    return i;
}

/* A sanitized, NUL-terminated copy of s in the arena (see the file comment). */
static char *text_copy(parser *p, span s)
{
    const unsigned char *in = (const unsigned char *)s.p;
    size_t plain = plain_prefix(in, s.n);
    if (plain == s.n) {
        char *out = palloc(p, s.n + 1);
        if (!out)
            return NULL;
        memcpy(out, in, s.n);
        out[s.n] = '\0';
        return out;
    }
    size_t len = plain;
    for (size_t i = plain; i < s.n;) {
        if (in[i] == '\r') {
            len++;
            i += (i + 1 < s.n && in[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        size_t k = utf8_sequence(in + i, s.n - i);
        if (k == 1) {
            k = plain_prefix(in + i, s.n - i);
            len += k;
            i += k;
            continue;
        }
        len += k ? k : 3;
        i += k ? k : 1;
    }
    char *out = palloc(p, len + 1);
    if (!out)
        return NULL;
    memcpy(out, in, plain);
    char *o = out + plain;
    for (size_t i = plain; i < s.n;) {
        if (in[i] == '\r') {
            *o++ = '\n';
            i += (i + 1 < s.n && in[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        size_t k = utf8_sequence(in + i, s.n - i);
        if (k == 1)
            k = plain_prefix(in + i, s.n - i);
        if (k) {
            memcpy(o, in + i, k);
            o += k;
            i += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    return out;
}

static char *lit_copy(parser *p, const char *s) { return text_copy(p, mkspan(s, strlen(s))); }

/* A copy for a scene member: an empty value counts as absent. */
static char *member_copy(parser *p, span s) { return s.n ? text_copy(p, s) : NULL; }

static void warn(parser *p, long line, long column, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void warn(parser *p, long line, long column, const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        p->oom = true;
        return;
    }
    char *message = palloc(p, (size_t)len + 1);
    pending_warning *w = vec_push(&p->warnings, sizeof *w);
    if (!message || !w) {
        p->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(message, (size_t)len + 1, fmt, ap);
    va_end(ap);
    w->line = line;
    w->column = column > 0 ? column : 1;
    w->rule = rule;
    w->seq = p->warnings.n;
    w->message = message;
}

/* The 1-based column, in characters, of the byte at `pos` of a line. */
static long column_at(span line, const char *pos)
{
    long column = 1;
    for (const char *c = line.p; c < pos && c < line.p + line.n; c++)
        column += ((unsigned char)*c & 0xC0) != 0x80;
    return column;
}

static bool quote_open(const quote_state *q) { return q->open; }

/* Take in more of a value: `text` is part of the line `line` (for the column). */
static void quote_feed(quote_state *q, span text, span line, long lineno)
{
    static const char open_curly[] = "\xE2\x80\x9C", close_curly[] = "\xE2\x80\x9D";
    size_t i = 0;
    if (q->kind == Q_NOTHING_YET) {
        while (i < text.n && is_space(at(text, i)))
            i++;
        if (i == text.n)
            return;
        q->line = lineno;
        q->column = column_at(line, text.p + i);
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
        for (const char *c = text.p + i, *end = text.p + text.n;
             (c = memchr(c, '"', (size_t)(end - c))) != NULL; c++)
            q->open = !q->open;
    } else if (q->kind == Q_CURLY) {
        for (; i + 3 <= text.n; i++) {
            if (text.p[i] != '\xE2')
                continue;
            if (memcmp(text.p + i, open_curly, 3) == 0)
                q->depth++;
            else if (memcmp(text.p + i, close_curly, 3) == 0 && q->depth)
                q->depth--;
        }
        q->open = q->depth > 0;
    }
}

/* The start of a line for quoting in a warning, cut at a character boundary. */
static const char *excerpt(parser *p, span line)
{
    if (line.n <= EXCERPT_BYTES) {
        const char *s = text_copy(p, line);
        return s ? s : "";
    }
    size_t n = EXCERPT_BYTES;
    while (n > 0 && (at(line, n) & 0xC0) == 0x80)
        n--;
    char *head = text_copy(p, mkspan(line.p, n));
    if (!head)
        return "";
    size_t hn = strlen(head);
    char *s = palloc(p, hn + 4);
    if (!s)
        return "";
    memcpy(s, head, hn);
    memcpy(s + hn, "...", 4);
    return s;
}

static ex_scene *current_scene(parser *p)
{
    return (ex_scene *)p->scenes.items + (p->scenes.n - 1);
}

/* ------------------------------------------------------- line classifiers */

/* Markdown heading level (1..6) of a line: hashes then a blank or the end. */
static int heading_level(span line)
{
    size_t h = 0;
    while (h < line.n && h < 7 && line.p[h] == '#')
        h++;
    if (h == 0 || h > 6)
        return 0;
    if (h < line.n && !is_blank(at(line, h)))
        return 0;
    return (int)h;
}

static span heading_text(span line)
{
    size_t h = 0;
    while (h < line.n && line.p[h] == '#')
        h++;
    return strip_bold(skip(line, h));
}

/*
 * A heading whose text starts with the word SCENE (any case, optionally bold):
 * an attempt at a scene header. Returns the heading level and sets *rest to the
 * text after the word. `##SCENE 3:` (no blank after the hashes) counts too.
 */
static int scene_like(span line, span *rest)
{
    size_t h = 0;
    while (h < line.n && h < 7 && line.p[h] == '#')
        h++;
    if (h == 0 || h > 6)
        return 0;
    size_t i = skip_blanks(line, h);
    if (i + 1 < line.n && line.p[i] == '*' && line.p[i + 1] == '*')
        i = skip_blanks(line, i + 2);
    if (!has_ci_at(line, i, "scene"))
        return 0;
    i += 5;
    if (i < line.n && is_alpha(at(line, i)))
        return 0; /* SCENES, Scenery: not a scene header */
    *rest = skip(line, i);
    return (int)h;
}

/*
 * Length of the separator at s[i] between a scene number and its title; 0 when
 * there is none. A ':', or a run of dashes ("-", "--", "–", "—") with a blank or the
 * end after it, or right before the title ("## SCENE 6 -Title") when a blank comes
 * before the run and no digit after it: "6-7: Title" and "6 -5" are no separators.
 */
static size_t scene_separator(span s, size_t i)
{
    if (i < s.n && s.p[i] == ':')
        return 1;
    size_t d = dash_run(s, i);
    if (!d)
        return 0;
    size_t after = i + d;
    if (after == s.n || is_blank(at(s, after)))
        return d;
    return i > 0 && is_blank(at(s, i - 1)) && !is_digit(at(s, after)) ? d : 0;
}

/*
 * After `## SCENE`, is the rest an attempt at a scene header (and so a warning when
 * it does not parse)? A number, nothing at all, or a ':' or spaced dashes somewhere
 * ("## Scene Three: Title") is; "## Scene Breakdown" is an ordinary heading.
 */
static bool header_like(span rest)
{
    size_t i = skip_blanks(rest, 0);
    if (i == rest.n || is_digit(at(rest, i)))
        return true;
    for (size_t k = i; k < rest.n; k++) {
        if (rest.p[k] == ':')
            return true;
        size_t d = dash_run(rest, k);
        if (d && k > 0 && is_blank(at(rest, k - 1)) &&
            (k + d == rest.n || is_blank(at(rest, k + d))))
            return true;
        k += d ? d - 1 : 0;
    }
    return false;
}

/* `SCENE 3: Title` or `**SCENE 3 - Title**` at column 0, not a heading: a scene
 * header that lost its "## ". (Upper case only: "Scene 3: ..." is a label in notes.) */
static bool bare_scene_header(span line)
{
    size_t i = 0;
    if (line.n > 2 && line.p[0] == '*' && line.p[1] == '*')
        i = 2;
    if (line.n - i < 7 || memcmp(line.p + i, "SCENE", 5) != 0 || !is_blank(at(line, i + 5)))
        return false;
    i = skip_blanks(line, i + 5);
    if (i == line.n || !is_digit(at(line, i)))
        return false;
    while (i < line.n && is_digit(at(line, i)))
        i++;
    if (i + 1 < line.n && line.p[i] == '*' && line.p[i + 1] == '*')
        i += 2;
    return scene_separator(line, skip_blanks(line, i)) != 0;
}

static bool is_separator(span line)
{
    span t = trim(line);
    if (t.n < 3)
        return false;
    for (size_t i = 0; i < t.n; i++)
        if (t.p[i] != '-')
            return false;
    return true;
}

/*
 * `Label: value` starting at column 0. A label starts with a letter (or any
 * non-ASCII byte), holds no double quote, is at most MAX_LABEL bytes, and its
 * colon is followed by a blank or the end of the line (so "https://" and "10:30"
 * are not labels). Bullets ("- Text: ...") and indented lines never match.
 */
/* `Label: value`, or in markdown bold `**Label:** value` / `**Label**: value`
 * (scripts written in a chat tool often come that way). */
static bool match_label(span line, span *label, const char **value_start)
{
    size_t start = line.n > 2 && at(line, 0) == '*' && at(line, 1) == '*' ? 2 : 0;
    bool bold = start == 2;
    if (line.n <= start || !(is_alpha(at(line, start)) || at(line, start) >= 0x80))
        return false;
    for (size_t i = start + 1; i < line.n && i <= MAX_LABEL + start; i++) {
        unsigned char c = at(line, i);
        if (c == '"')
            return false;
        size_t after;
        if (!bold && c == ':')
            after = i + 1;
        else if (bold && i + 2 < line.n && c == ':' && at(line, i + 1) == '*' &&
                 at(line, i + 2) == '*')
            after = i + 3; /* **Label:** */
        else if (bold && i + 2 < line.n && c == '*' && at(line, i + 1) == '*' &&
                 at(line, i + 2) == ':')
            after = i + 3; /* **Label**: */
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

static enum field_kind field_kind_of(span label)
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
    enum field_kind k = field_kind_of(label);
    if (kind == F_NANO_BANANA)
        return k == F_INITIAL || is_iteration_label(label);
    if (kind == F_TWO_STEP)
        return k == F_INITIAL || k == F_FINAL;
    return false;
}

/* ------------------------------------------------------------ scene header */

typedef struct scene_head {
    long number;
    span title;
    double duration;
    bool no_narration;
    enum {
        D_NONE,       /* no duration group */
        D_READ,       /* `group` read as `duration` */
        D_UNREADABLE, /* `group` looks like a duration but cannot be read; not in the title */
        D_DOUBTFUL    /* `group` ends the title but is no title part: "(abc)", "(tbd)" */
    } duration_kind;
    span group;
    const char *error; /* NULL when the header parses */
} scene_head;

/* "... - NO NARRATION" or "... (NO NARRATION)" at the end of s, or "NO NARRATION"
 * alone (the title of "## SCENE 3 - NO NARRATION"). */
static bool strip_no_narration(span *s)
{
    span t = *s;
    bool paren = false;
    if (t.n && t.p[t.n - 1] == ')') {
        paren = true;
        t = trim(mkspan(t.p, t.n - 1));
    }
    if (!ends_ci(t, "narration"))
        return false;
    t = trim(mkspan(t.p, t.n - 9));
    if (!ends_ci(t, "no"))
        return false;
    t.n -= 2;
    if (t.n && is_alpha(at(t, t.n - 1))) /* "... piano narration" */
        return false;
    t = strip_bold_end(trim(t));
    if (!t.n && !paren) {
        *s = t;
        return true;
    }
    if (paren) {
        if (!t.n || t.p[t.n - 1] != '(')
            return false;
        t.n--;
    } else if (!strip_dash_end(&t)) {
        return false;
    }
    *s = trim(t);
    return true;
}

/*
 * The duration group at the end of s: "(6 seconds)", "(6s)", "(~6s)", "(0:08)",
 * "[8s]", "(1 min)", "(6-8 seconds)" (the upper bound). Returns 1 and sets *seconds
 * when it reads; -1 when the group looks like a duration but cannot be read ("(six
 * seconds)"); 0 when there is no such group. Either way a group that was taken is
 * removed from s and *group is set to it.
 */
/* The bracket group "(...)" or "[...]" that ends s: its offset in s; -1 when none. */
static long trailing_group(span s)
{
    if (!s.n)
        return -1;
    char close = s.p[s.n - 1];
    char open_c = close == ')' ? '(' : close == ']' ? '[' : 0;
    if (!open_c)
        return -1;
    size_t open = s.n - 1;
    while (open > 0 && s.p[open] != open_c)
        open--;
    return s.p[open] == open_c ? (long)open : -1;
}

static int strip_duration(span *s, double *seconds, span *group)
{
    long at_open = trailing_group(*s);
    if (at_open < 0)
        return 0;
    size_t open = (size_t)at_open;
    span inner = trim(mkspan(s->p + open + 1, s->n - open - 2));
    size_t i = skip_approx(inner);
    double v = 0;
    bool unit = false; /* "(8)" or "(2-3)" is no duration: a number needs its unit */
    bool read = read_duration(inner, &i, &v, &unit) && i == inner.n && unit;
    if (!read && !looks_like_duration(inner))
        return 0;
    *group = mkspan(s->p + open, s->n - open);
    *s = trim(mkspan(s->p, open));
    if (!read)
        return -1;
    *seconds = v;
    return 1;
}

/*
 * Could the parenthesised group that ends a title be part of it? One with a capital
 * letter, a digit or a character beyond ASCII can ("(Part 2)", "(CO2)", "(Intro)",
 * "(2008)", "(café)"), and so can lower-case words ("(continued)", "(beta)"); at
 * most three lower-case letters or signs ("(abc)", "(tbd)", "(?)", "()") are a
 * duration left blank or gone wrong.
 */
static bool title_part(span group)
{
    span inner = trim(mkspan(group.p + 1, group.n - 2));
    if (inner.n > 3)
        return true;
    for (size_t i = 0; i < inner.n; i++) {
        unsigned char c = at(inner, i);
        if ((c >= 'A' && c <= 'Z') || is_digit(c) || c >= 0x80)
            return true;
    }
    return false;
}

/* `rest` is the heading text after the word SCENE: " 3: Title (6 seconds) ...",
 * " 3 - Title", " 3 — Title". */
static scene_head parse_scene_head(span rest)
{
    scene_head h = {0};
    h.duration = EX_DEFAULT_SCENE_SECONDS;
    size_t i = skip_blanks(rest, 0);
    bool overflow;
    if (!parse_long(rest, &i, &h.number, &overflow)) {
        h.error = overflow ? "its scene number is too large" : "it has no scene number";
        return h;
    }
    i = skip_blanks(rest, i);
    if (i + 1 < rest.n && rest.p[i] == '*' && rest.p[i + 1] == '*') /* **SCENE 3**: */
        i = skip_blanks(rest, i + 2);
    size_t separator = scene_separator(rest, i);
    if (separator) {
        i += separator;
    } else if (i == rest.n || rest.p[i] == '(' || rest.p[i] == '[') {
        /* "## SCENE 5" or "## SCENE 5 (8s)": a scene without a title */
    } else {
        h.error = "there is no ':' or ' - ' after the scene number";
        return h;
    }
    span t = trim(skip(rest, i));
    for (;;) {
        t = strip_bold_end(t);
        if (!h.no_narration && strip_no_narration(&t)) {
            h.no_narration = true;
            continue;
        }
        if (h.duration_kind == D_NONE) {
            int r = strip_duration(&t, &h.duration, &h.group);
            if (r != 0) {
                h.duration_kind = r > 0 ? D_READ : D_UNREADABLE;
                continue;
            }
        }
        break;
    }
    h.title = strip_bold_start(t);
    long open = trailing_group(h.title);
    if (h.duration_kind == D_NONE && open >= 0 && h.title.p[open] == '(' &&
        !title_part(skip(h.title, (size_t)open))) {
        h.duration_kind = D_DOUBTFUL;
        h.group = skip(h.title, (size_t)open);
    }
    return h;
}

/* -------------------------------------------------------- scene finishing */

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
        span *marker = vec_push(&p->parts, sizeof *marker);
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
    if (!sc->initial_prompt && !is_placeholder(initial))
        sc->initial_prompt = member_copy(p, initial);

    if (nm == 0 || sc->iterations)
        return;
    char **list = palloc(p, nm * sizeof *list);
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
            list[count++] = text_copy(p, text);
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
        if (line != raw.p && match_label(skip(l, i), &label, &value)) {
            enum field_kind k = field_kind_of(label);
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
        span v = value_of(span_between(initial_at, initial_end));
        if (!is_placeholder(v))
            sc->initial_prompt = member_copy(p, v);
    }
    if (final_at && !sc->final_prompt) {
        span v = value_of(span_between(final_at, final_end));
        if (!is_placeholder(v))
            sc->final_prompt = member_copy(p, v);
    }
}

/* A value whose quote never closed: say where it opened. */
static void warn_unclosed(parser *p, const quote_state *q, const char *what)
{
    if (q->open)
        warn(p, q->line, q->column, EX_RULE_UNCLOSED_QUOTE,
             "the quote that opens %s is never closed; the value ends at the first "
             "label after a blank line", what);
}

static void close_field(parser *p)
{
    if (!p->field_open)
        return;
    p->field_open = false;
    if (quote_open(&p->field_quote)) {
        char *label = text_copy(p, p->field.label);
        size_t n = label ? strlen(label) + 16 : 0;
        char *what = n ? palloc(p, n) : NULL;
        if (what) {
            snprintf(what, n, "the %s value", label);
            warn_unclosed(p, &p->field_quote, what);
        }
    }
    pending_field *f = vec_push(&p->fields, sizeof *f);
    if (!f) {
        p->oom = true;
        return;
    }
    *f = p->field;
}

/* The scene block has ended: turn its pending fields into strings and members. */
static void finish_scene(parser *p)
{
    close_field(p);
    ex_scene *sc = current_scene(p);
    pending_field *pf = p->fields.items;
    size_t n = p->fields.n;
    long narration_line = 0;
    if (n) {
        sc->fields = palloc(p, n * sizeof *sc->fields);
        if (!sc->fields)
            return;
        sc->n_fields = n;
    }
    for (size_t i = 0; i < n && !p->oom; i++) {
        span raw = span_between(pf[i].value_start, pf[i].value_end);
        span v = value_of(raw);
        ex_field *f = &sc->fields[i];
        f->label = text_copy(p, pf[i].label);
        f->value = text_copy(p, v);
        if (!f->label || !f->value)
            return;
        switch (pf[i].kind) {
        case F_NARRATION:
            if (!narration_line) {
                narration_line = pf[i].line;
                sc->narration = v.n ? f->value : NULL;
            }
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
            if (!sc->initial_prompt && v.n && !is_placeholder(v))
                sc->initial_prompt = f->value;
            break;
        case F_FINAL:
            if (!sc->final_prompt && v.n && !is_placeholder(v))
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
        warn(p, narration_line, 1, EX_RULE_NO_NARRATION,
             "scene %ld is marked NO NARRATION but has a Narration; it is ignored",
             sc->number);
        sc->narration = NULL;
    }
}

static void close_entry(parser *p)
{
    if (!p->entry_open)
        return;
    p->entry_open = false;
    warn_unclosed(p, &p->entry_quote, "this NARRATION SCRIPT entry");
    script_entry *e = vec_push(&p->script, sizeof *e);
    if (!e) {
        p->oom = true;
        return;
    }
    *e = p->entry;
}

/* The current block or section ends at a heading. */
static void end_block(parser *p)
{
    if (p->region == IN_SCENE)
        finish_scene(p);
    close_entry(p);
    p->field_open = false;
}

/* ------------------------------------------------------------------ lines */

/* "Title - 12 SCENES" -> "Title", 12 (the dash may be an en or em dash). */
static bool strip_scene_count(span t, span *title, long *count)
{
    size_t word = ends_ci(t, "scenes") ? 6 : ends_ci(t, "scene") ? 5 : 0;
    span s = mkspan(t.p, t.n - word);
    if (!word || !s.n || !is_blank(at(s, s.n - 1)))
        return false;
    s = trim(s);
    size_t digits = 0;
    while (digits < s.n && is_digit(at(s, s.n - 1 - digits)))
        digits++;
    size_t i = s.n - digits;
    bool overflow;
    if (!digits || !parse_long(s, &i, count, &overflow))
        return false;
    span before = trim(mkspan(s.p, s.n - digits));
    if (!strip_dash_end(&before))
        return false;
    *title = strip_bold(before);
    return true;
}

static void title_line(parser *p, span line, long lineno)
{
    span text = heading_text(line), title = text;
    long count;
    p->title_line = lineno;
    if (strip_scene_count(text, &title, &count))
        p->doc->declared_scenes = count;
    p->doc->title = text_copy(p, title);
}

static void header_line(parser *p, span line)
{
    span label;
    const char *value;
    if (!match_label(line, &label, &value))
        return;
    ex_document *doc = p->doc;
    span raw = span_between(value, line.p + line.n);
    span v = value_of(raw);
    if (eq_ci(label, "total duration")) {
        double seconds;
        if (!p->total_seen && total_duration_of(raw, &seconds)) {
            p->total_seen = true;
            doc->total_duration = seconds;
            doc->total_duration_declared = true;
        }
        return;
    }
    char **slot = eq_ci(label, "style")      ? &doc->style
                  : eq_ci(label, "format")   ? &doc->format
                  : eq_ci(label, "audience") ? &doc->audience
                                             : NULL;
    if (slot && !*slot && v.n)
        *slot = text_copy(p, v);
}

static void scene_line(parser *p, span line, long lineno)
{
    if (is_separator(line) || heading_level(line)) {
        close_field(p);
        return;
    }
    span label;
    const char *value;
    bool blank = trim(line).n == 0;
    if (p->field_open && !blank &&
        (quote_open(&p->field_quote) && !p->field_blank_after)) {
        /* "Stored program: that idea..." inside a quote still open is its text. */
        p->field.value_end = line.p + line.n;
        quote_feed(&p->field_quote, line, line, lineno);
        return;
    }
    if (match_label(line, &label, &value)) {
        if (p->field_open && is_sub_label(p->field.kind, label)) {
            p->field.value_end = line.p + line.n;
            p->field_blank_after = false;
            quote_feed(&p->field_quote, line, line, lineno);
            return;
        }
        close_field(p);
        p->field_open = true;
        p->field.label = label;
        p->field.value_start = value;
        p->field.value_end = line.p + line.n;
        p->field.line = lineno;
        p->field.kind = field_kind_of(label);
        p->field_blank_after = false;
        memset(&p->field_quote, 0, sizeof p->field_quote);
        quote_feed(&p->field_quote, span_between(value, line.p + line.n), line, lineno);
        return;
    }
    if (!p->field_open)
        return;
    if (blank) {
        p->field_blank_after = true;
        return;
    }
    p->field.value_end = line.p + line.n;
    p->field_blank_after = false;
    quote_feed(&p->field_quote, line, line, lineno);
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
    if (!parse_long(t, &k, number, &overflow))
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

/* `Scene 3: "..."` (optionally bold or bulleted) in a NARRATION SCRIPT section.
 * An entry runs to a blank line or the next entry; no blank line is needed
 * between entries, but an entry whose quote is still open keeps its next lines. */
static void script_line(parser *p, span line, long lineno)
{
    span t = trim(line);
    if (!t.n || is_separator(t) || heading_level(line)) {
        close_entry(p);
        return;
    }
    if (p->entry_open && quote_open(&p->entry_quote)) {
        p->entry.end = t.p + t.n;
        quote_feed(&p->entry_quote, line, line, lineno);
        return;
    }
    size_t i = 0;
    if (t.n > 1 && (t.p[0] == '-' || t.p[0] == '*') && is_blank(at(t, 1)))
        i = skip_blanks(t, 1);
    long number;
    size_t k = script_entry_head(t, i, &number);
    if (k) {
        close_entry(p);
        p->entry_open = true;
        p->entry.number = number;
        p->entry.start = t.p + k;
        p->entry.end = t.p + t.n;
        p->entry.line = lineno;
        memset(&p->entry_quote, 0, sizeof p->entry_quote);
        quote_feed(&p->entry_quote, skip(t, k), line, lineno);
        return;
    }
    if (p->entry_open) {
        p->entry.end = t.p + t.n;
        quote_feed(&p->entry_quote, line, line, lineno);
    }
}

/* A scene's duration that is surely not what the writer meant: one that cannot be
 * read, a group that may have been meant as one, 0 s, or more than 10 minutes. */
static void warn_duration(parser *p, span line, long lineno, const scene_head *h)
{
    long column = h->duration_kind == D_NONE ? 1 : column_at(line, h->group.p);
    const char *group = h->duration_kind == D_NONE ? "" : excerpt(p, h->group);
    switch (h->duration_kind) {
    case D_UNREADABLE:
        warn(p, lineno, column, EX_RULE_DURATION,
             "scene %ld: cannot read the duration '%s' (write it as '(6 seconds)'); "
             "the scene gets %g seconds",
             h->number, group, EX_DEFAULT_SCENE_SECONDS);
        break;
    case D_DOUBTFUL:
        warn(p, lineno, column, EX_RULE_DURATION,
             "scene %ld: '%s' is not a duration (write it as '(6 seconds)'); it stays in "
             "the title and the scene gets %g seconds",
             h->number, group, EX_DEFAULT_SCENE_SECONDS);
        break;
    case D_READ:
        if (h->duration == 0)
            warn(p, lineno, column, EX_RULE_DURATION,
                 "scene %ld: '%s' is no time at all; a typo? (the scene lasts as long as "
                 "its narration)",
                 h->number, group);
        else if (h->duration > MAX_PLAUSIBLE_SECONDS)
            warn(p, lineno, column, EX_RULE_DURATION,
                 "scene %ld: '%s' is over %g minutes; a typo?", h->number, group,
                 MAX_PLAUSIBLE_SECONDS / 60);
        break;
    case D_NONE:
        break;
    }
}

static void on_scene_header(parser *p, span line, const scene_head *h, int level, long lineno)
{
    if (h->error || level != 2) {
        if (h->error)
            warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
                 "'%s' looks like a scene header but %s; it is not a scene",
                 excerpt(p, line), h->error);
        else
            warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
                 "'%s' is a level-%d heading; a scene header is '## SCENE n: Title'",
                 excerpt(p, line), level);
        p->region = p->seen_scene ? IN_OTHER : IN_HEADER;
        return;
    }
    warn_duration(p, line, lineno, h);
    ex_scene *sc = vec_push(&p->scenes, sizeof *sc);
    if (!sc) {
        p->oom = true;
        return;
    }
    sc->number = h->number;
    sc->title = text_copy(p, h->title);
    sc->duration = h->duration;
    sc->line = lineno;
    sc->no_narration = h->no_narration;
    p->seen_scene = true;
    p->region = IN_SCENE;
    p->fields.n = 0;
}

/* "NARRATION SCRIPT", "Full Narration Script:", "Voiceover Script", "VO script". */
static bool is_narration_script_heading(span text)
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

static void handle_line(parser *p, span line, long lineno)
{
    span rest;
    int level = scene_like(line, &rest);
    if (level) {
        /* A level-2 SCENE heading always ends the block, parsed or not; at
         * another level only one that would parse does (and gets a warning). */
        scene_head h = parse_scene_head(rest);
        if ((level == 2 && header_like(rest)) || !h.error) {
            end_block(p);
            on_scene_header(p, line, &h, level, lineno);
            return;
        }
    }
    level = heading_level(line);
    if (level == 1 || level == 2) {
        end_block(p);
        if (level == 1 && !p->seen_scene && !p->doc->title)
            title_line(p, line, lineno);
        if (is_narration_script_heading(heading_text(line)))
            p->region = IN_NARRATION_SCRIPT;
        else
            p->region = p->seen_scene ? IN_OTHER : IN_HEADER;
        return;
    }
    if (p->region != IN_NARRATION_SCRIPT && !(p->field_open && quote_open(&p->field_quote)) &&
        bare_scene_header(line))
        warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
             "'%s' looks like a scene header but is not a '## ' heading; it is not a scene",
             excerpt(p, line));
    switch (p->region) {
    case IN_HEADER:
        header_line(p, line);
        break;
    case IN_SCENE:
        scene_line(p, line, lineno);
        break;
    case IN_NARRATION_SCRIPT:
        script_line(p, line, lineno);
        break;
    case IN_OTHER:
        break;
    }
}

/* ------------------------------------------------------------ after pass */

static int by_number_then_line(const void *a, const void *b)
{
    const script_entry *x = a, *y = b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* An entry that says a scene is silent rather than what is said: "", "[none]",
 * "(no narration)", "Silent - title card", "No narration", "-". */
static bool is_silence_note(span v)
{
    v = trim(v);
    if (!v.n || is_placeholder(v) || (v.p[0] == '(' && v.p[v.n - 1] == ')') ||
        eq_ci(v, "-") || eq_ci(v, "none") || eq_ci(v, "n/a") ||
        eq_ci(v, "\xE2\x80\x94") || eq_ci(v, "\xE2\x80\x93"))
        return true;
    return has_ci_at(v, 0, "no narration") || has_ci_at(v, 0, "silen");
}

static void narration_fallback(parser *p)
{
    script_entry *e = p->script.items;
    size_t n = p->script.n;
    if (n == 0)
        return;
    qsort(e, n, sizeof *e, by_number_then_line);
    ex_scene *scenes = p->scenes.items;
    for (size_t s = 0; s < p->scenes.n && !p->oom; s++) {
        ex_scene *sc = &scenes[s];
        if (sc->narration && !sc->no_narration)
            continue;
        size_t lo = 0, hi = n; /* first entry with number >= scene number */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (e[mid].number < sc->number)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < n && e[lo].number == sc->number; lo++) {
            span v = value_of(span_between(e[lo].start, e[lo].end));
            if (sc->no_narration) {
                if (!is_silence_note(v)) {
                    warn(p, e[lo].line, 1, EX_RULE_NO_NARRATION,
                         "scene %ld is marked NO NARRATION (line %ld) but the NARRATION "
                         "SCRIPT has narration for it; it is ignored",
                         sc->number, sc->line);
                    break;
                }
            } else if (v.n) {
                sc->narration = text_copy(p, v);
                break;
            }
        }
    }
}

typedef struct numbered {
    long number, line;
} numbered;

static int by_number(const void *a, const void *b)
{
    const numbered *x = a, *y = b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static void find_duplicates(parser *p)
{
    size_t n = p->scenes.n;
    if (n < 2)
        return;
    numbered *v = xmalloc(n * sizeof *v);
    if (!v) {
        p->oom = true;
        return;
    }
    ex_scene *scenes = p->scenes.items;
    for (size_t i = 0; i < n; i++) {
        v[i].number = scenes[i].number;
        v[i].line = scenes[i].line;
    }
    qsort(v, n, sizeof *v, by_number);
    for (size_t i = 1, first = 0; i < n; i++) {
        if (v[i].number != v[first].number) {
            first = i;
            continue;
        }
        p->doc->has_duplicates = true;
        warn(p, v[i].line, 1, EX_RULE_DUPLICATE, "duplicate scene number %ld: lines %ld and %ld", v[i].number,
             v[first].line, v[i].line);
    }
    free(v);
}

static int by_line(const void *a, const void *b)
{
    const pending_warning *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void finish_document(parser *p)
{
    ex_document *doc = p->doc;
    narration_fallback(p);
    find_duplicates(p);
    if (doc->declared_scenes >= 0 && (size_t)doc->declared_scenes != p->scenes.n)
        warn(p, p->title_line, 1, EX_RULE_SCENE_COUNT, "the title declares %ld scenes but %zu were found",
             doc->declared_scenes, p->scenes.n);
    ex_scene *scenes = p->scenes.items;
    if (!doc->total_duration_declared) {
        doc->total_duration = 0;
        for (size_t i = 0; i < p->scenes.n; i++)
            doc->total_duration += scenes[i].duration;
    }
    if (p->oom)
        return;

    doc->scenes = p->scenes.items;
    doc->n_scenes = p->scenes.n;
    p->scenes.items = NULL;

    pending_warning *w = p->warnings.items;
    size_t nw = p->warnings.n;
    if (nw) {
        qsort(w, nw, sizeof *w, by_line);
        doc->warnings = xmalloc(nw * sizeof *doc->warnings);
        if (!doc->warnings) {
            p->oom = true;
            return;
        }
        for (size_t i = 0; i < nw; i++) {
            doc->warnings[i].line = w[i].line;
            doc->warnings[i].column = w[i].column;
            doc->warnings[i].rule = w[i].rule;
            doc->warnings[i].message = w[i].message;
        }
        doc->n_warnings = nw;
    }
}

/*
 * Text that is not UTF-8: UTF-16 without a byte-order mark, or NUL bytes and bytes
 * of no valid UTF-8 sequence (each reads as U+FFFD). One warning, at the first such
 * byte, with how many there are: a script holding them is a wrong file (binary), a
 * corrupted one, or one saved in another encoding (Latin-1, Windows-1252).
 */
static void check_encoding(parser *p, const char *s, const char *end)
{
    if (end - s >= 4 && ((printable(s[0]) && !s[1] && printable(s[2]) && !s[3]) ||
                         (!s[0] && printable(s[1]) && !s[2] && printable(s[3])))) {
        warn(p, 1, 1, EX_RULE_ENCODING,
             "the text looks like UTF-16 without a byte-order mark; save it as UTF-8 "
             "(or UTF-16 with one)");
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = (size_t)(end - s), nuls = 0, others = 0, first = n;
    for (size_t i = 0; i < n;) {
        i += plain_prefix(u + i, n - i);
        if (i == n)
            break;
        size_t k = u[i] == '\r' ? 1 : utf8_sequence(u + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        first = first < i ? first : i;
        nuls += u[i] == 0;
        others += u[i] != 0;
        i++;
    }
    if (first == n)
        return;
    long line = 1; /* of the first bad byte, counted as the parser counts lines */
    const char *start = s;
    for (const char *c = s; c < s + first; c++)
        if (*c == '\n' || (*c == '\r' && c[1] != '\n')) {
            line++;
            start = c + 1;
        }
    long column = column_at(span_between(start, s + first), s + first);
    if (nuls) {
        char more[64] = "";
        if (others)
            snprintf(more, sizeof more, " and %zu invalid UTF-8 byte%s", others,
                     others == 1 ? "" : "s");
        warn(p, line, column, EX_RULE_ENCODING,
             "binary data: %zu NUL byte%s%s, the first here; is this the right file? (each "
             "reads as U+FFFD)",
             nuls, nuls == 1 ? "" : "s", more);
    } else
        warn(p, line, column, EX_RULE_ENCODING,
             "%zu byte%s not UTF-8, the first here; save the script as UTF-8 (each reads "
             "as U+FFFD)",
             others, others == 1 ? " is" : "s are");
}

/* ------------------------------------------------------------- public API */

/* The end of the line at s: its LF or CR, or end. memchr finds the LF at memory
 * speed; a CR (CRLF or old Mac files) is then looked for within the line only.
 * *next_lf remembers the LF found, so that a file of CR-only line ends is not
 * scanned to its end once per line. */
static const char *line_end(const char *s, const char *end, const char **next_lf)
{
    if (!*next_lf || *next_lf < s) {
        *next_lf = memchr(s, '\n', (size_t)(end - s));
        if (!*next_lf)
            *next_lf = end;
    }
    const char *cr = memchr(s, '\r', (size_t)(*next_lf - s));
    return cr ? cr : *next_lf;
}

ex_document *ex_parse(const char *text, size_t len, const char *name, const char *path)
{
    doc_box *box = xmalloc(sizeof *box);
    if (!box)
        return NULL;
    memset(box, 0, sizeof *box);
    ex_document *doc = &box->doc;
    doc->declared_scenes = -1;

    parser ps = {0};
    parser *p = &ps;
    p->strings = &box->strings;
    p->doc = doc;
    p->region = IN_HEADER;

    doc->name = lit_copy(p, name ? name : "script");
    if (path)
        doc->path = lit_copy(p, path);

    if (!text)
        len = 0;
    char *decoded = NULL;
    size_t decoded_len = 0;
    int utf16 = ex_utf16_to_utf8(text, len, &decoded, &decoded_len);
    if (utf16 < 0)
        p->oom = true;
    else if (utf16 > 0) {
        text = decoded;
        len = decoded_len;
    }
    const char *s = text, *end = text ? text + len : NULL;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    if (s)
        check_encoding(p, s, end);

    long lineno = 0;
    const char *next_lf = NULL; /* none found yet */
    while (s && s < end && !p->oom) {
        const char *eol = line_end(s, end, &next_lf);
        handle_line(p, span_between(s, eol), ++lineno);
        s = eol;
        if (s < end)
            s += (*s == '\r' && s + 1 < end && s[1] == '\n') ? 2 : 1;
    }
    if (!p->oom)
        end_block(p);
    if (!p->oom)
        finish_document(p);

    free(p->scenes.items);
    free(p->warnings.items);
    free(p->fields.items);
    free(p->script.items);
    free(p->parts.items);
    free(decoded);
    if (p->oom) {
        ex_document_free(doc);
        return NULL;
    }
    return doc;
}

/* Append code point c to o as UTF-8; returns the new end. */
static char *put_utf8(char *o, unsigned long c)
{
    if (c < 0x80) {
        *o++ = (char)c;
    } else if (c < 0x800) {
        *o++ = (char)(0xC0 | (c >> 6));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *o++ = (char)(0xE0 | (c >> 12));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (c >> 18));
        *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    return o;
}

int ex_utf16_to_utf8(const char *text, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    const unsigned char *u = (const unsigned char *)text;
    if (!text || len < 2 || !((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return 0;
    bool little = u[0] == 0xFF;
    size_t units = (len - 2) / 2;
    /* A unit makes at most 3 bytes (a surrogate pair 4 for 2 units), + U+FFFD + NUL. */
    if (units > (SIZE_MAX - 8) / 3)
        return -1;
    char *buf = xmalloc(units * 3 + 8);
    if (!buf)
        return -1;
    char *o = buf;
    for (size_t i = 0; i < units; i++) {
        const unsigned char *q = u + 2 + 2 * i;
        unsigned long c = little ? (unsigned long)q[0] | (unsigned long)q[1] << 8
                                 : (unsigned long)q[1] | (unsigned long)q[0] << 8;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
            const unsigned char *r = q + 2;
            unsigned long d = little ? (unsigned long)r[0] | (unsigned long)r[1] << 8
                                     : (unsigned long)r[1] | (unsigned long)r[0] << 8;
            if (d >= 0xDC00 && d <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD; /* a lone surrogate */
        o = put_utf8(o, c);
    }
    if ((len - 2) % 2)
        o = put_utf8(o, 0xFFFD); /* a trailing odd byte */
    *o = '\0';
    *out = buf;
    *out_len = (size_t)(o - buf);
    return 1;
}

void ex_document_free(ex_document *doc)
{
    if (!doc)
        return;
    doc_box *box = (doc_box *)doc;
    free(doc->scenes);
    free(doc->warnings);
    arena_free(&box->strings);
    free(box);
}

static int fail_with(char **errmsg, const char *path, const char *reason)
{
    if (errmsg) {
        size_t n = strlen(path) + strlen(reason) + 3;
        *errmsg = malloc(n);
        if (*errmsg)
            snprintf(*errmsg, n, "%s: %s", path, reason);
    }
    return -1;
}

int ex_parse_file(const char *path, ex_document **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (!path)
        return fail_with(errmsg, "(null)", strerror(EINVAL));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_with(errmsg, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return fail_with(errmsg, path, strerror(err));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return fail_with(errmsg, path, "is a directory");
    }
    size_t cap = (size_t)64 * 1024, len = 0;
    if (S_ISREG(st.st_mode) && st.st_size > 0 && (uintmax_t)st.st_size < MAX_FILE_BYTES)
        cap = (size_t)st.st_size + 1; /* +1: the read that sees the end */
    char *buf = xmalloc(cap);
    if (!buf) {
        close(fd);
        return fail_with(errmsg, path, strerror(ENOMEM));
    }
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_FILE_BYTES) {
                free(buf);
                close(fd);
                return fail_with(errmsg, path, "file is too large (over 256 MiB)");
            }
            size_t bigger = cap * 2 > MAX_FILE_BYTES ? MAX_FILE_BYTES : cap * 2;
            char *grown = xrealloc(buf, bigger);
            if (!grown) {
                free(buf);
                close(fd);
                return fail_with(errmsg, path, strerror(ENOMEM));
            }
            buf = grown;
            cap = bigger;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got == 0)
            break;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            free(buf);
            close(fd);
            return fail_with(errmsg, path, err == EISDIR ? "is a directory" : strerror(err));
        }
        len += (size_t)got;
    }
    close(fd);
    char *name = ex_path_stem(path);
    ex_document *doc = name ? ex_parse(buf, len, name, path) : NULL;
    free(name);
    free(buf);
    if (!doc)
        return fail_with(errmsg, path, strerror(ENOMEM));
    *out = doc;
    return 0;
}

char *ex_path_stem(const char *path)
{
    if (!path)
        path = "";
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') /* "dir/" names "dir" */
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t stop = end;
    for (size_t i = end; i > start + 1; i--) /* a leading dot is not an extension */
        if (path[i - 1] == '.') {
            stop = i - 1;
            break;
        }
    if (stop - start == 1 && path[start] == '/')
        stop = start;
    char *stem = xmalloc(stop - start + 1);
    if (!stem)
        return NULL;
    memcpy(stem, path + start, stop - start);
    stem[stop - start] = '\0';
    return stem;
}

const char *ex_scene_field(const ex_scene *scene, const char *label)
{
    if (!scene || !label)
        return NULL;
    for (size_t i = 0; i < scene->n_fields; i++)
        if (strcmp(scene->fields[i].label, label) == 0)
            return scene->fields[i].value;
    return NULL;
}

const ex_scene *ex_document_scene(const ex_document *doc, long number)
{
    if (!doc)
        return NULL;
    for (size_t i = 0; i < doc->n_scenes; i++)
        if (doc->scenes[i].number == number)
            return &doc->scenes[i];
    return NULL;
}
