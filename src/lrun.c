/*
 * lrun.c -- the Lua binding of the run: options table -> ex_run_options, the
 * user's process_scene as the orchestrator's callback, stats -> table.
 *
 * The options arrive normalised by explainer/init.lua (types converted there:
 * rate as starts a second, shard as shard_index/shard_count, inputs as the
 * canonical lines of inputs.h); their values are checked by the core
 * (ex_run_options_check), which refuses the run with a message.
 */
#include "lrun.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lopt.h"
#include "lshell.h"
#include "lwire.h"
#include "orchestrate.h"
#include "report.h"
#include "signals.h"
#include "util.h"

/* Stack slots of core.run and core.status. */
enum {
    ARG_DOC = 1,     /* the Document userdata */
    ARG_TABLE,       /* the document table (its scenes go to process_scene) */
    ARG_FN,          /* process_scene (run only) */
    ARG_OPTS,        /* the options table */
    SLOT_NUMBERS,    /* keeps the scene_numbers array alive (or nil) */
    SLOT_INPUTS,     /* keeps the inputs pointer arrays alive (or nil) */
    SLOT_SCENES,     /* the document table's scenes */
    SLOT_RESULTS     /* stats.results, filled as processors return */
};

typedef struct run_ctx {
    lua_State *L;
    const ex_document *doc;
} run_ctx;

/* The message of a Lua error value: a string, a table with .message, a
 * table written out as Lua source ({code=429}), or whatever tostring makes of
 * it. */
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

/* A table that says its own message (a .message field or a __tostring)? */
static bool speaks_for_itself(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return false;
    bool yes = lua_getfield(L, idx, "message") == LUA_TSTRING;
    lua_pop(L, 1);
    if (!yes && luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        yes = true;
    }
    return yes;
}

static char *error_text(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TTABLE) {
        if (lua_getfield(L, idx, "message") == LUA_TSTRING) {
            char *s = ex_strdup(lua_tostring(L, -1));
            lua_pop(L, 1);
            return s;
        }
        lua_pop(L, 1);
        if (!speaks_for_itself(L, idx)) {
            push_repr(L, idx, 0);
            char *s = ex_strdup(lua_tostring(L, -1));
            lua_pop(L, 1);
            return s;
        }
    }
    char *s = ex_strdup(luaL_tolstring(L, idx, NULL));
    lua_pop(L, 1);
    return s;
}

/* The message handler of a processor's call: an error that is not a string
 * (error({code=429})) gets the place it was raised, as Lua gives a string
 * ("wf.lua:3: {code=429}"). */
static int locate_error(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING || speaks_for_itself(L, 1))
        return 1;
    luaL_where(L, 2); /* 1 is error() itself, 2 the function that called it */
    char *text = error_text(L, 1);
    lua_pushstring(L, text ? text : "?");
    free(text);
    lua_concat(L, 2);
    return 1;
}

/* A failure the processor returned (`return nil, {code=429}`): its text, with
 * where the processor is defined when the value is not a string. malloc'd. */
