/*
 * main.c -- the host: a Lua state with the core preloaded and the facade on
 * package.path, then `require("explainer.cli").main(arg)` does the rest.
 * The Lua modules are found relative to the executable, so the binary works
 * from any directory: <exe>/../lua or <exe>/../../lua in the build tree,
 * <exe>/../share/lua/5.4
 * once installed, or $EXPLAINER_LUA_DIR. main() also gets where the bundled
 * workflow scripts are (push_host), so that `explainer video FILE` works.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lexplainer.h"

static char *self_dir(void)
{
    char *exe = realpath("/proc/self/exe", NULL);
    if (!exe)
        return NULL;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    return exe;
}

static int has_facade(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/explainer/init.lua", dir);
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0;
}

/* Prepend the facade's directory to package.path. */
static void add_lua_path(lua_State *L)
{
    const char *env = getenv("EXPLAINER_LUA_DIR");
    char found[PATH_MAX] = "";
    if (env && *env) {
        snprintf(found, sizeof found, "%s", env);
    } else {
        /* The build tree (build/explainer, or build/<variant>/explainer) keeps
         * the modules in <repo>/lua; an installed binary in <prefix>/share. */
        char *dir = self_dir();
        static const char *const relative[] = {
            "/../lua", "/../../lua", "/../share/lua/5.4", NULL};
        for (int i = 0; dir && relative[i]; i++) {
            char candidate[PATH_MAX];
            int n = snprintf(candidate, sizeof candidate, "%s%s", dir, relative[i]);
            if (n > 0 && (size_t)n < sizeof candidate && has_facade(candidate)) {
                snprintf(found, sizeof found, "%s", candidate);
                break;
            }
        }
        free(dir);
    }
    if (!*found)
        return; /* fall back to the ordinary package.path */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", found, found,
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

/* Push the host's facts for cli.main: {executable = <this program>,
 * scripts_dir = <the bundled workflow scripts>} (either may be absent). The
 * scripts are in $EXPLAINER_SCRIPTS_DIR, or <exe>/../scripts (or
 * <exe>/../../scripts) in the build tree, <exe>/../share/explainer/scripts once
 * installed; a folder counts when it holds video.lua. */
static void push_host(lua_State *L)
{
    static const char *const relative[] = {
        "/../scripts", "/../../scripts", "/../share/explainer/scripts", NULL};
    lua_createtable(L, 0, 2);
    char *exe = realpath("/proc/self/exe", NULL);
    if (!exe)
        return;
    lua_pushstring(L, exe); /* Lua's copy: nothing to free if a push fails */
    free(exe);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "executable");
    const char *env = getenv("EXPLAINER_SCRIPTS_DIR");
    if (env && *env) {
        lua_pushstring(L, env);
        lua_setfield(L, -3, "scripts_dir");
        lua_pop(L, 1);
        return;
    }
    const char *path = lua_tostring(L, -1);
    const char *slash = strrchr(path, '/');
    lua_pushlstring(L, path, slash ? (size_t)(slash - path) : 0); /* the exe's folder */
    for (int i = 0; relative[i]; i++) {
        const char *marker = lua_pushfstring(L, "%s%s/video.lua", lua_tostring(L, -1),
                                             relative[i]);
        struct stat st;
        int found = stat(marker, &st) == 0;
        lua_pop(L, 1);
        if (found) {
            lua_pushfstring(L, "%s%s", lua_tostring(L, -1), relative[i]);
            char *real = realpath(lua_tostring(L, -1), NULL);
            if (real) {
                lua_pushstring(L, real);
                free(real);
                lua_replace(L, -2);
            }
            lua_setfield(L, -4, "scripts_dir");
            break;
        }
    }
    lua_pop(L, 2);
}

static void preload_core(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_explainer_core);
    lua_setfield(L, -2, "explainer_core");
    lua_pop(L, 1);
}

static int message_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = luaL_tolstring(L, 1, NULL);
    if (getenv("EXPLAINER_TRACEBACK"))
        luaL_traceback(L, L, msg, 1);
    else
        lua_pushstring(L, msg);
    return 1;
}

/* Runs in protected mode so that even an out-of-memory error is reported. */
static int run_cli(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    luaL_openlibs(L);
    preload_core(L);
    add_lua_path(L);
    lua_createtable(L, argc, 1);
    lua_pushstring(L, argv[0]);
    lua_rawseti(L, -2, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_pushvalue(L, -1);
    lua_setglobal(L, "arg");
    lua_getglobal(L, "require");
    lua_pushliteral(L, "explainer.cli");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    lua_pushvalue(L, -3);
    push_host(L);
    lua_call(L, 2, 1);
    return 1;
}

int main(int argc, char **argv)
{
    /* A reader that goes away (`explainer ... | head`) makes writes fail with
     * EPIPE instead of killing the run before its summary and report. The
     * programs the run starts get the default back (exec.c). */
    signal(SIGPIPE, SIG_IGN);
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "explainer: cannot create a Lua state (out of memory)\n");
        return 2;
    }
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, run_cli);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = 2;
    if (lua_pcall(L, 2, 1, 1) != LUA_OK) {
        fprintf(stderr, "explainer: %s\n", lua_tostring(L, -1));
    } else if (lua_isinteger(L, -1)) {
        status = (int)lua_tointeger(L, -1);
    } else {
        status = 0;
    }
    fflush(stdout);
    lua_close(L);
    return status;
}
