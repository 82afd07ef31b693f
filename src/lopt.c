/*
 * lopt.c -- options-table readers shared by the bindings (see lopt.h).
 */
#include "lopt.h"

#include <limits.h>
#include <string.h>

#include <lauxlib.h>

static int get(lua_State *L, int idx, const char *key, int want)
{
    int t = lua_getfield(L, idx, key);
    if (t != want && t != LUA_TNIL)
        luaL_error(L, "bad option '%s' (%s expected, got %s)", key, lua_typename(L, want),
                   luaL_typename(L, -1));
    return t;
}

const char *ex_opt_string(lua_State *L, int idx, const char *key, const char *def,
                          size_t *len)
{
    const char *value = def;
    if (len)
        *len = def ? strlen(def) : 0;
    if (get(L, idx, key, LUA_TSTRING) == LUA_TSTRING)
        value = lua_tolstring(L, -1, len);
    lua_pop(L, 1);
    return value;
}

lua_Number ex_opt_number(lua_State *L, int idx, const char *key, lua_Number def)
{
    lua_Number value = def;
    if (get(L, idx, key, LUA_TNUMBER) == LUA_TNUMBER)
        value = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return value;
}

lua_Integer ex_opt_integer(lua_State *L, int idx, const char *key, lua_Integer def)
{
    lua_Integer value = def;
    if (get(L, idx, key, LUA_TNUMBER) == LUA_TNUMBER) {
        int isint;
        value = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "bad option '%s' (integer expected, got %f)", key,
                       (double)lua_tonumber(L, -1));
    }
    lua_pop(L, 1);
    return value;
}

int ex_opt_int(lua_State *L, int idx, const char *key, int def)
{
    lua_Integer value = ex_opt_integer(L, idx, key, def);
    if (value < INT_MIN || value > INT_MAX)
        luaL_error(L, "bad option '%s' (out of range: %I)", key, value);
    return (int)value;
}

bool ex_opt_boolean(lua_State *L, int idx, const char *key, bool def)
{
    bool value = def;
    if (get(L, idx, key, LUA_TBOOLEAN) == LUA_TBOOLEAN)
        value = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return value;
}
