/*
 * lfile.h -- file helpers for the Lua side: hashes of strings and files, a
 * copy that uses the kernel (copy_file_range: a reflink where the file system
 * can), and fsync. What the recipes' keys and cache stand on.
 */
#ifndef EXPLAINER_LFILE_H
#define EXPLAINER_LFILE_H

#include <lua.h>

/* Add hash, hash_file, copy_file and fsync to the table on top of the stack. */
void ex_lua_register_file(lua_State *L);

#endif