static char *returned_error(lua_State *L, int idx)
{
    char *text = error_text(L, idx);
    if (!text || lua_type(L, idx) == LUA_TSTRING || speaks_for_itself(L, idx))
        return text;
    lua_Debug ar;
    lua_pushvalue(L, ARG_FN);
    if (lua_getinfo(L, ">S", &ar) && ar.currentline != -2 && ar.linedefined > 0) {
        char *located = ex_format("%s:%d: %s", ar.short_src, ar.linedefined, text);
        if (located) {
            free(text);
            text = located;
        }
    }
    return text;
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

/* In a processor run in this process, os.exit would end the run with no
 * report: it fails the scene instead, as it does in a worker. */
static int refuse_exit(lua_State *L)
{
    return luaL_error(L, "process_scene called os.exit(%s); a scene cannot end the run",
                      luaL_optstring(L, 1, "true"));
}

/* Swap os.exit, os.execute and io.popen for the run's own (in) or back (out);
 * the originals are kept in the registry meanwhile. */
static void guard_os(lua_State *L, bool in)
{
    if (lua_getglobal(L, "os") == LUA_TTABLE) {
        if (in) {
            lua_getfield(L, -1, "exit");
            lua_setfield(L, LUA_REGISTRYINDEX, "explainer.os_exit");
            lua_pushcfunction(L, refuse_exit);
        } else {
            lua_getfield(L, LUA_REGISTRYINDEX, "explainer.os_exit");
        }
        lua_setfield(L, -2, "exit");
    }
    lua_pop(L, 1);
    ex_lua_swap_shell(L, in);
}

/* A forked worker must not draw the same random numbers as its siblings
 * (retry jitter in step): seed it from its pid and the clock. */
static void reseed(lua_State *L)
{
    int top = lua_gettop(L);
    if (lua_getglobal(L, "math") == LUA_TTABLE &&
        lua_getfield(L, -1, "randomseed") == LUA_TFUNCTION) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        lua_pushinteger(L, (lua_Integer)getpid());
        lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000000000 + ts.tv_nsec);
        lua_pcall(L, 2, 0, 0);
    }
    lua_settop(L, top);
}

/* What the processor returned, when it succeeded: kept for stats.results (in
 * this process), or sent as bytes (from a worker). */
static void keep_result(lua_State *L, int idx, const ex_scene *scene, ex_outcome *out)
{
    if (!out->in_worker) {
        lua_pushvalue(L, idx);
        lua_rawseti(L, SLOT_RESULTS, scene->number);
        return;
    }
    ex_buf bytes = {0};
    const char *why = ex_lua_wire(L, idx, &bytes);
    if (why) {
        out->ok = false;
        out->error = ex_format("process_scene's return value cannot leave its worker "
                               "process: %s (return strings, numbers, booleans and "
                               "tables of them)", why);
        return;
    }
    out->result = bytes.data;
    out->result_len = bytes.len;
}

static void call_processor(void *ud, const ex_document *doc, const ex_scene *scene,
                           const char *output_dir, ex_outcome *out)
{
    run_ctx *ctx = ud;
    lua_State *L = ctx->L;
    int top = lua_gettop(L);
    if (out->in_worker)
        reseed(L);
    else
        guard_os(L, true);
    lua_pushcfunction(L, locate_error);
    int handler = lua_gettop(L);
    lua_pushvalue(L, ARG_FN);
    lua_geti(L, SLOT_SCENES, (lua_Integer)(scene - doc->scenes) + 1); /* may build it */
    lua_pushstring(L, output_dir);
    int status = lua_pcall(L, 2, LUA_MULTRET, handler);
    if (hook_set) /* interrupted: no further Lua code may be stopped midway */
        lua_sethook(L, NULL, 0, 0);
    if (!out->in_worker)
        guard_os(L, false);
    int first = handler + 1, nret = lua_gettop(L) - handler;
    if (status != LUA_OK) {
        out->ok = false;
        out->error = error_text(L, -1);
    } else if (nret >= 2 && !lua_toboolean(L, first)) {
        /* `return false/nil, "why"` fails the scene; anything else succeeds. */
        out->ok = false;
        out->error = lua_isnil(L, first + 1) ? ex_strdup("failed") : returned_error(L, first + 1);
    } else {
        out->ok = true;
        if (nret >= 1 && !lua_isnil(L, first))
            keep_result(L, first, scene, out);
    }
    lua_settop(L, top);
}

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

/* The run's on_scene option (a function): told of each scene event in this
 * process, as (event, scene_number, reason, error, seconds, settled); of the
 * scenes on_scene_numbers lists, if any, and one other event a second. What it
 * raises never stops the run. */
