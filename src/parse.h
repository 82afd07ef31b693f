/*
 * parse.h -- explainer script text -> document.
 *
 * Plain C, no Lua: the parser can be tested, fuzzed and benchmarked on its own.
 * A document owns every byte it points to; ex_document_free releases it all.
 */
#ifndef EXPLAINER_PARSE_H
#define EXPLAINER_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define EX_DEFAULT_SCENE_SECONDS 6.0

/* A `Label: value` field of a scene block, as written (label trimmed). */
typedef struct ex_field {
    char *label;
    char *value;
} ex_field;

typedef struct ex_scene {
    long number;             /* scene_number */
    char *title;             /* never NULL */
    double duration;         /* seconds; EX_DEFAULT_SCENE_SECONDS when absent */
    long line;               /* 1-based line of the header */
    bool no_narration;
    char *narration;         /* NULL when absent or NO NARRATION */
    char *layout;            /* bullet lines of Layout Design, as written */
    char *initial_prompt;
    char **iterations;       /* n_iterations strings, labels removed */
    size_t n_iterations;
    char *final_prompt;      /* NULL for a placeholder "[To be determined ...]" */
    char *animation_prompt;
    char *prompt;            /* the raw image-prompt block */
    ex_field *fields;        /* every field, known or not, in file order */
    size_t n_fields;
} ex_scene;

/*
 * A problem the parser saw. `rule` names its kind (a static string, one of the
 * EX_RULE_* below), so that a linter can sort, count or switch problems off.
 */
typedef struct ex_warning {
    long line;
    long column;             /* 1-based, in characters; 1 when the whole line is meant */
    const char *rule;
    char *message;
} ex_warning;

#define EX_RULE_SCENE_HEADER "scene-header"       /* a header that is not read as a scene */
#define EX_RULE_DURATION "duration"               /* unreadable, 0 s or over 10 minutes */
#define EX_RULE_DUPLICATE "duplicate-scene"       /* a scene number used twice */
#define EX_RULE_SCENE_COUNT "scene-count"         /* "- N SCENES" disagrees with the scenes */
#define EX_RULE_NO_NARRATION "no-narration"       /* a NO NARRATION scene with narration */
#define EX_RULE_UNCLOSED_QUOTE "unclosed-quote"   /* a quoted value whose quote never closes */
#define EX_RULE_FIELD_TEXT "field-text"           /* text after a quoted value that has ended */
#define EX_RULE_ENCODING "encoding"               /* text that is not what it claims to be */

typedef struct ex_document {
    char *name;              /* file stem: "examples/sample.txt" -> "sample" */
    char *path;              /* as given; NULL for parse_string without a path */
    char *title;             /* NULL when there is no level-1 heading */
    long declared_scenes;    /* -1 when absent */
    char *style, *format, *audience;  /* NULL when absent */
    double total_duration;   /* header value, else the sum of scene durations */
    bool total_duration_declared;
    ex_scene *scenes;
    size_t n_scenes;
    ex_warning *warnings;
    size_t n_warnings;
    bool has_duplicates;     /* a scene number appears twice (see warnings) */
} ex_document;

/*
 * Parse `len` bytes of `text` (need not be NUL-terminated; may hold any bytes).
 * `name` becomes doc->name (NULL -> "script"); `path` is copied into doc->path
 * (may be NULL). Returns NULL only when memory runs out.
 */
ex_document *ex_parse(const char *text, size_t len, const char *name,
                      const char *path);

/*
 * Read and parse a file. On success returns 0 and sets *out. On failure returns
 * -1 and sets *errmsg to a malloc'd one-line message naming the path and the
 * reason ("examples/x.txt: No such file or directory", "...: is a directory").
 */
int ex_parse_file(const char *path, ex_document **out, char **errmsg);

/*
 * UTF-16 text that starts with a byte-order mark (FF FE or FE FF) as UTF-8, without
 * the mark: *out is malloc'd and NUL-terminated, *out_len its length. A lone
 * surrogate or a trailing odd byte becomes U+FFFD. Returns 1 when it decoded, 0
 * when the text has no UTF-16 byte-order mark, -1 when memory ran out. ex_parse
 * calls it itself; it is public for tests and the fuzzer's properties.
 */
int ex_utf16_to_utf8(const char *text, size_t len, char **out, size_t *out_len);

/* The stem of a path: directory and last extension removed. malloc'd. */
char *ex_path_stem(const char *path);

/* Look up a field of a scene by label (exact match); NULL when absent. */
const char *ex_scene_field(const ex_scene *scene, const char *label);

/* Find a scene by number; NULL when absent (first match on duplicates). */
const ex_scene *ex_document_scene(const ex_document *doc, long number);

void ex_document_free(ex_document *doc);

/*
 * Testing aid (not for programs): make the parser's allocations fail once `n`
 * more have succeeded, so tests can walk every out-of-memory path; n < 0 turns
 * it off. Global and not thread-safe.
 */
void ex_parse_fail_alloc_after(long n);

#endif
