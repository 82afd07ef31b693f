/*
 * hash.h -- 64-bit hashes (XXH3), and the input hash of a scene.
 *
 * The journal stores a scene's input hash so that a later run can tell whether
 * the scene changed since it was done. Not cryptographic: it only has to notice
 * edits, never resist an adversary.
 */
#ifndef EXPLAINER_HASH_H
#define EXPLAINER_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define EX_HASH_SEED UINT64_C(0xcbf29ce484222325)

/* XXH3 of the bytes with `h` as the seed (so hashes can be chained). */
uint64_t ex_hash_bytes(uint64_t h, const void *data, size_t len);

/* The scene's content: every parsed field except its number and line (moving a
 * scene in the file does not change what it produces). */
uint64_t ex_scene_hash(const ex_scene *scene);

#endif
