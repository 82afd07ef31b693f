/*
 * hash.h -- hashes (XXH3, from Debian's libxxhash).
 *
 * Not cryptographic: they only have to notice edits and tell outputs apart,
 * never resist an adversary. 64 bits for the journal's scene keys, 128 bits
 * for the keys of files, which name entries of a cache shared by every script.
 */
#ifndef EXPLAINER_HASH_H
#define EXPLAINER_HASH_H

#include <stddef.h>
#include <stdint.h>

#define EX_HASH_SEED UINT64_C(0xcbf29ce484222325)

/* XXH3 of the bytes with `h` as the seed (so hashes can be chained). */
uint64_t ex_hash_bytes(uint64_t h, const void *data, size_t len);

/* XXH3-128 of the bytes as 32 lower-case hex digits and a NUL. */
void ex_hash128_hex(const void *data, size_t len, char hex[33]);

/* XXH3-128 of a file's bytes, read in blocks. 0, or -1 with errno. */
int ex_hash_file_hex(const char *path, char hex[33]);

#endif
