/*
 * json_out.c -- a parsed document as JSON (see json_out.h).
 *
 * The parser hands out valid UTF-8 without NUL or CR, so a string needs only the
 * JSON escapes: quote, backslash and the other control characters. Runs of bytes
 * that need none are written with one fwrite each.
 */
#include "json_out.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Output goes through a buffer of our own: one fwrite per 64 KiB rather than
 * one locked stdio call per token. */
#define WRITER_BUFFER ((size_t)64 * 1024)

typedef struct writer {
    FILE *out;
    bool failed;
    size_t used;
    char buf[WRITER_BUFFER];
} writer;

static void flush(writer *w)
{
    if (w->used && fwrite(w->buf, 1, w->used, w->out) != w->used)
        w->failed = true;
    w->used = 0;
}

static void put(writer *w, const char *s, size_t n)
{
    if (n > WRITER_BUFFER - w->used) {
        flush(w);
        if (n >= WRITER_BUFFER) {
            if (fwrite(s, 1, n, w->out) != n)
                w->failed = true;
            return;
        }
    }
    memcpy(w->buf + w->used, s, n);
    w->used += n;
}

static void put_lit(writer *w, const char *s) { put(w, s, strlen(s)); }

/* 1 for the bytes a JSON string must escape. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
};

void ex_json_string(const char *s, void (*emit)(void *ctx, const char *p, size_t n),
                    void *ctx)
{
    if (!s) {
        emit(ctx, "null", 4);
        return;
    }
    emit(ctx, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        const unsigned char *run = p;
        while (*p && !needs_escape[*p])
            p++;
        if (p > run)
            emit(ctx, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        char esc[8];
        switch (*p) {
        case '"': emit(ctx, "\\\"", 2); break;
        case '\\': emit(ctx, "\\\\", 2); break;
        case '\n': emit(ctx, "\\n", 2); break;
        case '\t': emit(ctx, "\\t", 2); break;
        case '\r': emit(ctx, "\\r", 2); break;
        case '\b': emit(ctx, "\\b", 2); break;
        case '\f': emit(ctx, "\\f", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            emit(ctx, esc, 6);
        }
        p++;
    }
    emit(ctx, "\"", 1);
}

static void writer_put(void *w, const char *s, size_t n) { put(w, s, n); }

static void put_string(writer *w, const char *s) { ex_json_string(s, writer_put, w); }

static void put_key(writer *w, const char *key, bool first)
{
    if (!first)
        put(w, ",", 1);
    put(w, "\"", 1);
    put_lit(w, key);
    put(w, "\":", 2);
}

static void put_long(writer *w, long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld", v);
    put(w, buf, (size_t)n);
}

/* As lua-cjson writes a Lua number: %.14g, integers without a fraction. */
static void put_number(writer *w, double v)
{
    if (!isfinite(v)) {
        put_lit(w, "null");
        return;
    }
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.14g", v);
    put(w, buf, (size_t)n);
}

/* Fields become an object; a label written twice keeps its first value, as the
 * scene's own keys and the Lua table do. Small scenes compare labels pairwise;
 * big ones sort (label, index). */
typedef struct labelled {
    const char *label;
    size_t index;
} labelled;

static int by_label_then_index(const void *a, const void *b)
{
    const labelled *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    if (c)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

static bool earlier_label(const ex_scene *s, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(s->fields[k].label, s->fields[i].label) == 0)
            return true;
    return false;
}

