/*
 * parse_internal.h -- what the parser's files share, and nothing else includes.
 *
 * The parser (public interface: parse.h) is split by job:
 *   parse.c           the driver: the pass over the lines, regions, the document
 *                     header, scene starts, the checks after the pass, the file API
 *   parse_mem.c       allocation: the arena of a document's strings, growable arrays,
 *                     the out-of-memory hook of the tests
 *   parse_text.c      bytes to text: UTF-16, sanitized UTF-8 copies, the encoding
 *                     check, line ends, columns
 *   parse_header.c    which lines are headings and scene headers, and reading them
 *   parse_family.c    scene headers of other forms (`**Scene 2: …**`, `## Part 2: …`):
 *                     warnings, or the scenes of a script without `## SCENE` ones
 *   parse_duration.c  numbers and durations: "(6 seconds)", "1:30", ranges, typos
 *   parse_fields.c    `Label: value` fields, quotes, and a scene block's members
 *   parse_script.c    the NARRATION SCRIPT section and its fallback narration
 *   parse_warn.c      recording warnings, the shared ones, and their final order
 *
 * Names: ex_* is public (parse.h); px_* is shared between these files only; the
 * small span helpers below are static inline, since the hot loops call them per byte.
 */
#ifndef EXPLAINER_PARSE_INTERNAL_H
#define EXPLAINER_PARSE_INTERNAL_H

#include "parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------ text helpers */

typedef struct span {
    const char *p;
    size_t n;
} span;

static inline span mkspan(const char *p, size_t n)
{
    span s = {p, n};
    return s;
}

static inline span span_between(const char *from, const char *to)
{
    return mkspan(from, (size_t)(to - from));
}

static inline bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static inline bool is_blank(unsigned char c) { return c == ' ' || c == '\t'; }

static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static inline bool is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline unsigned char at(span s, size_t i) { return (unsigned char)s.p[i]; }

static inline span trim(span s)
{
    while (s.n && is_space(at(s, 0))) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(at(s, s.n - 1)))
        s.n--;
    return s;
}

static inline span skip(span s, size_t k)
{
    return mkspan(s.p + k, s.n - k);
}

static inline size_t skip_blanks(span s, size_t i)
{
    while (i < s.n && is_blank(at(s, i)))
        i++;
    return i;
}

/* Does s at offset i start with the lowercase ASCII literal, ignoring case? */
static inline bool has_ci_at(span s, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    if (i > s.n || s.n - i < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (lower(at(s, i + k)) != (unsigned char)lit[k])
            return false;
    return true;
}

static inline bool eq_ci(span s, const char *lit) { return s.n == strlen(lit) && has_ci_at(s, 0, lit); }

static inline bool ends_ci(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && has_ci_at(s, s.n - n, lit);
}

/* Strip markdown bold markers from the ends of an already trimmed span. */
static inline span strip_bold_end(span s)
{
    while (s.n >= 2 && s.p[s.n - 1] == '*' && s.p[s.n - 2] == '*')
        s = trim(mkspan(s.p, s.n - 2));
    return s;
}

static inline span strip_bold_start(span s)
{
    while (s.n >= 2 && s.p[0] == '*' && s.p[1] == '*')
        s = trim(skip(s, 2));
    return s;
}

static inline span strip_bold(span s) { return strip_bold_start(strip_bold_end(trim(s))); }

/* If s ends with dashes (ASCII hyphens, en or em dashes: "-", "--", "—"), remove them. */
static inline bool strip_dash_end(span *s)
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

/* Length of the dash (ASCII hyphen, en dash, em dash) at s[i]; 0 when none. */
static inline size_t dash_at(span s, size_t i)
{
    if (i < s.n && s.p[i] == '-')
        return 1;
    if (has_ci_at(s, i, "\xE2\x80\x93") || has_ci_at(s, i, "\xE2\x80\x94"))
        return 3;
    return 0;
}

/* Length of the run of dashes at s[i] ("-", "--", "—", "-–"); 0 when none. */
static inline size_t dash_run(span s, size_t i)
{
    size_t k = i, d;
    while ((d = dash_at(s, k)) != 0)
        k += d;
    return k - i;
}

/* ---------------------------------------------------------------- memory */

typedef struct arena {
    struct chunk *head;
} arena;

/* A growable array of fixed-size items (malloc'd, doubling). */
typedef struct vec {
    void *items;
    size_t n, cap;
} vec;

void *px_malloc(size_t n);
void *px_realloc(void *p, size_t n);
void *px_arena_alloc(arena *a, size_t n);
void px_arena_free(arena *a);
void *px_vec_push(vec *v, size_t size);

/* ---------------------------------------------------------------- parser */

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
 * it is open, a line that looks like `Label:` is still part of the value. A value
 * whose quotes balance at the end of a line that ends with its closing quote has
 * ended: the lines after it are not part of it (docs/format.md).
 */
typedef struct quote_state {
    enum { Q_NOTHING_YET, Q_UNQUOTED, Q_STRAIGHT, Q_CURLY } kind;
    bool open;
    bool ended;        /* the last line fed closed the value with its last character */
    size_t depth;      /* curly quotes still open */
    long line, column; /* where the opening quote is */
    long end_line;     /* where it ended, when it has */
} quote_state;

/* Text after a quoted value that has ended, before the next label: its first line. */
typedef struct after_text {
    long line; /* 0: none */
    span text;
} after_text;

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

/* A scene made silent by its Narration (`Narration: None`), and that line. */
typedef struct silenced_scene {
    size_t scene; /* index in parser.scenes */
    long line;
} silenced_scene;

typedef struct pending_warning {
    long line, column;
    size_t seq;
    const char *rule;
    char *message;
} pending_warning;

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
    bool separated;    /* a ':' or dashes came after the number */
    const char *error; /* NULL when the header parses */
} scene_head;

