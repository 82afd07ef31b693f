/*
 * lexec.h -- the Lua binding of exec.c and http.c.
 */
#ifndef EXPLAINER_LEXEC_H
#define EXPLAINER_LEXEC_H

#include <lua.h>

/* Add exec, http_request and sleep to the table on top of the stack. */
void ex_lua_register_exec(lua_State *L);

#endif
