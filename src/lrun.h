/*
 * lrun.h -- the Lua binding of the run (orchestrate.c): core.run and
 * core.status.
 */
#ifndef EXPLAINER_LRUN_H
#define EXPLAINER_LRUN_H

#include <lua.h>

#include "parse.h"

/* The Document userdata's metatable name (lexplainer.c owns the type). */
#define EX_DOCUMENT_MT "explainer.Document"

/* The document in a Document userdata at arg; raises when it is not one or is
 * closed. (lexplainer.c) */
ex_document *ex_lua_check_document(lua_State *L, int arg);

/* Add run and status to the table on top of the stack. */
void ex_lua_register_run(lua_State *L);

#endif
