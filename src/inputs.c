/*
 * inputs.c -- a scene's key and parts (see inputs.h).
 */
#include "inputs.h"
#include "hash.h"
#include "util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names go into the journal between ',' and ':': keep them to a safe set. */
static void put_name(ex_buf *b, const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '/';
        char out = ok ? (char)c : '_';
        ex_buf_put(b, &out, 1);
    }
}

static void add_part(ex_buf *lines, ex_buf *parts, const char *name, size_t name_len,
                     uint64_t hash)
{
    put_name(lines, name, name_len);
    ex_buf_printf(lines, ":%016" PRIx64 "\n", hash);
    if (parts->len)
        ex_buf_put(parts, ",", 1);
    put_name(parts, name, name_len);
    ex_buf_printf(parts, ":%08" PRIx32, (uint32_t)(hash >> 32));
}

static uint64_t hash_text(const char *s)
{
    /* Absent and empty differ. */
    return s ? ex_hash_bytes(EX_HASH_SEED, s, strlen(s)) : ~UINT64_C(0);
}

static int finish(ex_buf *lines, ex_buf *parts, ex_inputs *out)
{
    if (lines->failed || parts->failed) {
        ex_buf_free(lines);
        ex_buf_free(parts);
        return -1;
    }
    out->key = ex_hash_bytes(EX_HASH_SEED, lines->data ? lines->data : "", lines->len);
    out->parts = parts->data ? parts->data : strdup("");
    ex_buf_free(lines);
    return out->parts ? 0 : -1;
}

int ex_inputs_of_scene(const ex_scene *s, ex_inputs *out)
{
    ex_buf lines = {0}, parts = {0};
    char number[64];
    add_part(&lines, &parts, "title", 5, hash_text(s->title));
    snprintf(number, sizeof number, "%.17g", s->duration);
    add_part(&lines, &parts, "duration", 8, hash_text(number));
    uint64_t narration = hash_text(s->narration);
    add_part(&lines, &parts, "narration", 9, s->no_narration ? narration ^ 1 : narration);
    add_part(&lines, &parts, "layout", 6, hash_text(s->layout));
    add_part(&lines, &parts, "image_prompt", 12, hash_text(s->initial_prompt));
    uint64_t it = ex_hash_bytes(EX_HASH_SEED, "iterations", 10);
    for (size_t i = 0; i < s->n_iterations; i++)
        it = ex_hash_bytes(it, s->iterations[i], strlen(s->iterations[i]) + 1);
    add_part(&lines, &parts, "iterations", 10, it);
    add_part(&lines, &parts, "final_prompt", 12, hash_text(s->final_prompt));
    add_part(&lines, &parts, "animation_prompt", 16, hash_text(s->animation_prompt));
    add_part(&lines, &parts, "prompt", 6, hash_text(s->prompt));
    for (size_t i = 0; i < s->n_fields; i++) {
        char *name = ex_format("field/%s", s->fields[i].label);
        if (!name) {
            lines.failed = true;
            break;
        }
        /* A repeated label: its position keeps the parts apart. */
        uint64_t h = ex_hash_bytes(hash_text(s->fields[i].value), &i, sizeof i);
        add_part(&lines, &parts, name, strlen(name), h);
        free(name);
    }
    return finish(&lines, &parts, out);
}

