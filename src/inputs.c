/*
 * inputs.c -- a scene's key and parts (see inputs.h).
 */
#include "inputs.h"
#include "hash.h"
#include "util.h"

#include <inttypes.h>
#include <stdbool.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names go into the journal between ',' and ':': keep them to a safe set. */
static bool name_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-' || c == '/';
}

/*
 * The parts of a scene's inputs, fed one at a time to a sink: the key is a
 * hash over (name, value hash) pairs, the short form a text made only when
 * needed. Both see the same names, in the same order, from the same feeder.
 */
typedef struct sink {
    XXH3_state_t *key;   /* NULL: not hashing */
    ex_buf *parts;       /* NULL: not formatting */
} sink;

static void feed(sink *s, const char *prefix, const char *name, size_t name_len, uint64_t hash)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (s->key) {
        if (plen)
            XXH3_64bits_update(s->key, prefix, plen);
        XXH3_64bits_update(s->key, name, name_len);
        XXH3_64bits_update(s->key, "", 1);
        XXH3_64bits_update(s->key, &hash, sizeof hash);
    }
    if (s->parts) {
        ex_buf *b = s->parts;
        if (b->len)
            ex_buf_put(b, ",", 1);
        ex_buf_put(b, prefix, plen);
        size_t at = b->len;
        ex_buf_put(b, name, name_len);
        for (size_t i = 0; i < name_len && !b->failed; i++)
            if (!name_char_ok((unsigned char)b->data[at + i]))
                b->data[at + i] = '_';
        static const char hex[] = "0123456789abcdef";
        char h8[9] = {':'};
        for (int i = 0; i < 8; i++)
            h8[1 + i] = hex[(hash >> (60 - 4 * i)) & 15];
        ex_buf_put(b, h8, 9);
    }
}

static uint64_t hash_text(const char *s)
{
    /* Absent and empty differ. */
    return s ? ex_hash_bytes(EX_HASH_SEED, s, strlen(s)) : ~UINT64_C(0);
}

#define FEED(s, name, hash) feed(s, NULL, name, sizeof name - 1, hash)

static void feed_scene(sink *k, const ex_scene *s)
{
    FEED(k, "title", hash_text(s->title));
    FEED(k, "duration", ex_hash_bytes(EX_HASH_SEED, &s->duration, sizeof s->duration));
    uint64_t narration = hash_text(s->narration);
    FEED(k, "narration", s->no_narration ? narration ^ 1 : narration);
    FEED(k, "layout", hash_text(s->layout));
    FEED(k, "image_prompt", hash_text(s->initial_prompt));
    uint64_t it = ex_hash_bytes(EX_HASH_SEED, "iterations", 10);
    for (size_t i = 0; i < s->n_iterations; i++)
        it = ex_hash_bytes(it, s->iterations[i], strlen(s->iterations[i]) + 1);
    FEED(k, "iterations", it);
    FEED(k, "final_prompt", hash_text(s->final_prompt));
    FEED(k, "animation_prompt", hash_text(s->animation_prompt));
    FEED(k, "prompt", hash_text(s->prompt));
    for (size_t i = 0; i < s->n_fields; i++) {
        /* A repeated label: its position keeps the parts apart. */
        uint64_t h = ex_hash_bytes(hash_text(s->fields[i].value), &i, sizeof i);
        feed(k, "field/", s->fields[i].label, strlen(s->fields[i].label), h);
    }
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

static bool is_canonical(const char *text, size_t len)
{
    size_t start = 0, name_len;
    uint64_t h;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (!canonical_line(text + start, end - start, &name_len, &h))
            return false;
        start = end + 1;
    }
    return len > 0;
}

static void feed_lines(sink *k, const char *text, size_t len)
{
    if (!is_canonical(text, len)) {
        FEED(k, "inputs", ex_hash_bytes(EX_HASH_SEED, text, len));
        return;
    }
    size_t start = 0, name_len;
    uint64_t h;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        canonical_line(text + start, end - start, &name_len, &h);
        feed(k, NULL, text + start, name_len, h);
        start = end + 1;
    }
}

