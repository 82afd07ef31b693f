/*
 * parse_warn.c -- the parser's warnings: recording one (line, column, rule and a
 * message), the ones several places give (an unclosed quote, a duration that is
 * surely not what was meant), and handing them to the document in line order.
 * Nothing the parser cannot read is dropped without one of these.
 */
#include "parse_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of an offending line quoted in a warning. */
#define EXCERPT_BYTES 60
/* A scene longer than this (10 minutes) is a warning: a typo, most likely. */
#define MAX_PLAUSIBLE_SECONDS 600.0

void px_warn(parser *p, long line, long column, const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        p->oom = true;
        return;
    }
    char *message = px_alloc(p, (size_t)len + 1);
    pending_warning *w = px_vec_push(&p->warnings, sizeof *w);
    if (!message || !w) {
        p->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(message, (size_t)len + 1, fmt, ap);
    va_end(ap);
    w->line = line;
    w->column = column > 0 ? column : 1;
    w->rule = rule;
    w->seq = p->warnings.n;
    w->message = message;
}

/* The start of a line for quoting in a warning, cut at a character boundary. */
const char *px_excerpt(parser *p, span line)
{
    if (line.n <= EXCERPT_BYTES) {
        const char *s = px_text_copy(p, line);
        return s ? s : "";
    }
    size_t n = EXCERPT_BYTES;
    while (n > 0 && (at(line, n) & 0xC0) == 0x80)
        n--;
    char *head = px_text_copy(p, mkspan(line.p, n));
    if (!head)
        return "";
    size_t hn = strlen(head);
    char *s = px_alloc(p, hn + 4);
    if (!s)
        return "";
    memcpy(s, head, hn);
    memcpy(s + hn, "...", 4);
    return s;
}

/* A value whose quote never closed: say where it opened, and where it ends instead. */
void px_warn_unclosed(parser *p, const quote_state *q, const char *what, const char *ends)
{
    if (q->open)
        px_warn(p, q->line, q->column, EX_RULE_UNCLOSED_QUOTE,
                "the quote that opens %s is never closed; %s", what, ends);
}

/* Text after a quoted value that has ended (docs/format.md): say that it is not part
 * of the value, where the value ended, and what to do (`hint`). */
void px_warn_after(parser *p, const after_text *a, const quote_state *q, const char *what,
                   const char *hint)
{
    if (a->line)
        px_warn(p, a->line, 1, EX_RULE_FIELD_TEXT,
                "'%s' is not part of %s, whose quote closes on line %ld; %s",
                px_excerpt(p, trim(a->text)), what, q->end_line, hint);
}

/* A scene's duration that is surely not what the writer meant: one that cannot be
 * read, a group that may have been meant as one, 0 s, or more than 10 minutes. */
void px_warn_duration(parser *p, span line, long lineno, const scene_head *h)
{
    long column = h->duration_kind == D_NONE ? 1 : px_column_at(line, h->group.p);
    const char *group = h->duration_kind == D_NONE ? "" : px_excerpt(p, h->group);
    switch (h->duration_kind) {
    case D_UNREADABLE:
        px_warn(p, lineno, column, EX_RULE_DURATION,
                "scene %ld: cannot read the duration '%s' (write it as '(6 seconds)'); "
                "the scene gets %g seconds",
                h->number, group, EX_DEFAULT_SCENE_SECONDS);
        break;
    case D_DOUBTFUL:
        px_warn(
            p, lineno, column, EX_RULE_DURATION,
            "scene %ld: '%s' is not a duration (write it as '(6 seconds)'); it stays in "
            "the title and the scene gets %g seconds",
            h->number, group, EX_DEFAULT_SCENE_SECONDS);
        break;
    case D_READ:
        if (h->duration == 0)
            px_warn(
                p, lineno, column, EX_RULE_DURATION,
                "scene %ld: '%s' is no time at all; a typo? (the scene lasts as long as "
                "its narration)",
                h->number, group);
        else if (h->duration > MAX_PLAUSIBLE_SECONDS)
            px_warn(p, lineno, column, EX_RULE_DURATION,
                    "scene %ld: '%s' is over %g minutes; a typo?", h->number, group,
                    MAX_PLAUSIBLE_SECONDS / 60);
        break;
    case D_NONE:
        break;
    }
}

static int by_line(const void *a, const void *b)
{
    const pending_warning *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The warnings, sorted by line (in the order given within a line), to the document. */
void px_warnings_to_document(parser *p)
{
    pending_warning *w = p->warnings.items;
    size_t nw = p->warnings.n;
    if (!nw)
        return;
    qsort(w, nw, sizeof *w, by_line);
    ex_document *doc = p->doc;
    doc->warnings = px_malloc(nw * sizeof *doc->warnings);
    if (!doc->warnings) {
        p->oom = true;
        return;
    }
    for (size_t i = 0; i < nw; i++) {
        doc->warnings[i].line = w[i].line;
        doc->warnings[i].column = w[i].column;
        doc->warnings[i].rule = w[i].rule;
        doc->warnings[i].message = w[i].message;
    }
    doc->n_warnings = nw;
}
