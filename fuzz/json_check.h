/*
 * json_check.h -- property 6 of the fuzzer: the JSON of a document (json_out.c)
 * is valid JSON whose values, decoded again, are the document's: every scene's
 * number, line, title, duration, no_narration, narration, prompts, iterations and
 * fields, and every warning. A small strict JSON reader (RFC 8259 syntax; string
 * escapes decoded to UTF-8) lives here for that purpose only.
 */
#ifndef EXPLAINER_FUZZ_JSON_CHECK_H
#define EXPLAINER_FUZZ_JSON_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "parse.h"

typedef enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ } jv_kind;

typedef struct jv {
    jv_kind kind;
    bool b;
    double num;
    char *str;          /* JV_STR: decoded, NUL-terminated */
    size_t len;         /* JV_STR: bytes */
    struct jv *items;   /* JV_ARR / JV_OBJ values */
    char **keys;        /* JV_OBJ */
    size_t n;
} jv;

typedef struct jreader {
    const char *p, *end;
    bool bad;
} jreader;

static void jv_free(jv *v)
{
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        jv_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

static void jr_ws(jreader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static void jr_utf8(prop_buf *b, unsigned cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) { o[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); n = 2; }
    else if (cp < 0x10000) { o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63)); o[2] = (char)(0x80 | (cp & 63)); n = 3; }
    else { o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63)); o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63)); n = 4; }
    prop_put(b, o, n);
}

static bool jr_hex4(jreader *r, unsigned *out)
{
    if (r->end - r->p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if ((c | 32) >= 'a' && (c | 32) <= 'f') v |= (unsigned)((c | 32) - 'a' + 10);
        else return false;
    }
    *out = v;
    return true;
}

static char *jr_string(jreader *r, size_t *len)
{
    prop_buf b = {0};
    prop_puts(&b, "");
    r->p++; /* the opening quote */
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20) {
            r->bad = true;
            break;
        }
        if (c != '\\') {
            prop_put(&b, r->p++, 1);
            continue;
        }
        if (++r->p >= r->end) {
            r->bad = true;
            break;
        }
        char e = *r->p++;
        unsigned cp;
        switch (e) {
        case '"': case '\\': case '/': prop_put(&b, &e, 1); break;
        case 'n': prop_put(&b, "\n", 1); break;
        case 't': prop_put(&b, "\t", 1); break;
        case 'r': prop_put(&b, "\r", 1); break;
        case 'b': prop_put(&b, "\b", 1); break;
        case 'f': prop_put(&b, "\f", 1); break;
        case 'u':
            if (!jr_hex4(r, &cp)) {
                r->bad = true;
                break;
            }
            jr_utf8(&b, cp); /* surrogates never occur: the parser's text is UTF-8 */
            break;
        default: r->bad = true;
        }
        if (r->bad)
            break;
    }
    if (r->p >= r->end)
        r->bad = true;
    else
        r->p++;
    *len = b.n;
    return b.p;
}

static void jr_value(jreader *r, jv *v, int depth);

static void jr_push(jv *v, size_t *cap)
{
    if (v->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        v->items = realloc(v->items, *cap * sizeof *v->items);
        if (v->kind == JV_OBJ)
            v->keys = realloc(v->keys, *cap * sizeof *v->keys);
        if (!v->items || (v->kind == JV_OBJ && !v->keys))
            abort();
    }
    memset(&v->items[v->n], 0, sizeof v->items[v->n]);
}