/* "name:<16 hex>" */
static bool canonical_line(const char *line, size_t len, size_t *name_len, uint64_t *hash)
{
    if (len < 18 || line[len - 17] != ':')
        return false;
    *name_len = len - 17;
    uint64_t h = 0;
    for (size_t i = len - 16; i < len; i++) {
        char c = line[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        h = h << 4 | (uint64_t)d;
    }
    *hash = h;
    return true;
}

int ex_inputs_of_lines(const char *text, size_t len, ex_inputs *out)
{
    ex_buf lines = {0}, parts = {0};
    size_t start = 0;
    bool canonical = len > 0;
    while (canonical && start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t name_len;
        uint64_t h;
        if (!canonical_line(text + start, end - start, &name_len, &h))
            canonical = false;
        else
            add_part(&lines, &parts, text + start, name_len, h);
        start = end + 1;
    }
    if (!canonical) {
        ex_buf_free(&lines);
        ex_buf_free(&parts);
        add_part(&lines, &parts, "inputs", 6, ex_hash_bytes(EX_HASH_SEED, text, len));
    }
    return finish(&lines, &parts, out);
}

void ex_inputs_free(ex_inputs *in)
{
    free(in->parts);
    in->parts = NULL;
}

/* The hash8 of `name` in a short form, or NULL when absent. */
static const char *find_part(const char *parts, const char *name, size_t name_len)
{
    for (const char *p = parts; p && *p;) {
        const char *colon = strchr(p, ':');
        if (!colon)
            return NULL;
        if ((size_t)(colon - p) == name_len && memcmp(p, name, name_len) == 0)
            return colon + 1;
        p = strchr(colon, ',');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

static size_t hash_len(const char *h)
{
    return strcspn(h, ",");
}

typedef struct name_list {
    const char **names;
    size_t *lens;
    size_t n, cap;
    bool failed;
} name_list;

static void add_name(name_list *l, const char *name, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        const char **names = realloc(l->names, cap * sizeof *names);
        if (names)
            l->names = names;
        size_t *lens = names ? realloc(l->lens, cap * sizeof *lens) : NULL;
        if (!names || !lens) {
            l->failed = true;
            return;
        }
        l->lens = lens;
        l->cap = cap;
    }
    l->names[l->n] = name;
    l->lens[l->n++] = len;
}

static bool is_field(const char *name, size_t len)
{
    return len > 6 && memcmp(name, "field/", 6) == 0;
}

/* The names of `from`'s parts that differ from `other`'s (or, on the way
 * back, that `other` lacks), raw fields or not. */
static void changed_names(name_list *l, const char *from, const char *other, bool fields,
                          bool only_missing)
{
    for (const char *p = from; p && *p;) {
        const char *colon = strchr(p, ':');
        if (!colon)
            return;
        size_t name_len = (size_t)(colon - p);
        const char *theirs = find_part(other, p, name_len);
        bool differs = !theirs || hash_len(theirs) != hash_len(colon + 1) ||
                       memcmp(theirs, colon + 1, hash_len(theirs)) != 0;
        if (only_missing)
            differs = !theirs;
        if (differs && is_field(p, name_len) == fields)
            add_name(l, p, name_len);
        p = strchr(colon, ',');
        p = p ? p + 1 : NULL;
    }
}

/* A part's name for people: the last component ("narration.mp3/voice" is
 * "voice"), a raw field by its label; the whole name where two changed
 * parts would read the same. */
static void leaf(const char *name, size_t len, const char **out, size_t *out_len)
{
    size_t i = len;
    while (i > 0 && name[i - 1] != '/')
        i--;
    *out = name + i;
    *out_len = len - i;
}

char *ex_inputs_changed(const char *old_parts, const char *new_parts)
{
    if (!old_parts || !*old_parts || !new_parts)
        return NULL;
    name_list l = {0};
    for (int fields = 0; fields < 2 && l.n == 0; fields++) {
        changed_names(&l, new_parts, old_parts, fields, false);
        changed_names(&l, old_parts, new_parts, fields, true);
    }
    ex_buf b = {0};
    for (size_t i = 0; i < l.n && !l.failed; i++) {
        const char *name, *other;
        size_t len, other_len;
        leaf(l.names[i], l.lens[i], &name, &len);
        bool ambiguous = false;
        for (size_t j = 0; j < l.n; j++) {
            leaf(l.names[j], l.lens[j], &other, &other_len);
            ambiguous |= j != i && other_len == len && memcmp(other, name, len) == 0;
        }
        if (ambiguous && !is_field(l.names[i], l.lens[i]))
            name = l.names[i], len = l.lens[i];
        if (b.len)
            ex_buf_put(&b, ", ", 2);
        ex_buf_put(&b, name, len);
    }
    bool failed = l.failed || b.failed;
    free(l.names);
    free(l.lens);
    if (failed) {
        ex_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}
