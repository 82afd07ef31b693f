/*
 * lexec.c -- Lua binding of process spawning (exec.c) and HTTP (http.c).
 *
 *   exec(argv [, {stdin=, timeout=, cwd=, env={NAME="value" or false},
 *                 on_stdout=function(piece)}])
 *       -> {ok=, status=, signal=, timed_out=, stdout=, stderr=, seconds=}
 *       (on_stdout is called with each piece of stdout as it arrives; an
 *        error it raises is raised by exec once the program has ended)
 *       -> nil, "espeak-ng not found; run make deps"
 *   http_request{url=, method=, headers={name=value}, body=, timeout=,
 *                follow_redirects=, max_bytes=}
 *       -> {status=, headers={lowercase name=value}, body=}
 *       -> nil, message, kind (no answer: refused, timed out, too large...;
 *                              kind as in http.h: "connect", "too_large"...)
 *   base64_decode(text) -> bytes | nil, message
 *   sleep(seconds)
 *   isatty(fd) -> true when the file descriptor is a terminal
 *
 * Failures the caller can recover from return nil, message; wrong arguments
 * raise.
 */
#include "lexec.h"
#include "signals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "base64.h"
#include "exec.h"
#include "http.h"
#include "lopt.h"

static void push_owned(lua_State *L, char *s)
{
    lua_pushstring(L, s ? s : "out of memory");
    free(s);
}

/* What on_stdout needs to call the Lua function: the state, where the
 * function sits on the stack, and the first error it raised (a registry
 * reference; LUA_NOREF while there is none). */
typedef struct stdout_hook {
    lua_State *L;
    int fn;
    int error;
} stdout_hook;

static void call_stdout_hook(void *ctx, const char *data, size_t len)
{
    stdout_hook *h = ctx;
    if (h->error != LUA_NOREF)
        return;
    lua_pushvalue(h->L, h->fn);
    lua_pushlstring(h->L, data, len);
    /* Never a longjmp out of the poll loop: the program is still running. */
    if (lua_pcall(h->L, 1, 0, 0) != LUA_OK)
        h->error = luaL_ref(h->L, LUA_REGISTRYINDEX);
}

/* exec's argument vector from the table at index 1, NULL-terminated; the
   strings are kept alive by the table. */
static const char **check_argv(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    luaL_argcheck(L, n > 0, 1, "empty argument vector");
    const char **argv = lua_newuserdatauv(L, sizeof *argv * (size_t)(n + 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len;
        if (lua_geti(L, 1, i) != LUA_TSTRING)
            luaL_error(L, "bad argument #1 to 'exec' (argv[%d]: string expected, got %s)",
                       (int)i, luaL_typename(L, -1));
        argv[i - 1] = lua_tolstring(L, -1, &len); /* kept alive by the table */
        if (strlen(argv[i - 1]) != len)
            luaL_error(L, "bad argument #1 to 'exec' (argv[%d] holds a NUL byte)", (int)i);
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    return argv;
}

/* The environment changes of the table on top of the stack ("NAME=value", or
   "NAME" to unset), NULL-terminated; what keeps the strings alive stays on the
   stack. */
static const char **check_env(lua_State *L)
{
    int env_idx = lua_gettop(L);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, env_idx)) {
        count++;
        lua_pop(L, 1);
    }
    const char **env = lua_newuserdatauv(L, sizeof *env * (count + 1), 0);
    lua_createtable(L, (int)count, 0); /* keeps the "NAME=value" strings alive */
    int keep_idx = lua_gettop(L);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, env_idx)) {
        size_t len;
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
        if (!name || len == 0 || strchr(name, '=') || strlen(name) != len)
            luaL_error(L, "bad field 'env' (variable names must be strings without '=')");
        if (lua_type(L, -1) == LUA_TSTRING) {
            env[i] = lua_pushfstring(L, "%s=%s", name, lua_tostring(L, -1));
            lua_rawseti(L, keep_idx, (lua_Integer)i + 1);
        } else if (lua_toboolean(L, -1)) {
            luaL_error(L, "bad field 'env' (string or false expected for '%s')", name);
        } else {
            env[i] = name; /* unset; the key lives in the table */
        }
        i++;
        lua_pop(L, 1);
    }
    env[i] = NULL;
    return env;
}

