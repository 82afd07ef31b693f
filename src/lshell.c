/*
 * lshell.c -- os.execute and io.popen while a processor runs in the run's
 * process (see lshell.h and shell.h).
 *
 * The C library's system() ignores SIGINT in the caller while the command
 * runs, and neither it nor popen() lets an interrupt of the run end what the
 * command started: `kill -TERM <run>` left `sleep 1000` running under pid 1.
 * These behave as Lua's own (the same results, a real file handle from
 * popen) but start the command through ex_shell_start.
 */
#include "lshell.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "shell.h"

/* A file handle of Lua's io library, and the command behind it. */
typedef struct shell_stream {
    luaL_Stream stream; /* first: io's methods see a luaL_Stream */
    pid_t pid;
} shell_stream;

static int shell_execute(lua_State *L)
{
    const char *command = luaL_optstring(L, 1, NULL);
    if (!command) {
        lua_pushboolean(L, access("/bin/sh", X_OK) == 0);
        return 1;
    }
    pid_t pid = ex_shell_start(command, 0, NULL);
    if (pid < 0)
        return luaL_fileresult(L, 0, NULL);
    int status = 0;
    if (ex_shell_wait(pid, &status) != 0)
        return luaL_fileresult(L, 0, NULL);
    errno = 0; /* luaL_execresult reads a nonzero errno as the failure */
    return luaL_execresult(L, status);
}

/* The handle's close (file:close(), a to-be-closed variable, or the
 * collector): close the pipe, then wait for the command, as pclose does. */
static int shell_close(lua_State *L)
{
    shell_stream *p = (shell_stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
    fclose(p->stream.f);
    int status = 0;
    if (ex_shell_wait(p->pid, &status) != 0)
        return luaL_fileresult(L, 0, NULL);
    errno = 0;
    return luaL_execresult(L, status);
}

static int shell_popen(lua_State *L)
{
    const char *command = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    luaL_argcheck(L, (mode[0] == 'r' || mode[0] == 'w') && mode[1] == '\0', 2,
                  "invalid mode");
    shell_stream *p = (shell_stream *)lua_newuserdatauv(L, sizeof *p, 0);
    p->stream.closef = NULL; /* a closed file until it is open */
    p->stream.f = NULL;
    luaL_setmetatable(L, LUA_FILEHANDLE);
    int fd = -1;
    p->pid = ex_shell_start(command, mode[0], &fd);
    if (p->pid < 0)
        return luaL_fileresult(L, 0, command);
    p->stream.f = fdopen(fd, mode);
    if (!p->stream.f) {
        int saved = errno;
        close(fd);
        int status;
        ex_shell_wait(p->pid, &status);
        errno = saved;
        return luaL_fileresult(L, 0, command);
    }
    p->stream.closef = shell_close;
    return 1;
}

/* Swap table[name] for fn (in), or back to the original kept in the
 * registry under `saved` (out). The table is on top of the stack. */
static void swap(lua_State *L, const char *name, lua_CFunction fn, const char *saved,
                 bool in)
{
    if (in) {
        lua_getfield(L, -1, name);
        lua_setfield(L, LUA_REGISTRYINDEX, saved);
        lua_pushcfunction(L, fn);
    } else {
        lua_getfield(L, LUA_REGISTRYINDEX, saved);
    }
    lua_setfield(L, -2, name);
}

void ex_lua_swap_shell(lua_State *L, bool in)
{
    if (!in)
        ex_shell_end_scene(); /* the processor returned: the scene is over */
    if (lua_getglobal(L, "os") == LUA_TTABLE)
        swap(L, "execute", shell_execute, "explainer.os_execute", in);
    lua_pop(L, 1);
    /* io.popen needs io's file handles: only where the io library is loaded. */
    if (lua_getglobal(L, "io") == LUA_TTABLE) {
        int mt = luaL_getmetatable(L, LUA_FILEHANDLE);
        lua_pop(L, 1);
        if (mt == LUA_TTABLE)
            swap(L, "popen", shell_popen, "explainer.io_popen", in);
    }
    lua_pop(L, 1);
}
