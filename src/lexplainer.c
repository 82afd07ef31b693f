/*
 * lexplainer.c -- the Lua binding: converts between the C core's structs and
 * Lua tables. Loaded as `explainer_core` (build/explainer_core.so, or preloaded
 * by the host). Recoverable failures return nil, message; wrong arguments raise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lexec.h"
#include "ljson_out.h"
#include "lexplainer.h"
#include "lfile.h"
#include "lrun.h"
#include "orchestrate.h"
#include "util.h"
#include "parse.h"

#define DOCUMENT_MT EX_DOCUMENT_MT

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

ex_document *ex_lua_check_document(lua_State *L, int arg)
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
    const ex_document *doc = ex_lua_check_document(L, 1);
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

/* The Document userdata on top of the stack as a table; its document is
 * freed at once (the table holds copies). */
static int table_of_box(lua_State *L)
{
    document_box *box = lua_touserdata(L, -1);
    push_document(L, box->doc, 0);
    ex_document_free(box->doc);
    box->doc = NULL;
    return 1;
}

/* core.parse(path) -> table | nil, message */
static int l_parse(lua_State *L)
{
    int n = l_open(L);
    return n == 1 ? table_of_box(L) : n;
}

/* core.parse_string(text [, name]) -> table */
static int l_parse_string(lua_State *L)
{
    lua_settop(L, 2);
    l_open_string(L);
    return table_of_box(L);
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
    ex_lua_register_run(L);  /* run, status: lrun.c */
    ex_lua_register_file(L); /* hash, hash_file, copy_file, fsync: lfile.c */
    return 1;
}
