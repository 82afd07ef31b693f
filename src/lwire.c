/*
 * lwire.c -- Lua values across a worker's pipe (see lwire.h).
 *
 * Format: 'T'/'F' booleans, 'i' int64, 'd' double, 's' u64 length + bytes,
 * '{' key value ... '}' tables.
 */
#include "lwire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define MAX_DEPTH 100


typedef struct wire {
    ex_buf buf;
    const char *error;    /* static message: why the value cannot travel */
} wire;

static void wire_put(wire *w, const void *data, size_t len)
{
    if (w->error)
        return;
    ex_buf_put(&w->buf, data, len);
    if (w->buf.failed)
        w->error = "out of memory";
}

static void wire_value(lua_State *L, int idx, wire *w, int seen, int depth)
{
    idx = lua_absindex(L, idx);
    char tag;
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        tag = lua_toboolean(L, idx) ? 'T' : 'F';
        wire_put(w, &tag, 1);
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            int64_t v = (int64_t)lua_tointeger(L, idx);
            wire_put(w, "i", 1);
            wire_put(w, &v, sizeof v);
        } else {
            double v = (double)lua_tonumber(L, idx);
            wire_put(w, "d", 1);
            wire_put(w, &v, sizeof v);
        }
        return;
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(L, idx, &len);
        uint64_t n = len;
        wire_put(w, "s", 1);
        wire_put(w, &n, sizeof n);
        wire_put(w, str, len);
        return;
    }
    case LUA_TTABLE:
        break;
    default:
        if (!w->error)
            w->error = lua_type(L, idx) == LUA_TFUNCTION ? "it holds a function"
                       : lua_type(L, idx) == LUA_TNIL   ? "it holds nil"
                                                         : "it holds a userdata or a thread";
        return;
    }
    if (depth > MAX_DEPTH) {
        w->error = "tables nested too deeply";
        return;
    }
    lua_pushvalue(L, idx);
    if (lua_rawget(L, seen) != LUA_TNIL) {
        lua_pop(L, 1);
        w->error = "a table contains itself (a cycle)";
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    luaL_checkstack(L, 4, "return value too deep");
    wire_put(w, "{", 1);
    lua_pushnil(L);
    while (!w->error && lua_next(L, idx) != 0) {
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER && kt != LUA_TBOOLEAN)
            w->error = "a table key is not a string, number or boolean";
        wire_value(L, -2, w, seen, depth + 1);
        wire_value(L, -1, w, seen, depth + 1);
        lua_pop(L, 1);
    }
    if (w->error)
        lua_pop(L, 1); /* the key lua_next left */
    wire_put(w, "}", 1);
    /* Only cycles are refused: the same table twice (a DAG) is sent twice. */
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, seen);
}

typedef struct unwire {
    const char *p, *end;
    bool bad;
} unwire;

static bool take(unwire *u, void *dst, size_t n)
{
    if (u->bad || (size_t)(u->end - u->p) < n) {
        u->bad = true;
        return false;
    }
    memcpy(dst, u->p, n);
    u->p += n;
    return true;
}

/* Pushes one value (nil when the bytes are bad). */
static void unwire_value(lua_State *L, unwire *u, int depth)
{
    char tag;
    if (depth > MAX_DEPTH + 1 || !take(u, &tag, 1)) {
        u->bad = true;
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, 4, "result too deep");
    switch (tag) {
    case 'T': lua_pushboolean(L, 1); return;
    case 'F': lua_pushboolean(L, 0); return;
    case 'i': {
        int64_t v = 0;
        take(u, &v, sizeof v);
        lua_pushinteger(L, (lua_Integer)v);
        return;
    }
    case 'd': {
        double v = 0;
        take(u, &v, sizeof v);
        lua_pushnumber(L, (lua_Number)v);
        return;
    }
    case 's': {
        uint64_t n = 0;
        if (!take(u, &n, sizeof n) || n > (uint64_t)(u->end - u->p)) {
            u->bad = true;
            lua_pushnil(L);
            return;
        }
        lua_pushlstring(L, u->p, (size_t)n);
        u->p += n;
        return;
    }
    case '{':
        lua_newtable(L);
        while (!u->bad && u->p < u->end && *u->p != '}') {
            unwire_value(L, u, depth + 1);
            unwire_value(L, u, depth + 1);
            if (lua_isnil(L, -2) || u->bad)
                lua_pop(L, 2);
            else
                lua_rawset(L, -3);
        }
        if (u->p < u->end && *u->p == '}')
            u->p++;
        else
            u->bad = true;
        return;
    default:
        u->bad = true;
        lua_pushnil(L);
    }
}


const char *ex_lua_wire(lua_State *L, int idx, ex_buf *out)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L); /* tables already on the way: cycles */
    wire w = {{0}, NULL};
    wire_value(L, idx, &w, lua_gettop(L), 0);
    lua_pop(L, 1);
    if (w.error) {
        ex_buf_free(&w.buf);
        return w.error;
    }
    *out = w.buf;
    return NULL;
}

bool ex_lua_unwire(lua_State *L, const char *data, size_t len)
{
    unwire u = {data, data + len, false};
    unwire_value(L, &u, 0);
    if (u.bad)
        lua_pop(L, 1);
    return !u.bad;
}
