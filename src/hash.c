/*
 * hash.c -- XXH3 hashes of bytes and of files.
 */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

uint64_t ex_hash_bytes(uint64_t h, const void *data, size_t len)
{
    return XXH3_64bits_withSeed(data, len, h);
}

static void to_hex(XXH128_hash_t h, char hex[33])
{
    snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

void ex_hash128_hex(const void *data, size_t len, char hex[33])
{
    to_hex(XXH3_128bits(data, len), hex);
}

int ex_hash_file_hex(const char *path, char hex[33])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_128bits_reset(&st);
    enum { BLOCK = 1 << 17 };
    char *block = malloc(BLOCK);
    int rc = block ? 0 : -1;
    while (rc == 0) {
        ssize_t n = read(fd, block, BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        else if (n == 0)
            break;
        else
            XXH3_128bits_update(&st, block, (size_t)n);
    }
    int saved = errno;
    free(block);
    close(fd);
    errno = saved;
    if (rc == 0)
        to_hex(XXH3_128bits_digest(&st), hex);
    return rc;
}