static void jr_container(jreader *r, jv *v, int depth)
{
    char close = *r->p == '[' ? ']' : '}';
    v->kind = close == ']' ? JV_ARR : JV_OBJ;
    r->p++;
    size_t cap = 0;
    jr_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return;
    }
    for (;;) {
        jr_push(v, &cap);
        if (v->kind == JV_OBJ) {
            jr_ws(r);
            size_t kl;
            if (r->p >= r->end || *r->p != '"') {
                r->bad = true;
                return;
            }
            v->keys[v->n] = jr_string(r, &kl);
            jr_ws(r);
            if (r->bad || r->p >= r->end || *r->p != ':') {
                free(v->keys[v->n]);
                r->bad = true;
                return;
            }
            r->p++;
        }
        jr_value(r, &v->items[v->n], depth + 1);
        v->n++;
        if (r->bad)
            return;
        jr_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return;
        }
        r->bad = true;
        return;
    }
}

static void jr_value(jreader *r, jv *v, int depth)
{
    jr_ws(r);
    if (r->p >= r->end || depth > 16) {
        r->bad = true;
        return;
    }
    char c = *r->p;
    if (c == '{' || c == '[') {
        jr_container(r, v, depth);
    } else if (c == '"') {
        v->kind = JV_STR;
        v->str = jr_string(r, &v->len);
    } else if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
        v->kind = JV_NULL;
        r->p += 4;
    } else if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
        v->kind = JV_BOOL;
        v->b = true;
        r->p += 4;
    } else if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
        v->kind = JV_BOOL;
        r->p += 5;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        /* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
        const char *s = r->p;
        if (*r->p == '-')
            r->p++;
        if (r->p < r->end && *r->p == '0')
            r->p++;
        else if (r->p < r->end && *r->p >= '1' && *r->p <= '9')
            while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
                r->p++;
        else
            r->bad = true;
        if (r->p < r->end && *r->p == '.') {
            const char *d = ++r->p;
            while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
                r->p++;
            if (r->p == d)
                r->bad = true;
        }
        if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
            r->p++;
            if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
                r->p++;
            const char *d = r->p;
            while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
                r->p++;
            if (r->p == d)
                r->bad = true;
        }
        char num[64];
        size_t n = (size_t)(r->p - s);
        if (n >= sizeof num) {
            r->bad = true;
            return;
        }
        memcpy(num, s, n);
        num[n] = '\0';
        v->kind = JV_NUM;
        v->num = strtod(num, NULL);
    } else {
        r->bad = true;
    }
}

static const jv *jv_get(const jv *obj, const char *key)
{
    if (!obj || obj->kind != JV_OBJ)
        return NULL;
    const jv *found = NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) {
            if (found)
                return NULL; /* duplicate keys: not what the writer promises */
            found = &obj->items[i];
        }
    return found;
}

/* Is v the string s (or null when s is NULL)? */
static bool jv_is(const jv *v, const char *s)
{
    if (!v)
        return false;
    if (!s)
        return v->kind == JV_NULL;
    return v->kind == JV_STR && v->len == strlen(s) && memcmp(v->str, s, v->len) == 0;
}

static bool jv_num_is(const jv *v, double x)
{
    return v && v->kind == JV_NUM && fabs(v->num - x) <= 1e-12 * fmax(1.0, fabs(x));
}