static void put_fields(writer *w, const ex_scene *s)
{
    put(w, "{", 1);
    bool *shadowed = NULL;
    if (s->n_fields > 16) {
        labelled *order = malloc(s->n_fields * sizeof *order);
        shadowed = calloc(s->n_fields, sizeof *shadowed);
        if (!order || !shadowed) {
            free(order);
            free(shadowed);
            w->failed = true;
            errno = ENOMEM;
            return;
        }
        for (size_t i = 0; i < s->n_fields; i++) {
            order[i].label = s->fields[i].label;
            order[i].index = i;
        }
        qsort(order, s->n_fields, sizeof *order, by_label_then_index);
        for (size_t i = 0; i + 1 < s->n_fields; i++)
            if (strcmp(order[i].label, order[i + 1].label) == 0)
                shadowed[order[i + 1].index] = true;
        free(order);
    }
    bool first = true;
    for (size_t i = 0; i < s->n_fields; i++) {
        if (shadowed ? shadowed[i] : earlier_label(s, i))
            continue;
        if (!first)
            put(w, ",", 1);
        first = false;
        put_string(w, s->fields[i].label);
        put(w, ":", 1);
        put_string(w, s->fields[i].value ? s->fields[i].value : "");
    }
    free(shadowed);
    put(w, "}", 1);
}

static void put_scene(writer *w, const ex_scene *s)
{
    put_key(w, "scene_number", true);
    put_long(w, s->number);
    put_key(w, "title", false);
    put_string(w, s->title);
    put_key(w, "duration", false);
    put_number(w, s->duration);
    put_key(w, "line", false);
    put_long(w, s->line);
    put_key(w, "no_narration", false);
    put_lit(w, s->no_narration ? "true" : "false");
    put_key(w, "narration", false);
    put_string(w, s->narration);
    put_key(w, "layout", false);
    put_string(w, s->layout);
    put_key(w, "initial_prompt", false);
    put_string(w, s->initial_prompt);
    put_key(w, "iterations", false);
    put(w, "[", 1);
    for (size_t i = 0; i < s->n_iterations; i++) {
        if (i)
            put(w, ",", 1);
        put_string(w, s->iterations[i]);
    }
    put(w, "]", 1);
    put_key(w, "final_prompt", false);
    put_string(w, s->final_prompt);
    put_key(w, "animation_prompt", false);
    put_string(w, s->animation_prompt);
    put_key(w, "prompt", false);
    put_string(w, s->prompt);
    put_key(w, "fields", false);
    put_fields(w, s);
}

static int write_document(writer *w, const ex_document *doc)
{
    put(w, "{", 1);
    put_key(w, "name", true);
    put_string(w, doc->name);
    put_key(w, "path", false);
    put_string(w, doc->path);
    put_key(w, "title", false);
    put_string(w, doc->title);
    put_key(w, "declared_scenes", false);
    if (doc->declared_scenes >= 0)
        put_long(w, doc->declared_scenes);
    else
        put_lit(w, "null");
    put_key(w, "style", false);
    put_string(w, doc->style);
    put_key(w, "format", false);
    put_string(w, doc->format);
    put_key(w, "audience", false);
    put_string(w, doc->audience);
    put_key(w, "total_duration", false);
    put_number(w, doc->total_duration);
    put_key(w, "scenes", false);
    put(w, "[", 1);
    for (size_t i = 0; i < doc->n_scenes && !w->failed; i++) {
        put(w, i ? ",{" : "{", i ? 2 : 1);
        put_scene(w, &doc->scenes[i]);
        put(w, "}", 1);
    }
    put(w, "]", 1);
    put_key(w, "warnings", false);
    put(w, "[", 1);
    for (size_t i = 0; i < doc->n_warnings; i++) {
        put(w, i ? ",{" : "{", i ? 2 : 1);
        put_key(w, "line", true);
        put_long(w, doc->warnings[i].line);
        put_key(w, "column", false);
        put_long(w, doc->warnings[i].column);
        put_key(w, "rule", false);
        put_string(w, doc->warnings[i].rule);
        put_key(w, "message", false);
        put_string(w, doc->warnings[i].message);
        put(w, "}", 1);
    }
    put(w, "]}", 2);
    flush(w);
    return w->failed ? -1 : 0;
}

int ex_json_write(FILE *out, const ex_document *doc)
{
    writer *wp = malloc(sizeof *wp);
    if (!wp) {
        errno = ENOMEM;
        return -1;
    }
    wp->out = out;
    wp->failed = false;
    wp->used = 0;
    int status = write_document(wp, doc);
    free(wp);
    return status;
}
