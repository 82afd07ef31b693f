/*
 * lopt.h -- reading the fields of an options table, for the bindings.
 *
 * Each reader returns the default for an absent (nil) field and raises
 * "bad option 'KEY' (T expected, got U)" for a field of another type: a wrong
 * type is the caller's mistake. Values (ranges, names) are the C core's to
 * check, where they are used.
 */
#ifndef EXPLAINER_LOPT_H
#define EXPLAINER_LOPT_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* The string stays valid while the options table holds it. len may be NULL. */
const char *ex_opt_string(lua_State *L, int idx, const char *key, const char *def,
                          size_t *len);
lua_Number ex_opt_number(lua_State *L, int idx, const char *key, lua_Number def);
/* An integer (a float with an integral value counts). */
lua_Integer ex_opt_integer(lua_State *L, int idx, const char *key, lua_Integer def);
/* An integer that fits a C int: a larger one is "bad option 'KEY' (out of range)",
 * never cut to its low bits (4294967297 jobs would be 1). */
int ex_opt_int(lua_State *L, int idx, const char *key, int def);
bool ex_opt_boolean(lua_State *L, int idx, const char *key, bool def);

#endif
