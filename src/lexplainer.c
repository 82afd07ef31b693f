/*
 * lexplainer.c -- the Lua binding: converts between the C core's structs and
 * Lua tables. Loaded as `explainer_core` (build/explainer_core.so, or preloaded
 * by the host). Recoverable failures return nil, message; wrong arguments raise.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lexec.h"
#include "ljson_out.h"
#include "lexplainer.h"
#include "orchestrate.h"
#include "parse.h"
#include "report.h"

#define DOCUMENT_MT "explainer.Document"

/* ---- document -> tables -------------------------------------------------- */

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

static void push_scene(lua_State *L, const ex_scene *s)
{
    lua_createtable(L, 0, 16);
    lua_pushinteger(L, s->number);
    lua_setfield(L, -2, "scene_number");
    set_string(L, "title", s->title);
    lua_pushnumber(L, s->duration);
    lua_setfield(L, -2, "duration");
    lua_pushinteger(L, s->line);
    lua_setfield(L, -2, "line");
    lua_pushboolean(L, s->no_narration);
    lua_setfield(L, -2, "no_narration");
    set_string(L, "narration", s->narration);
    set_string(L, "layout", s->layout);
    set_string(L, "initial_prompt", s->initial_prompt);
    lua_createtable(L, (int)s->n_iterations, 0);
    for (size_t i = 0; i < s->n_iterations; i++) {
        lua_pushstring(L, s->iterations[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "iterations");
    set_string(L, "final_prompt", s->final_prompt);
    set_string(L, "animation_prompt", s->animation_prompt);
    set_string(L, "prompt", s->prompt);
    lua_createtable(L, 0, (int)s->n_fields);
    for (size_t i = 0; i < s->n_fields; i++) {
        /* A repeated label: the first one wins, as for the scene's own keys. */
        if (lua_getfield(L, -1, s->fields[i].label) != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushstring(L, s->fields[i].value ? s->fields[i].value : "");
        lua_setfield(L, -2, s->fields[i].label);
    }
    lua_setfield(L, -2, "fields");
}

/* Scenes built on first access: the list's __index (upvalue 1: the Document
 * userdata, which it keeps alive) and __len. */
static int lazy_scene(lua_State *L)
{
    const ex_document *doc = *(ex_document **)lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer i = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 0;
    if (!doc || i < 1 || (lua_Unsigned)i > doc->n_scenes)
        return 0;
    /* Not cached: each processor call gets a fresh table, and a long run does
     * not accumulate a Lua copy of every scene (peak memory). */
    push_scene(L, &doc->scenes[i - 1]);
    return 1;
}

static int lazy_len(lua_State *L)
{
    const ex_document *doc = *(ex_document **)lua_touserdata(L, lua_upvalueindex(1));
    lua_pushinteger(L, doc ? (lua_Integer)doc->n_scenes : 0);
    return 1;
}

/*
 * The document as a table. With lazy_box (the stack index of its Document
 * userdata, or 0), a scene table is made each time it is indexed: a rerun
 * where every scene is skipped builds none of them. Only for tables that no
 * user code sees (pairs/next would find no scenes): the binding's own run
 * without hooks, and the command line's summary.
 */
static void push_document(lua_State *L, const ex_document *doc, int lazy_box)
{
    lua_createtable(L, 0, 12);
    set_string(L, "name", doc->name);
    set_string(L, "path", doc->path);
    set_string(L, "title", doc->title);
    if (doc->declared_scenes >= 0) {
        lua_pushinteger(L, doc->declared_scenes);
        lua_setfield(L, -2, "declared_scenes");
    }
    set_string(L, "style", doc->style);
    set_string(L, "format", doc->format);
    set_string(L, "audience", doc->audience);
    lua_pushnumber(L, doc->total_duration);
    lua_setfield(L, -2, "total_duration");
    if (lazy_box) {
        lua_createtable(L, 0, 0);
        lua_createtable(L, 0, 2);
        lua_pushvalue(L, lazy_box);
        lua_pushcclosure(L, lazy_scene, 1);
        lua_setfield(L, -2, "__index");
        lua_pushvalue(L, lazy_box);
        lua_pushcclosure(L, lazy_len, 1);
        lua_setfield(L, -2, "__len");
        lua_setmetatable(L, -2);
    } else {
        lua_createtable(L, (int)doc->n_scenes, 0);
        for (size_t i = 0; i < doc->n_scenes; i++) {
            push_scene(L, &doc->scenes[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    lua_setfield(L, -2, "scenes");
    lua_createtable(L, (int)doc->n_warnings, 0);
    for (size_t i = 0; i < doc->n_warnings; i++) {
        lua_createtable(L, 0, 4);
        lua_pushinteger(L, doc->warnings[i].line);
        lua_setfield(L, -2, "line");
        lua_pushinteger(L, doc->warnings[i].column);
        lua_setfield(L, -2, "column");
        set_string(L, "rule", doc->warnings[i].rule);
        lua_pushstring(L, doc->warnings[i].message);
        lua_setfield(L, -2, "message");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "warnings");
}

/* ---- the Document userdata ------------------------------------------------ */

typedef struct document_box {
    ex_document *doc;
} document_box;

static ex_document *check_document(lua_State *L, int arg)
{
    document_box *box = luaL_checkudata(L, arg, DOCUMENT_MT);
    if (!box->doc)
        luaL_argerror(L, arg, "document is closed");
    return box->doc;
}

static document_box *new_box(lua_State *L)
{
    document_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->doc = NULL;
    luaL_setmetatable(L, DOCUMENT_MT);
    return box;
}

static int document_gc(lua_State *L)
{
    document_box *box = luaL_checkudata(L, 1, DOCUMENT_MT);
    ex_document_free(box->doc);
    box->doc = NULL;
    return 0;
}

/* doc:table([lazy]) */
static int document_table(lua_State *L)
{
    const ex_document *doc = check_document(L, 1);
    push_document(L, doc, lua_toboolean(L, 2) ? 1 : 0);
    return 1;
}

/* core.open(path) -> Document | nil, message */
static int l_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    document_box *box = new_box(L);
    char *err = NULL;
    if (ex_parse_file(path, &box->doc, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err ? err : "cannot read file");
        free(err);
        return 2;
    }
    return 1;
}

/* core.open_string(text [, name [, path]]) -> Document */
static int l_open_string(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, NULL);
    const char *path = luaL_optstring(L, 3, NULL);
    document_box *box = new_box(L);
    box->doc = ex_parse(text, len, name, path);
    if (!box->doc)
        return luaL_error(L, "out of memory");
    return 1;
}

/* core.parse(path) -> table | nil, message */
static int l_parse(lua_State *L)
{
    int n = l_open(L);
    if (n != 1)
        return n;
    document_box *box = lua_touserdata(L, -1);
    push_document(L, box->doc, 0);
    ex_document_free(box->doc);
    box->doc = NULL;
    return 1;
}

/* core.parse_string(text [, name]) -> table */
static int l_parse_string(lua_State *L)
{
    lua_settop(L, 2);
    l_open_string(L);
    document_box *box = lua_touserdata(L, -1);
    push_document(L, box->doc, 0);
    ex_document_free(box->doc);
    box->doc = NULL;
    return 1;
}

/* ---- orchestration -------------------------------------------------------- */

typedef struct run_ctx {
    lua_State *L;
    int fn;         /* stack index of process_scene */
    int scenes;     /* stack index of the document table's scenes */
    int results;    /* stack index of the results table */
    const ex_document *doc;
} run_ctx;

static char *dup_string(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The message of a Lua error value: a string, a table with .message, or
 * whatever tostring makes of it. */
/* Pushes the value at idx as compact Lua source: {code=429, "x", [2.5]={...}}.
 * Long or deep tables are cut with "..." so that an error stays one readable line. */
static void push_repr(lua_State *L, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 30, "error value too large");
    int type = lua_type(L, idx);
    if (type == LUA_TSTRING) {
        lua_pushfstring(L, "\"%s\"", lua_tostring(L, idx));
        return;
    }
    if (type == LUA_TNUMBER || type == LUA_TBOOLEAN) {
        luaL_tolstring(L, idx, NULL);
        return;
    }
    if (type != LUA_TTABLE) {
        lua_pushstring(L, luaL_typename(L, idx));
        return;
    }
    if (depth >= 3) {
        lua_pushliteral(L, "{...}");
        return;
    }
    int base = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    int shown = 0;
    lua_pushliteral(L, "{");
    lua_pushnil(L);
    while (lua_next(L, idx)) { /* ..., pieces, key, value */
        if (shown == 8) {
            lua_pop(L, 2);
            lua_pushliteral(L, ", ...");
            break;
        }
        int value = lua_gettop(L), key = value - 1;
        if (shown++)
            lua_pushliteral(L, ", ");
        if (!(lua_isinteger(L, key) && lua_tointeger(L, key) >= 1 && lua_tointeger(L, key) <= n)) {
            const char *name = lua_type(L, key) == LUA_TSTRING ? lua_tostring(L, key) : NULL;
            bool plain = name && *name && !(*name >= '0' && *name <= '9');
            for (const char *c = name; plain && *c; c++)
                plain = *c == '_' || ((*c | 32) >= 'a' && (*c | 32) <= 'z') ||
                        (*c >= '0' && *c <= '9');
            if (plain) {
                lua_pushvalue(L, key);
            } else {
                lua_pushliteral(L, "[");
                push_repr(L, key, depth + 1);
                lua_pushliteral(L, "]");
            }
            lua_pushliteral(L, "=");
        }
        push_repr(L, value, depth + 1);
        lua_concat(L, lua_gettop(L) - value); /* one piece */
        lua_replace(L, value);                /* ..., key, piece */
        lua_insert(L, key);                   /* ..., piece, key */
    }
    lua_pushliteral(L, "}");
    lua_concat(L, lua_gettop(L) - base);
}

static char *error_text(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TTABLE) {
        lua_getfield(L, idx, "message");
        if (lua_type(L, -1) == LUA_TSTRING) {
            char *s = dup_string(lua_tostring(L, -1));
            lua_pop(L, 1);
            return s;
        }
        lua_pop(L, 1);
        if (luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL) { /* else tostring() */
            push_repr(L, idx, 0);
            char *s = dup_string(lua_tostring(L, -1));
            lua_pop(L, 1);
            return s;
        }
        lua_pop(L, 1);
    }
    char *s = dup_string(luaL_tolstring(L, idx, NULL));
    lua_pop(L, 1);
    return s;
}

/* ---- return values across a worker's pipe -----------------------------------
 *
 * A processor in a worker process returns its value to the parent as bytes:
 * 'T'/'F' booleans, 'i' int64, 'd' double, 's' u64 length + bytes, '{' key
 * value ... '}' tables. Functions, userdata, threads and cycles cannot travel.
 */

#define MAX_DEPTH 100

/* Set by the SIGINT handler when it hooked the Lua state (see on_interrupt). */
static volatile sig_atomic_t hook_set;

typedef struct wire {
    char *data;
    size_t len, cap;
    const char *error;    /* static message: why the value cannot travel */
} wire;

static void wire_put(wire *w, const void *data, size_t len)
{
    if (w->error)
        return;
    if (w->len + len > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + len)
            cap *= 2;
        char *grown = realloc(w->data, cap);
        if (!grown) {
            w->error = "out of memory";
            return;
        }
        w->data = grown;
        w->cap = cap;
    }
    memcpy(w->data + w->len, data, len);
    w->len += len;
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

static void call_processor(void *ud, const ex_document *doc,
                           const ex_scene *scene, const char *output_dir,
                           ex_outcome *out)
{
    run_ctx *ctx = ud;
    lua_State *L = ctx->L;
    int top = lua_gettop(L);
    lua_Integer index = (lua_Integer)(scene - doc->scenes) + 1;
    lua_pushvalue(L, ctx->fn);
    lua_geti(L, ctx->scenes, index); /* may build it (lazy scenes) */
    lua_pushstring(L, output_dir);
    int status = lua_pcall(L, 2, LUA_MULTRET, 0);
    if (hook_set) /* interrupted: no further Lua code may be stopped midway */
        lua_sethook(L, NULL, 0, 0);
    if (status != LUA_OK) {
        out->ok = false;
        out->error = error_text(L, -1);
        lua_settop(L, top);
        return;
    }
    int nret = lua_gettop(L) - top;
    /* `return false/nil, "why"` fails the scene; anything else succeeds. */
    if (nret >= 2 && !lua_toboolean(L, top + 1)) {
        out->ok = false;
        out->error = lua_isnil(L, top + 2) ? dup_string("failed")
                                           : error_text(L, top + 2);
    } else {
        out->ok = true;
        if (nret >= 1 && !lua_isnil(L, top + 1)) {
            if (out->in_worker) {
                lua_newtable(L); /* tables already on the way: cycles */
                wire w = {NULL, 0, 0, NULL};
                wire_value(L, top + 1, &w, lua_gettop(L), 0);
                if (w.error) {
                    free(w.data);
                    out->ok = false;
                    out->error = dup_string(lua_pushfstring(L,
                        "process_scene's return value cannot leave its worker "
                        "process: %s (return strings, numbers, booleans and "
                        "tables of them)", w.error));
                } else {
                    out->result = w.data;
                    out->result_len = w.len;
                }
            } else {
                lua_pushvalue(L, top + 1);
                lua_rawseti(L, ctx->results, scene->number);
            }
        }
    }
    lua_settop(L, top);
}

/* ---- interrupts ------------------------------------------------------------- */

/* As lua.c does: the SIGINT handler sets a hook, and the hook raises an error
 * in the running processor at its next Lua instruction. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted");
}

static void on_interrupt(void *ud)
{
    lua_State *L = ud;
    hook_set = 1;
    lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static bool opt_boolean(lua_State *L, int opts, const char *key, bool def)
{
    int t = lua_getfield(L, opts, key);
    bool value = def;
    if (t == LUA_TBOOLEAN)
        value = lua_toboolean(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "bad option '%s' (boolean expected, got %s)", key,
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return value;
}

/* The string stays valid while the options table holds it. */
static const char *opt_string(lua_State *L, int opts, const char *key,
                              const char *def)
{
    int t = lua_getfield(L, opts, key);
    const char *value = def;
    if (t == LUA_TSTRING)
        value = lua_tostring(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "bad option '%s' (string expected, got %s)", key,
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return value;
}

/* A list of scene numbers as a userdata-owned array (freed by the GC). */
static long *opt_scene_numbers(lua_State *L, int opts, size_t *count)
{
    *count = 0;
    int t = lua_getfield(L, opts, "scene_numbers");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (t != LUA_TTABLE)
        luaL_error(L, "bad option 'scene_numbers' (table expected, got %s)",
                   luaL_typename(L, -1));
    size_t n = (size_t)luaL_len(L, -1);
    long *numbers = lua_newuserdatauv(L, (n ? n : 1) * sizeof *numbers, 0);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        int isnum;
        lua_Integer v = lua_tointegerx(L, -1, &isnum);
        if (!isnum)
            luaL_error(L,
                       "bad option 'scene_numbers' (integer expected at "
                       "position %d, got %s)",
                       (int)i + 1, luaL_typename(L, -1));
        numbers[i] = (long)v;
        lua_pop(L, 1);
    }
    /* Keep the array alive in the options table's slot on the stack. */
    lua_replace(L, -2);
    *count = n;
    return numbers;
}

static lua_Number opt_number(lua_State *L, int opts, const char *key,
                             lua_Number def, lua_Number min, bool integer)
{
    int t = lua_getfield(L, opts, key);
    lua_Number value = def;
    if (t == LUA_TNUMBER) {
        value = lua_tonumber(L, -1);
        if (integer && !lua_isinteger(L, -1) && value != (lua_Number)(lua_Integer)value)
            luaL_error(L, "bad option '%s' (integer expected, got %f)", key, value);
        if (!(value >= min))
            luaL_error(L, "bad option '%s' (at least %g expected, got %g)", key,
                       (double)min, (double)value);
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad option '%s' (number expected, got %s)", key,
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return value;
}

/* rate: "60/min", "2/s", or a number of starts a second. */
static double opt_rate(lua_State *L, int opts)
{
    int t = lua_getfield(L, opts, "rate");
    double rate = 0;
    if (t == LUA_TNUMBER) {
        rate = (double)lua_tonumber(L, -1);
        if (!(rate > 0))
            luaL_error(L, "bad option 'rate' (a positive number expected)");
    } else if (t == LUA_TSTRING) {
        if (ex_parse_rate(lua_tostring(L, -1), &rate) != 0)
            luaL_error(L, "bad option 'rate' (like \"60/min\", \"2/s\" or \"100/hour\" "
                          "expected, got '%s')", lua_tostring(L, -1));
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad option 'rate' (string expected, got %s)", luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return rate;
}

static void opt_shard(lua_State *L, int opts, ex_run_options *o)
{
    const char *spec = opt_string(L, opts, "shard", NULL);
    if (spec && ex_parse_shard(spec, &o->shard_index, &o->shard_count) != 0)
        luaL_error(L, "bad option 'shard' (K/N with 1 <= K <= N expected, got '%s')", spec);
}

/*
 * inputs(scene) for every scene of the document: the strings go into a table
 * at the top of the stack (which keeps them alive), their pointers into the
 * options. Nothing is pushed when the workflow has no inputs function.
 */
static void opt_inputs(lua_State *L, int opts, int scenes, const ex_document *doc,
                       ex_run_options *o)
{
    if (lua_getfield(L, opts, "inputs") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (!lua_isfunction(L, -1))
        luaL_error(L, "bad option 'inputs' (function expected, got %s)",
                   luaL_typename(L, -1));
    int fn = lua_gettop(L);
    size_t n = doc->n_scenes ? doc->n_scenes : 1;
    const char **strings = lua_newuserdatauv(L, n * sizeof *strings, 0);
    size_t *lens = lua_newuserdatauv(L, n * sizeof *lens, 0);
    lua_createtable(L, (int)doc->n_scenes, 2);
    int keep = lua_gettop(L);
    lua_pushvalue(L, keep - 2);
    lua_setfield(L, keep, "strings");
    lua_pushvalue(L, keep - 1);
    lua_setfield(L, keep, "lens");
    for (size_t i = 0; i < doc->n_scenes; i++) {
        lua_pushvalue(L, fn);
        lua_geti(L, scenes, (lua_Integer)i + 1);
        lua_call(L, 1, 1);
        int t = lua_type(L, -1);
        if (t == LUA_TNUMBER)
            lua_tostring(L, -1);
        else if (t != LUA_TSTRING && t != LUA_TNIL)
            luaL_error(L, "inputs(scene) must return a string (or nil for the scene's "
                          "content), got %s for scene %d", luaL_typename(L, -1),
                       (int)doc->scenes[i].number);
        strings[i] = lua_tolstring(L, -1, &lens[i]);
        lua_rawseti(L, keep, (lua_Integer)i + 1);
    }
    o->inputs = strings;
    o->inputs_len = lens;
    lua_replace(L, fn); /* leave only the keeper */
    lua_settop(L, fn);
}

static ex_progress_mode opt_progress(lua_State *L, int opts)
{
    static const char *const names[] = {"auto", "plain", "json", "quiet", NULL};
    static const ex_progress_mode modes[] = {EX_PROGRESS_AUTO, EX_PROGRESS_PLAIN,
                                             EX_PROGRESS_JSON, EX_PROGRESS_QUIET};
    const char *name = opt_string(L, opts, "progress", "auto");
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return modes[i];
    luaL_error(L, "bad option 'progress' (auto, plain, json or quiet expected, got '%s')",
               name);
    return EX_PROGRESS_AUTO;
}

static const char *state_name(ex_scene_state state)
{
    return ex_scene_state_name(state);
}

static void push_stats(lua_State *L, const ex_stats *stats, int results)
{
    lua_createtable(L, 0, 12);
    lua_pushinteger(L, (lua_Integer)stats->locked);
    lua_setfield(L, -2, "locked");
    if (stats->interrupted) {
        lua_pushstring(L, stats->interrupted == SIGINT ? "SIGINT" : "SIGTERM");
        lua_setfield(L, -2, "interrupted");
    }
    if (stats->dry_run) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "dry_run");
    }
    lua_pushinteger(L, (lua_Integer)stats->total);
    lua_setfield(L, -2, "total");
    lua_pushinteger(L, (lua_Integer)stats->completed);
    lua_setfield(L, -2, "completed");
    lua_pushinteger(L, (lua_Integer)stats->skipped);
    lua_setfield(L, -2, "skipped");
    lua_pushinteger(L, (lua_Integer)stats->failed);
    lua_setfield(L, -2, "failed");
    lua_pushnumber(L, stats->elapsed_time);
    lua_setfield(L, -2, "elapsed_time");
    lua_newtable(L); /* failures */
    lua_newtable(L); /* scenes: one record a selected scene */
    lua_Integer nfail = 0;
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        lua_createtable(L, 0, 6);
        lua_pushinteger(L, rec->scene_number);
        lua_setfield(L, -2, "scene_number");
        lua_pushstring(L, state_name(rec->state));
        lua_setfield(L, -2, "state");
        lua_pushinteger(L, rec->attempts);
        lua_setfield(L, -2, "attempts");
        lua_pushnumber(L, rec->seconds);
        lua_setfield(L, -2, "seconds");
        set_string(L, "output_dir", rec->output_dir);
        set_string(L, "error", rec->error);
        set_string(L, "reason", rec->reason);
        if (rec->scene)
            set_string(L, "title", rec->scene->title);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        if (rec->result && results) {
            unwire u = {rec->result, rec->result + rec->result_len, false};
            unwire_value(L, &u, 0);
            if (u.bad)
                lua_pop(L, 1);
            else
                lua_rawseti(L, results, rec->scene_number);
        }
        if (rec->state == EX_SCENE_FAILED) {
            lua_createtable(L, 0, 2);
            lua_pushinteger(L, rec->scene_number);
            lua_setfield(L, -2, "scene_number");
            lua_pushstring(L, rec->error ? rec->error : "failed");
            lua_setfield(L, -2, "error");
            lua_rawseti(L, -3, ++nfail);
        }
    }
    lua_setfield(L, -3, "scenes");
    lua_setfield(L, -2, "failures");
    if (results) {
        lua_pushvalue(L, results);
        lua_setfield(L, -2, "results");
    }
}

/*
 * core.run(document, document_table, process_scene, opts) -> stats | nil, message
 * The document_table is the one given to setup(): process_scene receives its
 * scene tables, so what a hook stores on them is seen by the processor.
 */
static int l_run(lua_State *L)
{
    const ex_document *doc = check_document(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (lua_isnoneornil(L, 4)) {
        lua_settop(L, 3);
        lua_newtable(L);
    }
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_settop(L, 4);

    ex_run_options opts;
    ex_run_options_init(&opts);
    opts.skip_existing = opt_boolean(L, 4, "skip_existing", true);
    opts.continue_on_error = opt_boolean(L, 4, "continue_on_error", true);
    opts.output_base_dir = opt_string(L, 4, "output_base_dir", "output");
    opts.output_filename = opt_string(L, 4, "output_filename", "final.png");
    opts.progress = opt_progress(L, 4);
    opts.scene_numbers = opt_scene_numbers(L, 4, &opts.n_scene_numbers); /* at 5 */
    if (!opts.scene_numbers)
        lua_pushnil(L);

    opts.jobs = (int)opt_number(L, 4, "jobs", 1, 1, true);
    opts.timeout = (double)opt_number(L, 4, "timeout", 0, 0, false);
    opts.retries = (int)opt_number(L, 4, "retries", 0, 0, true);
    opts.retry_delay = (double)opt_number(L, 4, "retry_delay", 1, 0, false);
    opts.rate = opt_rate(L, 4);
    opt_shard(L, 4, &opts);
    opts.dry_run = opt_boolean(L, 4, "dry_run", false);

    lua_getfield(L, 2, "scenes"); /* 6 */
    luaL_argexpected(L, lua_istable(L, -1), 2, "document table with scenes");
    lua_newtable(L); /* 7: results */
    opt_inputs(L, 4, 6, doc, &opts); /* 8, when there is one */
    run_ctx ctx = {L, 3, 6, 7, doc};
    bool here = opts.jobs <= 1 && opts.timeout <= 0;
    if (here) {
        opts.on_interrupt = on_interrupt;
        opts.interrupt_ctx = L;
    }

    ex_stats stats;
    char *err = NULL;
    hook_set = 0;
    int rc = ex_orchestrate(doc, &opts, call_processor, &ctx, &stats, &err);
    if (hook_set) /* an interrupt that came after the last processor returned */
        lua_sethook(L, NULL, 0, 0);
    hook_set = 0;
    if (rc != 0) {
        ex_stats_free(&stats);
        luaL_pushfail(L);
        lua_pushstring(L, err ? err : "run refused");
        free(err);
        return 2;
    }
    push_stats(L, &stats, 7);
    ex_stats_free(&stats);
    return 1;
}

/* core.status(document, opts) -> list of {scene_number, title, state, reason,
 * attempts, seconds, output_dir} | nil, message */
static int l_status(lua_State *L)
{
    const ex_document *doc = check_document(L, 1);
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    ex_run_options opts;
    ex_run_options_init(&opts);
    opts.output_base_dir = opt_string(L, 2, "output_base_dir", "output");
    opts.output_filename = opt_string(L, 2, "output_filename", "final.png");
    opts.scene_numbers = opt_scene_numbers(L, 2, &opts.n_scene_numbers); /* at 3 */
    if (!opts.scene_numbers)
        lua_pushnil(L);
    opt_shard(L, 2, &opts);
    lua_getfield(L, 2, "document"); /* 4: the table given to inputs() */
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "scenes"); /* 5 */
        if (lua_istable(L, -1))
            opt_inputs(L, 2, 5, doc, &opts);
    }
    ex_stats stats;
    char *err = NULL;
    if (ex_status(doc, &opts, &stats, &err) != 0) {
        ex_stats_free(&stats);
        luaL_pushfail(L);
        lua_pushstring(L, err ? err : "cannot read the journal");
        free(err);
        return 2;
    }
    push_stats(L, &stats, 0);
    lua_getfield(L, -1, "scenes");
    ex_stats_free(&stats);
    return 1;
}

/* ---- small helpers ---------------------------------------------------------- */

static int l_scene_output_dir(lua_State *L)
{
    const char *base = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    char *dir = ex_scene_output_dir(base, name, (long)n);
    if (!dir)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, dir);
    free(dir);
    return 1;
}

static int l_output_exists(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    const char *filename = luaL_optstring(L, 2, "final.png");
    lua_pushboolean(L, ex_output_exists(dir, filename));
    return 1;
}

static int l_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (ex_mkdir_p(path) != 0) {
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_path_stem(lua_State *L)
{
    char *stem = ex_path_stem(luaL_checkstring(L, 1));
    if (!stem)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, stem);
    free(stem);
    return 1;
}

static const luaL_Reg document_methods[] = {
    {"table", document_table},
    {NULL, NULL}};

static const luaL_Reg document_meta[] = {
    {"__gc", document_gc},
    {"__close", document_gc},
    {NULL, NULL}};

static const luaL_Reg core_functions[] = {
    {"parse", l_parse},
    {"parse_string", l_parse_string},
    {"open", l_open},
    {"open_string", l_open_string},
    {"run", l_run},
    {"status", l_status},
    {"scene_output_dir", l_scene_output_dir},
    {"output_exists", l_output_exists},
    {"mkdir_p", l_mkdir_p},
    {"path_stem", l_path_stem},
    {NULL, NULL}};

int luaopen_explainer_core(lua_State *L)
{
    if (luaL_newmetatable(L, DOCUMENT_MT)) {
        luaL_setfuncs(L, document_meta, 0);
        luaL_newlib(L, document_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, core_functions);
    ex_json_register(L);  /* write_json: ljson_out.c */
    lua_pushstring(L, EXPLAINER_VERSION);
    lua_setfield(L, -2, "version");
    ex_lua_register_exec(L); /* exec, http_request: lexec.c */
    return 1;
}
