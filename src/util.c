/* util.c -- small helpers shared by the C core. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

char *ex_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}