static uint64_t key_of(void (*fill)(sink *, const void *, size_t), const void *what, size_t len)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset_withSeed(&st, EX_HASH_SEED);
    sink k = {&st, NULL};
    fill(&k, what, len);
    return XXH3_64bits_digest(&st);
}

static void fill_scene(sink *k, const void *scene, size_t len)
{
    (void)len;
    feed_scene(k, scene);
}

static void fill_lines(sink *k, const void *text, size_t len)
{
    feed_lines(k, text, len);
}

void ex_inputs_of_scene(const ex_scene *scene, ex_inputs *out)
{
    out->key = key_of(fill_scene, scene, 0);
    out->parts = NULL;
}

void ex_inputs_of_lines(const char *text, size_t len, ex_inputs *out)
{
    /* A different seed path from a scene's own parts: switching to inputs()
     * (or back) is a change. */
    out->key = key_of(fill_lines, text, len) ^ UINT64_C(0x5bd1e9955bd1e995);
    out->parts = NULL;
}

int ex_inputs_parts(ex_inputs *in, const ex_scene *scene, const char *lines, size_t len)
{
    if (in->parts)
        return 0;
    ex_buf b = {0};
    sink k = {NULL, &b};
    if (lines)
        feed_lines(&k, lines, len);
    else if (scene)
        feed_scene(&k, scene);
    if (b.failed) {
        ex_buf_free(&b);
        return -1;
    }
    in->parts = b.data ? b.data : strdup("");
    return in->parts ? 0 : -1;
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

/* The names of `from`'s parts that differ from `other`'s: with only_missing,
 * those `other` lacks; otherwise those both have, with other hashes. Raw
 * fields or not. */
static void changed_names(name_list *l, const char *from, const char *other, bool fields,
                          bool only_missing)
{
    for (const char *p = from; p && *p;) {
        const char *colon = strchr(p, ':');
        if (!colon)
            return;
        size_t name_len = (size_t)(colon - p);
        const char *theirs = find_part(other, p, name_len);
        bool differs = only_missing ? !theirs
                                    : theirs && (hash_len(theirs) != hash_len(colon + 1) ||
                                                 memcmp(theirs, colon + 1, hash_len(theirs)) != 0);
        /* A nest of parts on one side and a single part of the same name on
         * the other (an image made by hand in place of one the recipe would
         * make): the single name says it. */
        const char *slash = memchr(p, '/', name_len);
        if (differs && !theirs && slash && find_part(other, p, (size_t)(slash - p)))
            differs = false;
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

/* Is the leaf of this part "recipe" (the version of what makes a file,
 * explainer.key)? */
static bool is_recipe(const char *name, size_t len)
{
    const char *leaf_name;
    size_t leaf_len;
    leaf(name, len, &leaf_name, &leaf_len);
    return leaf_len == 6 && memcmp(leaf_name, "recipe", 6) == 0;
}

/*
 * What changed, said as a person would: parts both sides have whose values
 * differ come first, and when there are any, they are the answer. Parts only
 * one side has follow from them (a narrated scene that takes a silent scene's
 * number gains a voice, a speed and a backend; its narration is what changed)
 * and are named only when nothing changed in place. A new version of a recipe
 * is named when it is all there is. Raw fields are named when no derived part
 * says it.
 */
char *ex_inputs_changed(const char *old_parts, const char *new_parts)
{
    if (!old_parts || !*old_parts || !new_parts)
        return NULL;
    name_list l = {0};
    for (int fields = 0; fields < 2 && l.n == 0; fields++) {
        changed_names(&l, new_parts, old_parts, fields, false);
        if (l.n > 0)
            break;
        changed_names(&l, new_parts, old_parts, fields, true);
        changed_names(&l, old_parts, new_parts, fields, true);
    }
    size_t kept = 0;
    for (size_t i = 0; i < l.n; i++)
        kept += !is_recipe(l.names[i], l.lens[i]);
    if (kept > 0 && kept < l.n) {
        size_t k = 0;
        for (size_t i = 0; i < l.n; i++)
            if (!is_recipe(l.names[i], l.lens[i])) {
                l.names[k] = l.names[i];
                l.lens[k++] = l.lens[i];
            }
        l.n = k;
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
