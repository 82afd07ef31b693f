/* lexplainer.h -- the Lua binding's entry point (module "explainer_core"). */
#ifndef EXPLAINER_LEXPLAINER_H
#define EXPLAINER_LEXPLAINER_H

#include <lua.h>

#ifndef EXPLAINER_VERSION
#define EXPLAINER_VERSION "0.0.0"
#endif

int luaopen_explainer_core(lua_State *L);

#endif
