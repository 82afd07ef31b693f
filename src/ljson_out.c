/*
 * ljson_out.c -- core.write_json(path): `explainer parse --json` without Lua
 * tables (see ljson_out.h).
 */
#include "ljson_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "json_out.h"
#include "parse.h"

static int l_write_json(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ex_document *doc = NULL;
    char *err = NULL;
    if (ex_parse_file(path, &doc, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err ? err : "cannot read file");
        free(err);
        return 2;
    }
    int status = ex_json_write(stdout, doc);
    int saved = errno;
    lua_Integer scenes = (lua_Integer)doc->n_scenes; /* none: the caller's exit 2 */
    ex_document_free(doc);
    if (status != 0 || fputc('\n', stdout) == EOF)
        return luaL_error(L, "cannot write JSON: %s", strerror(status ? saved : errno));
    lua_pushboolean(L, 1);
    lua_pushinteger(L, scenes);
    return 2;
}

void ex_json_register(lua_State *L)
{
    lua_pushcfunction(L, l_write_json);
    lua_setfield(L, -2, "write_json");
}