static void tell_scene(void *ud, const ex_scene_record *rec, const char *event, size_t settled)
{
    lua_State *L = ud;
    int top = lua_gettop(L);
    if (lua_checkstack(L, 8) && lua_getfield(L, ARG_OPTS, "on_scene") == LUA_TFUNCTION) {
        lua_pushstring(L, event);
        lua_pushinteger(L, rec->scene_number);
        lua_pushstring(L, rec->reason);
        lua_pushstring(L, rec->error);
        lua_pushnumber(L, rec->seconds);
        lua_pushinteger(L, (lua_Integer)settled);
        lua_pcall(L, 6, 0, 0);
    }
    lua_settop(L, top);
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* on_scene_numbers: the scenes on_scene follows, sorted, in a userdata kept in
 * the options table itself. */
static void read_followed(lua_State *L, ex_run_options *o)
{
    if (lua_getfield(L, ARG_OPTS, "on_scene_numbers") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    size_t n = (size_t)luaL_len(L, -1);
    long *numbers = lua_newuserdatauv(L, (n ? n : 1) * sizeof *numbers, 0);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        numbers[i] = (long)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    qsort(numbers, n, sizeof *numbers, compare_long);
    lua_setfield(L, ARG_OPTS, "\1on_scene_numbers"); /* kept alive with the options */
    lua_pop(L, 1);
    o->on_scene_numbers = numbers;
    o->n_on_scene_numbers = n;
}

/* ---- options ------------------------------------------------------------------ */

/* scene_numbers as an array owned by a userdata left in SLOT_NUMBERS (nil
 * when absent). */
static void read_scene_numbers(lua_State *L, ex_run_options *o)
{
    if (lua_getfield(L, ARG_OPTS, "scene_numbers") == LUA_TNIL) {
        lua_replace(L, SLOT_NUMBERS);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "bad option 'scene_numbers' (table expected, got %s)",
                   luaL_typename(L, -1));
    size_t n = (size_t)luaL_len(L, -1);
    long *numbers = lua_newuserdatauv(L, (n ? n : 1) * sizeof *numbers, 0);
    for (size_t i = 0; i < n; i++) {
        int isnum;
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        numbers[i] = (long)lua_tointegerx(L, -1, &isnum);
        if (!isnum)
            luaL_error(L, "bad option 'scene_numbers' (integer expected at position %d, got %s)",
                       (int)i + 1, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    lua_replace(L, SLOT_NUMBERS);
    lua_pop(L, 1);
    o->scene_numbers = numbers;
    o->n_scene_numbers = n;
}

/* output_keys: key ids indexed like the document's scenes (false: none). The
 * array lives in a userdata kept in the options table itself. */
static void read_output_keys(lua_State *L, const ex_document *doc, ex_run_options *o)
{
    if (lua_getfield(L, ARG_OPTS, "output_keys") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    size_t n = doc->n_scenes ? doc->n_scenes : 1;
    const char **ids = lua_newuserdatauv(L, n * sizeof *ids, 0);
    for (size_t i = 0; i < doc->n_scenes; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        ids[i] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_pop(L, 1);
    }
    lua_setfield(L, ARG_OPTS, "\1output_keys");  /* kept alive with the options */
    lua_pop(L, 1);
    o->output_keys = ids;
}

/* inputs: a list of strings indexed like the document's scenes (false or nil:
 * that scene's own content). The pointer arrays live in a userdata left in
 * SLOT_INPUTS; the strings stay alive in the options table. */
static void read_inputs(lua_State *L, const ex_document *doc, ex_run_options *o)
{
    if (lua_getfield(L, ARG_OPTS, "inputs") == LUA_TNIL) {
        lua_replace(L, SLOT_INPUTS);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "bad option 'inputs' (table expected, got %s)", luaL_typename(L, -1));
    size_t n = doc->n_scenes ? doc->n_scenes : 1;
    const char **strings = lua_newuserdatauv(L, n * (sizeof *strings + sizeof(size_t)), 0);
    size_t *lens = (size_t *)(void *)(strings + n);
    for (size_t i = 0; i < doc->n_scenes; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        strings[i] = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &lens[i]) : NULL;
        lua_pop(L, 1);
    }
    lua_replace(L, SLOT_INPUTS);
    lua_pop(L, 1);
    o->inputs = strings;
    o->inputs_len = lens;
    read_output_keys(L, doc, o);
}

static ex_progress_mode read_progress(lua_State *L)
{
    static const char *const names[] = {"auto", "plain", "json", "quiet", NULL};
    static const ex_progress_mode modes[] = {EX_PROGRESS_AUTO, EX_PROGRESS_PLAIN,
                                             EX_PROGRESS_JSON, EX_PROGRESS_QUIET};
    const char *name = ex_opt_string(L, ARG_OPTS, "progress", "auto", NULL);
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return modes[i];
    luaL_error(L, "bad option 'progress' (auto, plain, json or quiet expected, got '%s')",
               name);
    return EX_PROGRESS_AUTO;
}

/* The options table at ARG_OPTS; fills SLOT_NUMBERS and SLOT_INPUTS. */
static void read_options(lua_State *L, const ex_document *doc, ex_run_options *o)
{
    ex_run_options_init(o);
    o->skip_existing = ex_opt_boolean(L, ARG_OPTS, "skip_existing", true);
    o->continue_on_error = ex_opt_boolean(L, ARG_OPTS, "continue_on_error", true);
    o->dry_run = ex_opt_boolean(L, ARG_OPTS, "dry_run", false);
    o->durable = ex_opt_boolean(L, ARG_OPTS, "durable", false);
    o->wait_for_others = ex_opt_boolean(L, ARG_OPTS, "wait_for_others", false);
    o->plan_json = ex_opt_boolean(L, ARG_OPTS, "json", false);
    o->output_base_dir = ex_opt_string(L, ARG_OPTS, "output_base_dir", "output", NULL);
    o->output_filename = ex_opt_string(L, ARG_OPTS, "output_filename", "final.png", NULL);
    o->workflow = ex_opt_string(L, ARG_OPTS, "workflow", "default", NULL);
    o->progress = read_progress(L);
    o->jobs = ex_opt_int(L, ARG_OPTS, "jobs", 1);
    o->timeout = ex_opt_number(L, ARG_OPTS, "timeout", 0);
    o->retries = ex_opt_int(L, ARG_OPTS, "retries", 0);
    o->retry_delay = ex_opt_number(L, ARG_OPTS, "retry_delay", 1);
    o->rate = ex_opt_number(L, ARG_OPTS, "rate", 0);
    o->shard_index = ex_opt_int(L, ARG_OPTS, "shard_index", 0);
    o->shard_count = ex_opt_int(L, ARG_OPTS, "shard_count", 0);
    read_scene_numbers(L, o);
    read_inputs(L, doc, o);
}

/* ---- stats -> table ------------------------------------------------------------- */

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

static void set_number(lua_State *L, const char *key, lua_Number value)
{
    lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

static void push_record(lua_State *L, const ex_scene_record *rec)
{
    lua_createtable(L, 0, 10);
    set_integer(L, "scene_number", rec->scene_number);
    set_string(L, "state", ex_scene_state_name(rec->state));
    set_string(L, "standing", ex_standing_name(rec->standing));
    set_string(L, "reason", rec->reason);
    set_integer(L, "attempts", rec->attempts);
    set_number(L, "seconds", rec->seconds);
    set_string(L, "output_dir", rec->output_dir);
    set_string(L, "error", rec->error);
    if (rec->scene)
        set_string(L, "title", rec->scene->title);
}

/* The stats table; results (a stack index, or 0) becomes stats.results and
 * receives what worker processes sent back. */
static void push_stats(lua_State *L, const ex_document *doc, const ex_run_options *o,
                       const ex_stats *stats, int results)
{
    lua_createtable(L, 0, 16);
    set_integer(L, "total", (lua_Integer)stats->total);
    set_integer(L, "completed", (lua_Integer)stats->completed);
    set_integer(L, "skipped", (lua_Integer)stats->skipped);
    set_integer(L, "failed", (lua_Integer)stats->failed);
    set_integer(L, "locked", (lua_Integer)stats->locked);
    set_number(L, "elapsed_time", stats->elapsed_time);
    if (stats->interrupted)
        set_string(L, "interrupted", ex_signal_name(stats->interrupted));
    if (stats->dry_run) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "dry_run");
    }
    set_string(L, "fatal", stats->fatal);
    /* Where things went, for hooks (the film goes beside the scene folders). */
    set_string(L, "output_base_dir", o->output_base_dir);
    set_string(L, "workflow", o->workflow);
    char *dir = ex_format("%s/%s", o->output_base_dir, doc->name);
    set_string(L, "output_dir", dir);
    free(dir);
    lua_newtable(L); /* failures */
    lua_newtable(L); /* scenes: one record a selected scene */
    lua_Integer nfail = 0;
    for (size_t i = 0; i < stats->n_records; i++) {
        const ex_scene_record *rec = &stats->records[i];
        push_record(L, rec);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        if (rec->result && results &&
            ex_lua_unwire(L, rec->result, rec->result_len))
            lua_rawseti(L, results, rec->scene_number);
        if (rec->state == EX_SCENE_FAILED) {
            lua_createtable(L, 0, 2);
            set_integer(L, "scene_number", rec->scene_number);
            set_string(L, "error", rec->error ? rec->error : "failed");
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

/* ---- core.run, core.status -------------------------------------------------------- */

/*
 * core.run(document, document_table, process_scene, opts) -> stats | nil, message
 * The document_table is the one given to setup(): process_scene receives its
 * scene tables, so what a hook stores on them is seen by the processor.
 */
static int l_run(lua_State *L)
{
    const ex_document *doc = ex_lua_check_document(L, ARG_DOC);
    luaL_checktype(L, ARG_TABLE, LUA_TTABLE);
    luaL_checktype(L, ARG_FN, LUA_TFUNCTION);
    if (lua_isnoneornil(L, ARG_OPTS)) {
        lua_settop(L, ARG_OPTS - 1);
        lua_newtable(L);
    }
    luaL_checktype(L, ARG_OPTS, LUA_TTABLE);
    lua_settop(L, SLOT_RESULTS);
    ex_run_options opts;
    read_options(L, doc, &opts);
    lua_getfield(L, ARG_TABLE, "scenes");
    luaL_argexpected(L, lua_istable(L, -1), ARG_TABLE, "document table with scenes");
    lua_replace(L, SLOT_SCENES);
    lua_newtable(L);
    lua_replace(L, SLOT_RESULTS);
    opts.on_interrupt = on_interrupt; /* used when the processor runs here */
    opts.interrupt_ctx = L;
    if (lua_getfield(L, ARG_OPTS, "on_scene") == LUA_TFUNCTION) {
        opts.on_scene = tell_scene;
        opts.scene_ctx = L;
        read_followed(L, &opts);
    }
    lua_pop(L, 1);
    run_ctx ctx = {L, doc};
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
    push_stats(L, doc, &opts, &stats, SLOT_RESULTS);
    ex_stats_free(&stats);
    return 1;
}

/* core.status(document, opts) -> list of {scene_number, title, state,
 * standing, reason, attempts, seconds, output_dir} | nil, message */
static int l_status(lua_State *L)
{
    const ex_document *doc = ex_lua_check_document(L, ARG_DOC);
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_pushnil(L);           /* ARG_TABLE and ARG_FN are not used here */
    lua_rotate(L, 2, 1);      /* the options go to ARG_OPTS */
    lua_pushnil(L);
    lua_rotate(L, 3, 1);
    lua_settop(L, SLOT_RESULTS);
    ex_run_options opts;
    read_options(L, doc, &opts);
    ex_stats stats;
    char *err = NULL;
    if (ex_status(doc, &opts, &stats, &err) != 0) {
        ex_stats_free(&stats);
        luaL_pushfail(L);
        lua_pushstring(L, err ? err : "cannot read the journal");
        free(err);
        return 2;
    }
    push_stats(L, doc, &opts, &stats, 0);
    lua_getfield(L, -1, "scenes");
    ex_stats_free(&stats);
    return 1;
}

static const luaL_Reg run_functions[] = {
    {"run", l_run},
    {"status", l_status},
    {NULL, NULL},
};

void ex_lua_register_run(lua_State *L)
{
    luaL_setfuncs(L, run_functions, 0);
}
