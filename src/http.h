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
    /* Most bytes of body to accept, counted after decompression: 0 takes
     * $EXPLAINER_HTTP_MAX_BYTES, else EX_HTTP_DEFAULT_MAX_BYTES. */
    size_t max_bytes;
} ex_http_request;

#define EX_HTTP_DEFAULT_MAX_BYTES ((size_t)200 * 1024 * 1024)

typedef struct ex_http_response {
    long status;
    ex_http_header *headers; /* of the final answer, in order */
    size_t n_headers;
    char *body; /* NUL-terminated, body_len bytes */
    size_t body_len;
    /* Why there was no answer (set when ex_http_perform returns -1), one of:
     *   "connect"     no connection (refused, no route, DNS, TLS handshake)
     *   "network"     the connection broke (reset, empty reply, cut short)
     *   "timeout"     no whole answer within the timeout
     *   "too_large"   the body passed the cap (max_bytes)
     *   "interrupted" the run got SIGINT or SIGTERM
     *   "protocol"    the server broke HTTP (bad reply, bad encoding)
     *   "redirects"   too many redirects
     *   "bad_url"     the URL cannot be used (malformed, unsupported scheme)
     *   "certificate" the server's certificate cannot be trusted
     *   "setup"       no libcurl, a bad header or option, out of memory
     *   "other"       anything else libcurl reports
     * The first three may get better on a retry; the others cannot. */
    const char *error_kind;
} ex_http_response;

/*
 * Perform the request. Returns 0 with *response filled (release it with
 * ex_http_response_free), or -1 with *errmsg a malloc'd one-line message
 * ("Failed to connect to 127.0.0.1 port 9: Connection refused") and
 * response->error_kind set. A header name or value holding CR or LF is
 * refused the same way. Messages never hold the URL (it may carry a key).
 *
 * The body is held in memory up to max_bytes decoded bytes (gzip, deflate,
 * br and zstd answers are decoded as they arrive): one byte more, or a
 * Content-Length above it, aborts the transfer ("answer larger than 200 MB
 * (limit EXPLAINER_HTTP_MAX_BYTES)"). A SIGINT or SIGTERM of the run
 * (ex_signals_interrupted) aborts it within about a second.
 */
int ex_http_perform(const ex_http_request *request, ex_http_response *response,
                    char **errmsg);

void ex_http_response_free(ex_http_response *response);

#endif
