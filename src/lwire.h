/*
 * lwire.h -- a processor's return value across a worker's pipe.
 *
 * A processor in a worker process returns its value to the run as bytes.
 * Strings, numbers, booleans and tables of them travel; functions, userdata,
 * threads, nil values and cycles cannot (the same table twice is sent twice).
 */
#ifndef EXPLAINER_LWIRE_H
#define EXPLAINER_LWIRE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "util.h"

/* The value at idx as bytes in *out (the caller frees it). NULL, or a static
 * message saying why the value cannot travel ("it holds a function"). */
const char *ex_lua_wire(lua_State *L, int idx, ex_buf *out);

/* Push the value the bytes hold. false (nothing pushed) when they are bad. */
bool ex_lua_unwire(lua_State *L, const char *data, size_t len);

#endif
