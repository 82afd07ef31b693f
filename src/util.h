/* util.h -- small helpers shared by the C core (no Lua). */
#ifndef EXPLAINER_UTIL_H
#define EXPLAINER_UTIL_H

/* A malloc'd printf-formatted string; NULL when memory runs out. */
char *ex_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
