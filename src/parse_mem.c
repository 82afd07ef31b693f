/*
 * parse_mem.c -- the parser's memory: every string of a document lives in one arena
 * that the document owns (freed at once by ex_document_free), the parser's lists
 * are growable arrays, and a test hook makes allocations fail on purpose so that
 * every out-of-memory path can be walked (ex_parse_fail_alloc_after).
 */
#include "parse_internal.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A block of the arena; big strings get one of their own. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} chunk;

#define ARENA_CHUNK ((size_t)64 * 1024)

static long fail_alloc_countdown = -1;

void ex_parse_fail_alloc_after(long n) { fail_alloc_countdown = n; }

static bool may_allocate(void)
{
    if (fail_alloc_countdown < 0)
        return true;
    if (fail_alloc_countdown == 0)
        return false;
    fail_alloc_countdown--;
    return true;
}

void *px_malloc(size_t n) { return may_allocate() ? malloc(n ? n : 1) : NULL; }

void *px_realloc(void *p, size_t n)
{
    return may_allocate() ? realloc(p, n ? n : 1) : NULL;
}

void *px_arena_alloc(arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    if (n > SIZE_MAX - sizeof(chunk) - align)
        return NULL;
    size_t need = (n + align - 1) & ~(align - 1);
    chunk *c = a->head;
    if (c && c->cap - c->used >= need) {
        void *p = c->data + c->used;
        c->used += need;
        return p;
    }
    if (need > ARENA_CHUNK / 4) {
        /* A big block gets a chunk of its own, kept behind the current one so
         * that the room left there is still used. */
        chunk *big = px_malloc(sizeof *big + need);
        if (!big)
            return NULL;
        big->used = big->cap = need;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            big->next = NULL;
            a->head = big;
        }
        return big->data;
    }
    chunk *fresh = px_malloc(sizeof *fresh + ARENA_CHUNK);
    if (!fresh)
        return NULL;
    fresh->next = c;
    fresh->cap = ARENA_CHUNK;
    fresh->used = need;
    a->head = fresh;
    return fresh->data;
}

void px_arena_free(arena *a)
{
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void *px_vec_push(vec *v, size_t size)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        if (cap > SIZE_MAX / size)
            return NULL;
        void *items = px_realloc(v->items, cap * size);
        if (!items)
            return NULL;
        v->items = items;
        v->cap = cap;
    }
    void *slot = (char *)v->items + v->n * size;
    memset(slot, 0, size);
    v->n++;
    return slot;
}

void *px_alloc(parser *p, size_t n)
{
    void *m = px_arena_alloc(p->strings, n);
    if (!m)
        p->oom = true;
    return m;
}
