/*
 * lfile.c -- file helpers for the Lua side (see lfile.h). Recoverable failures
 * return nil, "path: reason".
 */
#include "lfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "hash.h"
#include "signals.h"

static int fail(lua_State *L, const char *path)
{
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
}

/* core.hash(string) -> 32 hex digits (XXH3-128) */
static int l_hash(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[33];
    ex_hash128_hex(s, len, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* core.hash_file(path) -> 32 hex digits | nil, message */
static int l_hash_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char hex[33];
    if (ex_hash_file_hex(path, hex) != 0)
        return fail(L, path);
    lua_pushstring(L, hex);
    return 1;
}

/* core.copy_file(from, to) -> true | nil, message. `to` is created (it must
 * not exist: a temporary name), written whole and closed; a failed copy
 * leaves no `to` behind. */
static int l_copy_file(lua_State *L)
{
    const char *from = luaL_checkstring(L, 1);
    const char *to = luaL_checkstring(L, 2);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return fail(L, from);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (out < 0) {
        int saved = errno;
        close(in);
        errno = saved;
        return fail(L, to);
    }
    const char *failed = NULL;
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n > 0)
            continue;
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
            /* Across file systems on an old kernel: copy by hand. */
            char block[65536];
            ssize_t r;
            while ((r = read(in, block, sizeof block)) > 0 || (r < 0 && errno == EINTR)) {
                ssize_t off = 0;
                while (r > 0 && off < r) {
                    ssize_t w = write(out, block + off, (size_t)(r - off));
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0) {
                        failed = to;
                        break;
                    }
                    off += w;
                }
                if (failed)
                    break;
            }
            if (r < 0)
                failed = from;
        } else {
            failed = to;
        }
        break;
    }
    int saved = errno;
    close(in);
    if (close(out) != 0 && !failed) {
        saved = errno;
        failed = to;
    }
    if (failed) {
        unlink(to);
        errno = saved;
        return fail(L, failed);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* core.fsync(path) -> true | nil, message: a file's bytes, or a folder's
 * entries (after a rename into it), on the disk. */
static int l_fsync(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(L, path);
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL) {
        errno = saved;
        return fail(L, path);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- core.lock(path): one holder at a time, across processes ------------- */

#define LOCK_META "explainer.Lock"

static int l_unlock(lua_State *L)
{
    int *fd = luaL_checkudata(L, 1, LOCK_META);
    if (*fd >= 0) {
        close(*fd); /* releases the flock */
        *fd = -1;
    }
    return 0;
}

/* core.lock(path) -> lock | nil, message: an exclusive lock on path (made if
 * missing), waiting while another process holds it; Ctrl-C ends the wait
 * ("interrupted"). lock:unlock(), a to-be-closed variable or the collector
 * releases it, as does the process's end. */
static int l_lock(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int *fd = lua_newuserdatauv(L, sizeof *fd, 0);
    *fd = -1;
    luaL_setmetatable(L, LOCK_META);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0)
        return fail(L, path);
    *fd = f;
    const struct timespec pause = {0, 50 * 1000 * 1000};
    while (flock(f, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return fail(L, path);
        if (ex_signals_interrupted()) {
            luaL_pushfail(L);
            lua_pushfstring(L, "%s: interrupted while waiting for the lock", path);
            return 2;
        }
        nanosleep(&pause, NULL);
    }
    return 1;
}

static const luaL_Reg lock_methods[] = {
    {"unlock", l_unlock},
    {"__close", l_unlock},
    {"__gc", l_unlock},
    {NULL, NULL},
};

static const luaL_Reg file_functions[] = {
    {"hash", l_hash},
    {"hash_file", l_hash_file},
    {"copy_file", l_copy_file},
    {"fsync", l_fsync},
    {"lock", l_lock},
    {NULL, NULL},
};

void ex_lua_register_file(lua_State *L)
{
    if (luaL_newmetatable(L, LOCK_META)) {
        luaL_setfuncs(L, lock_methods, 0);
        lua_pushvalue(L, -1);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, file_functions, 0);
}
