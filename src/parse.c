/*
 * parse.c -- explainer script text -> document (the format is described in
 * docs/format.md); the driver of the parser's files (parse_internal.h lists them).
 *
 * One pass over the lines. A line is classified by its first bytes and handed to
 * the region it is in: the document header, a scene block (parse_fields.c), the
 * NARRATION SCRIPT section (parse_script.c) or anything else. A field is remembered
 * as a span of the source text and turned into strings when its scene block ends.
 * Every byte is therefore looked at a bounded number of times, which keeps the
 * parser linear whatever the input (a 1 MB line, 10,000 scenes). After the pass:
 * the scene-like lines of other forms (parse_family.c), the narration fallback,
 * duplicate numbers, the declared scene count, the total. A script without any
 * `## SCENE` header whose scenes are written `**Scene 2: …**`, `## Part 2: …` or
 * the like is read twice: the first pass finds which lines are its scene headers.
 *
 * Every string of a document lives in one arena that the document owns; the scene
 * and warning arrays are two more blocks. ex_document_free releases all three.
 */
#include "parse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ex_parse_file refuses bigger inputs rather than exhausting memory (/dev/zero). */
#define MAX_FILE_BYTES ((size_t)256 << 20)

/* A document is allocated together with the arena that holds its strings. Only
 * ex_parse creates documents, so ex_document_free can find the arena again. */
typedef struct doc_box {
    ex_document doc; /* first: a document pointer is a box pointer */
    arena strings;
} doc_box;

/* The current block or section ends at a heading. */
static void end_block(parser *p)
{
    if (p->region == IN_SCENE)
        px_finish_scene(p);
    px_close_entry(p);
    p->field_open = false;
}

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
    if (!digits || !px_parse_long(s, &i, count, &overflow))
        return false;
    span before = trim(mkspan(s.p, s.n - digits));
    if (!strip_dash_end(&before))
        return false;
    *title = strip_bold(before);
    return true;
}

static void title_line(parser *p, span line, long lineno)
{
    span text = px_heading_text(line), title = text;
    long count;
    p->title_line = lineno;
    if (strip_scene_count(text, &title, &count))
        p->doc->declared_scenes = count;
    p->doc->title = px_text_copy(p, title);
}

static void header_line(parser *p, span line)
{
    span label;
    const char *value;
    if (!px_match_label(line, &label, &value))
        return;
    ex_document *doc = p->doc;
    span raw = span_between(value, line.p + line.n);
    span v = px_value_of(raw);
    if (eq_ci(label, "total duration")) {
        double seconds;
        if (!p->total_seen && px_total_duration(raw, &seconds)) {
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
        *slot = px_text_copy(p, v);
}

/* A scene starts at its header's line. */
static void start_scene(parser *p, span line, const scene_head *h, long lineno)
{
    px_warn_duration(p, line, lineno, h);
    ex_scene *sc = px_vec_push(&p->scenes, sizeof *sc);
    if (!sc) {
        p->oom = true;
        return;
    }
    sc->number = h->number;
    sc->title = px_text_copy(p, h->title);
    sc->duration = h->duration;
    sc->line = lineno;
    sc->no_narration = h->no_narration;
    p->seen_scene = true;
    p->region = IN_SCENE;
    p->fields.n = 0;
}

static void on_scene_header(parser *p, span line, const scene_head *h, int level, long lineno)
{
    if (h->error || level != 2) {
        if (h->error)
            px_warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
                    "'%s' looks like a scene header but %s; it is not a scene",
                    px_excerpt(p, line), h->error);
        else
            px_warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
                    "'%s' is a level-%d heading; a scene header is '## SCENE n: Title'",
                    px_excerpt(p, line), level);
        p->region = p->seen_scene ? IN_OTHER : IN_HEADER;
        return;
    }
    start_scene(p, line, h, lineno);
}