/* exec's options table (index 2): stdin, timeout, cwd, env, on_stdout. What
   keeps their strings alive stays on the stack. */
static void check_exec_options(lua_State *L, ex_exec_options *opts, stdout_hook *hook)
{
    if (lua_isnoneornil(L, 2))
        return;
    luaL_checktype(L, 2, LUA_TTABLE);
    opts->stdin_data = ex_opt_string(L, 2, "stdin", NULL, &opts->stdin_len);
    opts->timeout = ex_opt_number(L, 2, "timeout", 0);
    opts->cwd = ex_opt_string(L, 2, "cwd", NULL, NULL);
    int t = lua_getfield(L, 2, "env"); /* stays on the stack: keeps strings alive */
    if (t == LUA_TTABLE)
        opts->env = check_env(L);
    else if (t != LUA_TNIL)
        luaL_error(L, "bad field 'env' (table expected, got %s)", luaL_typename(L, -1));
    t = lua_getfield(L, 2, "on_stdout"); /* stays on the stack */
    if (t == LUA_TFUNCTION) {
        hook->fn = lua_gettop(L);
        opts->on_stdout = call_stdout_hook;
        opts->on_stdout_ctx = hook;
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad field 'on_stdout' (function expected, got %s)",
                   luaL_typename(L, -1));
    }
}

static void push_exec_result(lua_State *L, const ex_exec_result *r)
{
    lua_createtable(L, 0, 7);
    lua_pushboolean(L, r->status == 0 && !r->timed_out);
    lua_setfield(L, -2, "ok");
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    if (r->signal) {
        lua_pushinteger(L, r->signal);
        lua_setfield(L, -2, "signal");
    }
    lua_pushboolean(L, r->timed_out);
    lua_setfield(L, -2, "timed_out");
    lua_pushnumber(L, r->seconds);
    lua_setfield(L, -2, "seconds");
    lua_pushlstring(L, r->out, r->out_len);
    lua_setfield(L, -2, "stdout");
    lua_pushlstring(L, r->err, r->err_len);
    lua_setfield(L, -2, "stderr");
}

static int l_exec(lua_State *L)
{
    lua_settop(L, 2);
    ex_exec_options opts = {.argv = check_argv(L)};
    stdout_hook hook = {L, 0, LUA_NOREF};
    check_exec_options(L, &opts, &hook);

    ex_exec_result r;
    char *err = NULL;
    if (ex_exec(&opts, &r, &err) != 0) {
        lua_pushnil(L);
        push_owned(L, err);
        return 2;
    }
    if (hook.error != LUA_NOREF) {
        ex_exec_result_free(&r);
        lua_rawgeti(L, LUA_REGISTRYINDEX, hook.error);
        luaL_unref(L, LUA_REGISTRYINDEX, hook.error);
        return lua_error(L);
    }
    push_exec_result(L, &r);
    ex_exec_result_free(&r);
    return 1;
}

