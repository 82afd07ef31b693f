/* unpreload.c -- for `make test-asan` only: lua5.4 starts with the ASan runtime in
   LD_PRELOAD (it is not built with one, the module it loads is), and what the specs
   start inherits it: espeak-ng then deadlocks at start, the host refuses a second
   runtime, every ffmpeg and convert runs instrumented for nothing. The busted helper
   tests/unpreload.lua takes it out of the process's environment once lua5.4 runs. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>

static int l_unsetenv(lua_State *L)
{
    lua_pushboolean(L, unsetenv(luaL_checkstring(L, 1)) == 0);
    return 1;
}

int luaopen_unpreload(lua_State *L)
{
    lua_pushcfunction(L, l_unsetenv);
    return 1;
}