/* The forms a scene header takes (docs/format.md): `## SCENE n: Title` always; in a
 * script without any, one of the others. */
enum header_family {
    HEADER_NONE,     /* `## SCENE n: Title`, or not a header */
    HEADER_SCENE,    /* `**Scene n: Title**`, `Scene n: Title` at column 0 */
    HEADER_PART,     /* `## Part n: Title` */
    HEADER_NUMBERED  /* `## n. Title` */
};

/* A line of another family that may be a scene header (parse_family.c). */
typedef struct header_candidate {
    long line;
    long number;
    enum header_family family;
    bool narrated; /* a narration label follows in its block, or its header says NO NARRATION */
    bool warned;   /* it has its scene-header warning already */
    bool chosen;   /* it is a scene's header */
    span text;     /* the line, for warnings */
} header_candidate;

/* The scene headers of a second pass: a script without `## SCENE` headers whose
 * first pass found a family of narrated ones. */
typedef struct header_plan {
    enum header_family family;
    long *lines; /* the header lines, in order (malloc'd) */
    size_t n;
} header_plan;

typedef struct parser {
    arena *strings;
    ex_document *doc;
    vec scenes;   /* ex_scene */
    vec warnings; /* pending_warning */
    vec fields;   /* pending_field of the open scene block */
    vec script;   /* script_entry */
    vec parts;    /* span, scratch for iterations */
    vec silenced; /* silenced_scene, in scene order */
    vec candidates;          /* header_candidate, in line order (parse_family.c) */
    bool candidate_open;     /* the last candidate's block is still being read */
    const header_plan *plan; /* the second pass's scene headers; NULL in the first */
    size_t next_planned;     /* the next of plan->lines */
    header_plan *replan;     /* the first pass's plan of a second, when it needs one */
    enum region region;
    bool field_open;
    pending_field field;
    quote_state field_quote; /* of the open field (kept here: fields are copied around) */
    bool field_blank_after;  /* a blank line since the open field's last line */
    after_text field_after;  /* text after the open field's quoted value */
    bool entry_open;
    script_entry entry;
    quote_state entry_quote;
    after_text entry_after;  /* text after the open entry's quoted value */
    bool seen_scene;
    bool total_seen;
    long title_line;
    bool oom;
} parser;


static inline bool quote_open(const quote_state *q) { return q->open; }

/* A line after a quoted value that has ended: the first is remembered for its warning. */
static inline void note_after(after_text *a, span line, long lineno)
{
    if (!a->line) {
        a->line = lineno;
        a->text = line;
    }
}

static inline ex_scene *current_scene(parser *p)
{
    return (ex_scene *)p->scenes.items + (p->scenes.n - 1);
}

/* parse_mem.c: n bytes of the document's arena; sets p->oom when there are none. */
void *px_alloc(parser *p, size_t n);

/* parse_text.c */
char *px_text_copy(parser *p, span s);
char *px_lit_copy(parser *p, const char *s);
char *px_member_copy(parser *p, span s);
void px_check_encoding(parser *p, const char *s, const char *end);
const char *px_line_end(const char *s, const char *end, const char **next_lf);
long px_column_at(span line, const char *pos);
bool px_is_separator(span line);

/* parse_duration.c */
bool px_parse_long(span s, size_t *i, long *out, bool *overflow);
bool px_total_duration(span s, double *out);
long px_trailing_group(span s);
int px_strip_duration(span *s, double *seconds, span *group);
bool px_title_part(span group);

/* parse_header.c */
int px_heading_level(span line);
span px_heading_text(span line);
int px_scene_like(span line, span *rest);
bool px_header_like(span rest);
bool px_bare_scene_header(span line);
scene_head px_parse_scene_head(span rest);
enum header_family px_other_header(span line, scene_head *h);

/* parse_family.c */
void px_candidate_end(parser *p);
void px_candidate_heading(parser *p, span line, long lineno);
void px_candidate_line(parser *p, span line, long lineno, bool warned);
bool px_planned_header(parser *p, span line, long lineno, scene_head *h);
void px_candidates_finish(parser *p);

/* parse_fields.c */
bool px_match_label(span line, span *label, const char **value_start);
enum field_kind px_field_kind(span label);
span px_value_of(span raw);
bool px_is_empty_single_quotes(span v);
bool px_is_silence(span raw);
bool px_is_placeholder(span s);
void px_quote_feed(quote_state *q, span text, span line, long lineno);
void px_close_field(parser *p);
void px_finish_scene(parser *p);
void px_scene_line(parser *p, span line, long lineno);

/* parse_script.c */
bool px_is_narration_script_heading(span text);
bool px_loose_script_heading(span line);
void px_close_entry(parser *p);
void px_script_line(parser *p, span line, long lineno);
void px_script_sort(parser *p);
bool px_script_has_entry(const parser *p, long number);
void px_narration_fallback(parser *p);

/* parse_warn.c */
void px_warn(parser *p, long line, long column, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
const char *px_excerpt(parser *p, span line);
void px_warn_unclosed(parser *p, const quote_state *q, const char *what, const char *ends);
void px_warn_after(parser *p, const after_text *a, const quote_state *q, const char *what,
                   const char *hint);
void px_warn_duration(parser *p, span line, long lineno, const scene_head *h);
void px_warnings_to_document(parser *p);

#endif
