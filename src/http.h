/*
 * http.h -- one HTTP request over libcurl's easy interface.
 *
 * Plain C, no Lua. A request that gets any answer (200, 404, 500 alike)
 * succeeds: the status is the caller's to judge. Only a failure to get an
 * answer (no route, refused, timed out, TLS) is an error.
 */
#ifndef EXPLAINER_HTTP_H
#define EXPLAINER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ex_http_header {
    char *name; /* lower-cased in a response */
    char *value;
} ex_http_header;

typedef struct ex_http_request {
    const char *method; /* NULL: GET, or POST when there is a body */
    const char *url;
    const ex_http_header *headers; /* sent as given */
    size_t n_headers;
    const char *body; /* may hold any bytes; NULL: none */
    size_t body_len;
    double timeout;        /* whole request, seconds; <= 0: 300 */
    bool follow_redirects; /* off by default: headers carry keys */
} ex_http_request;

typedef struct ex_http_response {
    long status;
    ex_http_header *headers; /* of the final answer, in order */
    size_t n_headers;
    char *body; /* NUL-terminated, body_len bytes */
    size_t body_len;
} ex_http_response;

/*
 * Perform the request. Returns 0 with *response filled (release it with
 * ex_http_response_free), or -1 with *errmsg a malloc'd one-line message
 * ("Failed to connect to 127.0.0.1 port 9: Connection refused").
 * A header name or value holding CR or LF is refused the same way.
 */
int ex_http_perform(const ex_http_request *request, ex_http_response *response,
                    char **errmsg);

void ex_http_response_free(ex_http_response *response);

#endif
