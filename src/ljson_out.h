/*
 * ljson_out.h -- the Lua face of json_out.c.
 */
#ifndef EXPLAINER_LJSON_OUT_H
#define EXPLAINER_LJSON_OUT_H

#include <lua.h>

/* Add write_json to the table on top of the stack (the core module):
 *   core.write_json(path) -> true, number of scenes | nil, message
 * parses the file and writes the document as one line of JSON and a newline to
 * standard output (the same FILE as Lua's io.stdout), without building tables.
 * An unreadable file gives nil and the parser's message; a failed write raises. */
void ex_json_register(lua_State *L);

#endif
