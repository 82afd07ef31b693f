/*
 * outcome.h -- what a processor reports for one scene, and the callback that
 * reports it. Below the orchestrator and the workers: the same interface
 * serves a call in this process or in a worker process (the outcome's bytes
 * are what travels back from a worker).
 */
#ifndef EXPLAINER_OUTCOME_H
#define EXPLAINER_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

#include "parse.h"

/* What a processor reports for one scene. Strings are malloc'd and owned by
 * the orchestrator once the callback returns. */
typedef struct ex_outcome {
    bool ok;
    char *error;        /* failure message (ok == false), may be NULL */
    char *result;       /* opaque serialized return value, may be NULL */
    size_t result_len;
    bool in_worker;     /* set by the orchestrator: the call runs in a worker
                           process, so a return value must travel as `result` */
} ex_outcome;

typedef void (*ex_process_fn)(void *ctx, const ex_document *doc,
                              const ex_scene *scene, const char *output_dir,
                              ex_outcome *out);

#endif
