/*
 * hash.c -- 64-bit FNV-1a over a scene's content fields.
 */
#include "hash.h"

#include <string.h>

uint64_t ex_hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* A tag byte and a length before each value, so that ("ab", "c") and ("a", "bc")
 * or an absent and an empty field hash differently. */
static uint64_t hash_field(uint64_t h, char tag, const char *value)
{
    h = ex_hash_bytes(h, &tag, 1);
    if (!value)
        return ex_hash_bytes(h, "\xff", 1);
    uint64_t len = strlen(value);
    h = ex_hash_bytes(h, &len, sizeof len);
    return ex_hash_bytes(h, value, (size_t)len);
}

uint64_t ex_scene_hash(const ex_scene *s)
{
    uint64_t h = EX_HASH_SEED;
    h = hash_field(h, 't', s->title);
    h = ex_hash_bytes(h, &s->duration, sizeof s->duration);
    unsigned char silent = s->no_narration ? 1 : 0;
    h = ex_hash_bytes(h, &silent, 1);
    h = hash_field(h, 'n', s->narration);
    h = hash_field(h, 'l', s->layout);
    h = hash_field(h, 'i', s->initial_prompt);
    for (size_t i = 0; i < s->n_iterations; i++)
        h = hash_field(h, 'r', s->iterations[i]);
    h = hash_field(h, 'f', s->final_prompt);
    h = hash_field(h, 'a', s->animation_prompt);
    h = hash_field(h, 'p', s->prompt);
    for (size_t i = 0; i < s->n_fields; i++) {
        h = hash_field(h, 'L', s->fields[i].label);
        h = hash_field(h, 'V', s->fields[i].value);
    }
    return h;
}