static int l_http_request(lua_State *L)
{
    lua_settop(L, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    ex_http_request req = {0};
    req.url = ex_opt_string(L, 1, "url", NULL, NULL);
    luaL_argcheck(L, req.url != NULL, 1, "field 'url' (string) is required");
    req.method = ex_opt_string(L, 1, "method", NULL, NULL);
    req.body = ex_opt_string(L, 1, "body", NULL, &req.body_len);
    req.timeout = ex_opt_number(L, 1, "timeout", 0);
    lua_getfield(L, 1, "follow_redirects");
    req.follow_redirects = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "max_bytes") != LUA_TNIL) {
        int whole = 0;
        lua_Integer n = lua_isnumber(L, -1) && lua_type(L, -1) == LUA_TNUMBER
                            ? lua_tointegerx(L, -1, &whole)
                            : 0;
        if (!whole || n < 1)
            return luaL_error(L, "bad field 'max_bytes' (a whole number of bytes, at "
                                 "least 1)");
        req.max_bytes = (size_t)n;
    }
    lua_pop(L, 1);

    int t = lua_getfield(L, 1, "headers"); /* stays on the stack: keeps strings alive */
    int headers_idx = lua_gettop(L);
    if (t == LUA_TTABLE) {
        size_t count = 0;
        lua_pushnil(L);
        while (lua_next(L, headers_idx)) {
            count++;
            lua_pop(L, 1);
        }
        ex_http_header *headers =
            lua_newuserdatauv(L, sizeof *headers * (count ? count : 1), 0);
        size_t i = 0;
        lua_pushnil(L);
        while (lua_next(L, headers_idx)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(
                    L, "bad field 'headers' (string names and string values expected)");
            headers[i].name = (char *)lua_tostring(L, -2);
            headers[i].value = (char *)lua_tostring(L, -1);
            i++;
            lua_pop(L, 1);
        }
        req.headers = headers;
        req.n_headers = count;
    } else if (t != LUA_TNIL) {
        return luaL_error(L, "bad field 'headers' (table expected, got %s)",
                          luaL_typename(L, -1));
    }

    ex_http_response resp;
    char *err = NULL;
    if (ex_http_perform(&req, &resp, &err) != 0) {
        lua_pushnil(L);
        push_owned(L, err);
        lua_pushstring(L, resp.error_kind ? resp.error_kind : "other");
        return 3;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, resp.status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, (int)resp.n_headers);
    for (size_t i = 0; i < resp.n_headers; i++) {
        /* Repeated headers are joined as HTTP allows: "a, b". */
        if (lua_getfield(L, -1, resp.headers[i].name) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, resp.headers[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, resp.headers[i].value);
        }
        lua_setfield(L, -2, resp.headers[i].name);
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, resp.body, resp.body_len);
    lua_setfield(L, -2, "body");
    ex_http_response_free(&resp);
    return 1;
}

static int l_base64_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    /* Decoded straight into the Lua string's buffer: no second copy. */
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, ex_base64_decoded_max(len));
    size_t out_len = 0;
    char *err = NULL;
    if (ex_base64_decode(text, len, out, &out_len, &err) != 0) {
        lua_pushnil(L);
        push_owned(L, err);
        return 2;
    }
    luaL_pushresultsize(&b, out_len);
    return 1;
}

static int l_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0, 1, "negative duration");
    struct timespec ts = {(time_t)s, (long)((s - (lua_Number)(time_t)s) * 1e9)};
    /* A Ctrl-C during a run ends the sleep; the interrupt hook then stops the
     * processor. Other signals resume it. */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !ex_signals_interrupted()) {
    }
    return 0;
}

/* core.time() -> seconds since the epoch, with the fraction (event times). */
static int l_time(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* core.isatty(fd) -> is the file descriptor a terminal? (a live progress
 * bar on stderr, plain lines elsewhere) */
static int l_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    luaL_argcheck(L, fd >= 0 && fd <= 65535, 1, "not a file descriptor");
    lua_pushboolean(L, isatty((int)fd) == 1);
    return 1;
}

static const luaL_Reg exec_functions[] = {
    {"exec", l_exec},
    {"http_request", l_http_request},
    {"base64_decode", l_base64_decode},
    {"sleep", l_sleep},
    {"time", l_time},
    {"isatty", l_isatty},
    {NULL, NULL},
};

void ex_lua_register_exec(lua_State *L)
{
    luaL_setfuncs(L, exec_functions, 0);
}