static const char *json_check_scene(const jv *o, const ex_scene *s)
{
    if (!jv_num_is(jv_get(o, "scene_number"), (double)s->number) ||
        !jv_num_is(jv_get(o, "line"), (double)s->line))
        return "JSON: scene_number or line differs";
    /* %.14g keeps 14 significant digits, as lua-cjson does */
    const jv *d = jv_get(o, "duration");
    if (!d || d->kind != JV_NUM || fabs(d->num - s->duration) > 1e-13 * fmax(1.0, s->duration))
        return "JSON: duration differs";
    const jv *nn = jv_get(o, "no_narration");
    if (!nn || nn->kind != JV_BOOL || nn->b != s->no_narration)
        return "JSON: no_narration differs";
    if (!jv_is(jv_get(o, "title"), s->title) || !jv_is(jv_get(o, "narration"), s->narration) ||
        !jv_is(jv_get(o, "layout"), s->layout) ||
        !jv_is(jv_get(o, "initial_prompt"), s->initial_prompt) ||
        !jv_is(jv_get(o, "final_prompt"), s->final_prompt) ||
        !jv_is(jv_get(o, "animation_prompt"), s->animation_prompt) ||
        !jv_is(jv_get(o, "prompt"), s->prompt))
        return "JSON: a scene string differs";
    const jv *it = jv_get(o, "iterations");
    if (!it || it->kind != JV_ARR || it->n != s->n_iterations)
        return "JSON: iterations differ";
    for (size_t i = 0; i < s->n_iterations; i++)
        if (!jv_is(&it->items[i], s->iterations[i]))
            return "JSON: an iteration differs";
    const jv *f = jv_get(o, "fields");
    if (!f || f->kind != JV_OBJ)
        return "JSON: fields is not an object";
    /* Each label once, with the value of its first occurrence (as the scene's
     * own keys and the Lua table). */
    size_t labels = 0;
    for (size_t i = 0; i < s->n_fields; i++) {
        bool earlier = false;
        for (size_t k = 0; k < i && !earlier; k++)
            earlier = strcmp(s->fields[k].label, s->fields[i].label) == 0;
        if (earlier)
            continue;
        labels++;
        if (!jv_is(jv_get(f, s->fields[i].label), s->fields[i].value))
            return "JSON: a field differs";
    }
    if (labels != f->n)
        return "JSON: the number of fields differs";
    return NULL;
}

static const char *ex_check_json(const ex_document *doc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        abort();
    int status = ex_json_write(mem, doc);
    if (fclose(mem) != 0 || status != 0)
        abort();
    jreader r = {text, text + len, false};
    jv root = {0};
    jr_value(&r, &root, 0);
    jr_ws(&r);
    const char *bad = NULL;
    if (r.bad || r.p != r.end)
        bad = "JSON: not valid JSON";
    if (!bad && (root.kind != JV_OBJ || !jv_is(jv_get(&root, "name"), doc->name) ||
                 !jv_is(jv_get(&root, "path"), doc->path) ||
                 !jv_is(jv_get(&root, "title"), doc->title) ||
                 !jv_is(jv_get(&root, "style"), doc->style) ||
                 !jv_is(jv_get(&root, "format"), doc->format) ||
                 !jv_is(jv_get(&root, "audience"), doc->audience)))
        bad = "JSON: a document string differs";
    if (!bad) {
        const jv *ds = jv_get(&root, "declared_scenes");
        if (doc->declared_scenes >= 0 ? !jv_num_is(ds, (double)doc->declared_scenes)
                                      : !(ds && ds->kind == JV_NULL))
            bad = "JSON: declared_scenes differs";
    }
    const jv *scenes = bad ? NULL : jv_get(&root, "scenes");
    if (!bad && (!scenes || scenes->kind != JV_ARR || scenes->n != doc->n_scenes))
        bad = "JSON: scenes differ";
    for (size_t i = 0; !bad && i < doc->n_scenes; i++)
        bad = json_check_scene(&scenes->items[i], &doc->scenes[i]);
    const jv *warnings = bad ? NULL : jv_get(&root, "warnings");
    if (!bad && (!warnings || warnings->kind != JV_ARR || warnings->n != doc->n_warnings))
        bad = "JSON: warnings differ";
    for (size_t i = 0; !bad && i < doc->n_warnings; i++)
        if (!jv_num_is(jv_get(&warnings->items[i], "line"), (double)doc->warnings[i].line) ||
            !jv_num_is(jv_get(&warnings->items[i], "column"), (double)doc->warnings[i].column) ||
            !jv_is(jv_get(&warnings->items[i], "rule"), doc->warnings[i].rule) ||
            !jv_is(jv_get(&warnings->items[i], "message"), doc->warnings[i].message))
            bad = "JSON: a warning differs";
    jv_free(&root);
    free(text);
    return bad;
}

#endif