static void handle_line(parser *p, span line, long lineno)
{
    scene_head h;
    const header_plan *plan = p->plan; /* a second pass's scene headers */
    if (plan && p->next_planned < plan->n && plan->lines[p->next_planned] == lineno &&
        px_planned_header(p, line, lineno, &h)) {
        end_block(p);
        start_scene(p, line, &h, lineno);
        return;
    }
    span rest;
    int level = px_scene_like(line, &rest);
    if (level) {
        /* A level-2 SCENE heading always ends the block, parsed or not; at
         * another level only one that would parse does (and gets a warning). */
        h = px_parse_scene_head(rest);
        if ((level == 2 && px_header_like(rest)) || !h.error) {
            end_block(p);
            px_candidate_end(p);
            on_scene_header(p, line, &h, level, lineno);
            return;
        }
    }
    level = px_heading_level(line);
    if (level == 1 || level == 2) {
        end_block(p);
        /* The document's title is its title, whatever it says ("# Narration
         * Script Basics"): not the start of a NARRATION SCRIPT section. */
        bool title = level == 1 && !p->seen_scene && !p->doc->title;
        if (title)
            title_line(p, line, lineno);
        if (!title && px_is_narration_script_heading(px_heading_text(line))) {
            p->region = IN_NARRATION_SCRIPT;
            px_candidate_end(p);
        } else {
            p->region = p->seen_scene ? IN_OTHER : IN_HEADER;
            px_candidate_heading(p, line, lineno);
        }
        return;
    }
    bool bare = p->region != IN_NARRATION_SCRIPT &&
                !(p->field_open && quote_open(&p->field_quote)) && px_bare_scene_header(line);
    if (bare)
        px_warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
                "'%s' looks like a scene header but is not a '## ' heading; it is not a "
                "scene",
                px_excerpt(p, line));
    else if (p->region != IN_NARRATION_SCRIPT && !(p->field_open && quote_open(&p->field_quote)) &&
             px_loose_script_heading(line))
        px_warn(p, lineno, 1, EX_RULE_SCENE_HEADER,
                "'%s' looks like a NARRATION SCRIPT heading but is not a '# ' or '## ' "
                "heading; the entries under it are not read (write '## NARRATION SCRIPT')",
                px_excerpt(p, line));
    /* `Scene 2: …` or `**Scene 2…`, or a line in the block of one (parse_family.c);
     * not a line inside a quote still open, which is that value's text. */
    if (line.n && (p->candidate_open || line.p[0] == '*' || (line.p[0] | 32) == 's') &&
        p->region != IN_NARRATION_SCRIPT &&
        !(p->field_open && quote_open(&p->field_quote) && !p->field_blank_after))
        px_candidate_line(p, line, lineno, bare);
    switch (p->region) {
    case IN_HEADER:
        header_line(p, line);
        break;
    case IN_SCENE:
        px_scene_line(p, line, lineno);
        break;
    case IN_NARRATION_SCRIPT:
        px_script_line(p, line, lineno);
        break;
    case IN_OTHER:
        break;
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
    numbered *v = px_malloc(n * sizeof *v);
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
        px_warn(p, v[i].line, 1, EX_RULE_DUPLICATE,
                "duplicate scene number %ld: lines %ld and %ld", v[i].number,
                v[first].line, v[i].line);
    }
    free(v);
}

static void finish_document(parser *p)
{
    ex_document *doc = p->doc;
    px_candidates_finish(p);
    px_narration_fallback(p);
    find_duplicates(p);
    if (doc->declared_scenes >= 0 && (size_t)doc->declared_scenes != p->scenes.n)
        px_warn(p, p->title_line, 1, EX_RULE_SCENE_COUNT,
                "the title declares %ld scenes but %zu were found", doc->declared_scenes,
                p->scenes.n);
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

    px_warnings_to_document(p);
}

/*
 * One pass over the text (`s` past any BOM). `plan`: the scene headers of a second
 * pass (NULL in the first); `replan`: where the first pass plans a second one, when
 * the script has no `## SCENE` header but another family of them (parse_family.c).
 * Returns NULL when memory runs out.
 */
static ex_document *parse_pass(const char *s, const char *end, const char *name,
                               const char *path, const header_plan *plan,
                               header_plan *replan)
{
    doc_box *box = px_malloc(sizeof *box);
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
    p->plan = plan;
    p->replan = replan;

    doc->name = px_lit_copy(p, name ? name : "script");
    if (path)
        doc->path = px_lit_copy(p, path);
    if (s)
        px_check_encoding(p, s, end);

    long lineno = 0;
    const char *next_lf = NULL; /* none found yet */
    while (s && s < end && !p->oom) {
        const char *eol = px_line_end(s, end, &next_lf);
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
    free(p->silenced.items);
    free(p->candidates.items);
    if (p->oom) {
        ex_document_free(doc);
        return NULL;
    }
    return doc;
}

ex_document *ex_parse(const char *text, size_t len, const char *name, const char *path)
{
    if (!text)
        len = 0;
    char *decoded = NULL;
    size_t decoded_len = 0;
    int utf16 = ex_utf16_to_utf8(text, len, &decoded, &decoded_len);
    if (utf16 < 0)
        return NULL;
    if (utf16 > 0) {
        text = decoded;
        len = decoded_len;
    }
    const char *s = text, *end = text ? text + len : NULL;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    header_plan plan = {0};
    ex_document *doc = parse_pass(s, end, name, path, NULL, &plan);
    if (doc && plan.n) { /* no `## SCENE` header, but a family of narrated others */
        ex_document_free(doc);
        doc = parse_pass(s, end, name, path, &plan, NULL);
    }
    free(plan.lines);
    free(decoded);
    return doc;
}

void ex_document_free(ex_document *doc)
{
    if (!doc)
        return;
    doc_box *box = (doc_box *)doc;
    free(doc->scenes);
    free(doc->warnings);
    px_arena_free(&box->strings);
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
    char *buf = px_malloc(cap);
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
            char *grown = px_realloc(buf, bigger);
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
    char *stem = px_malloc(stop - start + 1);
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
