/*
 * hash.c -- a scene's input hash (XXH3 from Debian's libxxhash).
 */
#include "hash.h"

#include <string.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

uint64_t ex_hash_bytes(uint64_t h, const void *data, size_t len)
{
    return XXH3_64bits_withSeed(data, len, h);
}

/* A tag byte and a length before each value, so that ("ab", "c") and ("a", "bc")
 * or an absent and an empty field hash differently. */
static void hash_field(XXH3_state_t *st, char tag, const char *value)
{
    XXH3_64bits_update(st, &tag, 1);
    if (!value) {
        XXH3_64bits_update(st, "\xff", 1);
        return;
    }
    uint64_t len = strlen(value);
    XXH3_64bits_update(st, &len, sizeof len);
    XXH3_64bits_update(st, value, (size_t)len);
}

uint64_t ex_scene_hash(const ex_scene *s)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset_withSeed(&st, EX_HASH_SEED);
    hash_field(&st, 't', s->title);
    XXH3_64bits_update(&st, &s->duration, sizeof s->duration);
    unsigned char silent = s->no_narration ? 1 : 0;
    XXH3_64bits_update(&st, &silent, 1);
    hash_field(&st, 'n', s->narration);
    hash_field(&st, 'l', s->layout);
    hash_field(&st, 'i', s->initial_prompt);
    for (size_t i = 0; i < s->n_iterations; i++)
        hash_field(&st, 'r', s->iterations[i]);
    hash_field(&st, 'f', s->final_prompt);
    hash_field(&st, 'a', s->animation_prompt);
    hash_field(&st, 'p', s->prompt);
    for (size_t i = 0; i < s->n_fields; i++) {
        hash_field(&st, 'L', s->fields[i].label);
        hash_field(&st, 'V', s->fields[i].value);
    }
    return XXH3_64bits_digest(&st);
}
