/*
 * lshell.h -- os.execute and io.popen for a processor that runs in the run's
 * own process: commands that an interrupt of the run ends (shell.c).
 */
#ifndef EXPLAINER_LSHELL_H
#define EXPLAINER_LSHELL_H

#include <stdbool.h>

#include <lua.h>

/* Swap os.execute and io.popen for the run's own (in) or back (out); the
 * originals are kept in the registry meanwhile. */
void ex_lua_swap_shell(lua_State *L, bool in);

#endif
