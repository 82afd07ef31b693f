/*
 * http.c -- one HTTP request over libcurl (see http.h).
 */
#include "http.h"
#include "util.h"
#include "signals.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EXPLAINER_VERSION
#define EXPLAINER_VERSION "0"
#endif

typedef struct collector {
    char *body;
    size_t len, cap;
    size_t max; /* most body bytes accepted, decoded */
    ex_http_header *headers;
    size_t n_headers, cap_headers;
    int oom, too_large, interrupted;
} collector;

static char *copy_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static void free_headers(ex_http_header *headers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(headers[i].name);
        free(headers[i].value);
    }
    free(headers);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    collector *c = userdata;
    size_t n = size * nmemb;
    /* Counted here, after curl decoded gzip/deflate/br: the same cap bounds
     * the memory a small compressed answer can claim. */
    if (n > c->max - c->len) {
        c->too_large = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 16384;
        while (cap < c->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        if (cap > c->max + 1)
            cap = c->max + 1; /* never more room than the cap allows */
        char *body = realloc(c->body, cap);
        if (!body) {
            c->oom = 1;
            return 0; /* makes curl stop with CURLE_WRITE_ERROR */
        }
        c->body = body;
        c->cap = cap;
    }
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    collector *c = userdata;
    size_t n = size * nmemb;
    /* A new status line starts the headers of another answer (a redirect,
     * a 100 Continue): keep only the last one's. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        free_headers(c->headers, c->n_headers);
        c->headers = NULL;
        c->n_headers = c->cap_headers = 0;
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n; /* the blank line at the end */
    size_t name_len = (size_t)(colon - data);
    const char *value = colon + 1, *end = data + n;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value &&
           (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (c->n_headers == c->cap_headers) {
        size_t cap = c->cap_headers ? c->cap_headers * 2 : 16;
        ex_http_header *headers = realloc(c->headers, cap * sizeof *headers);
        if (!headers) {
            c->oom = 1;
            return 0;
        }
        c->headers = headers;
        c->cap_headers = cap;
    }
    char *name = copy_n(data, name_len);
    char *val = copy_n(value, (size_t)(end - value));
    if (!name || !val) {
        free(name);
        free(val);
        c->oom = 1;
        return 0;
    }
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    c->headers[c->n_headers].name = name;
    c->headers[c->n_headers].value = val;
    c->n_headers++;
    return n;
}

/* Called about once a second even when nothing arrives: a Ctrl-C or SIGTERM
 * of the run ends the request here instead of at its timeout. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    collector *c = userdata;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (ex_signals_interrupted()) {
        c->interrupted = 1;
        return 1; /* CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
}

/* "200 MB", "512 KB" or "1000 bytes" (MB and KB of 1024). */
static char *format_size(size_t n)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        return ex_format("%zu MB", n / (1024 * 1024));
    if (n >= 1024 && n % 1024 == 0)
        return ex_format("%zu KB", n / 1024);
    return ex_format("%zu bytes", n);
}

/* $EXPLAINER_HTTP_MAX_BYTES: bytes, or a number with K, M or G (of 1024). */
static int max_bytes_from_env(size_t *max, char **errmsg)
{
    const char *v = getenv("EXPLAINER_HTTP_MAX_BYTES");
    *max = EX_HTTP_DEFAULT_MAX_BYTES;
    if (!v || !v[0])
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned long long unit = 1;
    if (*end == 'K' || *end == 'k')
        unit = 1024ULL, end++;
    else if (*end == 'M' || *end == 'm')
        unit = 1024ULL * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        unit = 1024ULL * 1024 * 1024, end++;
    if (errno || end == v || !isdigit((unsigned char)v[0]) || *end || n == 0 ||
        n > (unsigned long long)(SIZE_MAX - 1) / unit) {
        *errmsg = ex_format("EXPLAINER_HTTP_MAX_BYTES='%s' is not a size (bytes, or a "
                            "number with K, M or G)",
                            v);
        return -1;
    }
    *max = (size_t)(n * unit);
    return 0;
}

/* What kind of failure a curl code is (see http.h). */
static const char *error_kind(CURLcode rc, const collector *c)
{
    if (c->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return "too_large";
    if (c->interrupted)
        return "interrupted";
    if (c->oom)
        return "setup";
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        return "connect";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
        return "network";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP3:
        return "protocol";
    case CURLE_TOO_MANY_REDIRECTS:
        return "redirects";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "bad_url";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        return "certificate";
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
        return "setup";
    default:
        return "other";
    }
}

/*
 * libcurl is opened on the first request, not linked: it pulls in some thirty
 * shared libraries, which tripled the start-up time of every run that never
 * makes an HTTP call (make bench).
 */
static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
} api;

static int global_ready;

#define LIBCURL "libcurl.so.4"

static int load_curl(char **errmsg)
{
    void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        *errmsg = ex_format("libcurl not found (%s); run make deps", LIBCURL);
        return -1;
    }
    /* POSIX: function pointers from dlsym go through a data pointer. */
#define LOAD(field, symbol)                                                    \
    do {                                                                       \
        void *sym = dlsym(lib, symbol);                                        \
        if (!sym) {                                                            \
            *errmsg = ex_format("%s has no %s", LIBCURL, symbol);              \
            return -1;                                                         \
        }                                                                      \
        memcpy(&api.field, &sym, sizeof sym);                                  \
    } while (0)
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_perform, "curl_easy_perform");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
#undef LOAD
    return 0;
}

/* The request's headers as curl's list (and no "Expect: 100-continue" round
 * trip before a body). 0, or -1 with *errmsg. */
static int header_list(const ex_http_request *request, struct curl_slist **out, char **errmsg)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; i <= request->n_headers; i++) {
        char *line;
        if (i == request->n_headers) {
            line = ex_format("Expect:");
        } else {
            const ex_http_header *h = &request->headers[i];
            if (!h->name[0] || strpbrk(h->name, "\r\n:") || strpbrk(h->value, "\r\n")) {
                *errmsg = ex_format("invalid HTTP header '%s' (no CR, LF or ':' allowed)",
                                    h->name);
                api.slist_free_all(list);
                return -1;
            }
            /* "Name;" is curl's way to send a header with an empty value. */
            line = h->value[0] ? ex_format("%s: %s", h->name, h->value)
                               : ex_format("%s;", h->name);
        }
        struct curl_slist *grown = line ? api.slist_append(list, line) : NULL;
        free(line);
        if (!grown) {
            *errmsg = ex_format("out of memory");
            api.slist_free_all(list);
            return -1;
        }
        list = grown;
    }
    *out = list;
    return 0;
}

/* Everything curl is told about one request. */
static void set_options(CURL *curl, const ex_http_request *request, struct curl_slist *list,
                        collector *c, char *curl_error)
{
    double timeout = request->timeout > 0 ? request->timeout : 300;
    const char *method = request->method ? request->method : (request->body ? "POST" : "GET");
    api.easy_setopt(curl, CURLOPT_URL, request->url);
    api.easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(curl, CURLOPT_WRITEDATA, c);
    api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(curl, CURLOPT_HEADERDATA, c);
    api.easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    api.easy_setopt(curl, CURLOPT_XFERINFODATA, c);
    api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout < 30 ? timeout * 1000 : 30000));
    api.easy_setopt(curl, CURLOPT_USERAGENT, "explainer/" EXPLAINER_VERSION);
    api.easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (request->follow_redirects) {
        api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        api.easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
        api.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (strcmp(method, "GET") == 0)
        api.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "HEAD") == 0)
        api.easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else
        api.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (request->body) {
        api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_len);
        api.easy_setopt(curl, CURLOPT_POSTFIELDS, request->body);
    }
    /* A Content-Length above the cap is refused before any of the body is
     * read; a body without one is counted as it comes (on_body). */
    if (strcmp(method, "HEAD") != 0)
        api.easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max);
}

/* Why a request failed, as a kind and a message (never the URL). */
static char *failure(CURL *curl, CURLcode rc, const collector *c, const char *curl_error,
                     bool max_from_env, ex_http_response *response)
{
    response->error_kind = error_kind(rc, c);
    /* "Protocol not supported" is a bad URL before a connection, and an
     * answer that is not HTTP (HTTP/0.9) after one. */
    char *ip = NULL;
    if (rc == CURLE_UNSUPPORTED_PROTOCOL &&
        api.easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && ip[0])
        response->error_kind = "protocol";
    const char *detail = curl_error[0] ? curl_error : api.easy_strerror(rc);
    if (strcmp(response->error_kind, "too_large") == 0) {
        char *size = format_size(c->max);
        char *msg = size ? ex_format("answer larger than %s (limit %s)", size,
                                     max_from_env ? "EXPLAINER_HTTP_MAX_BYTES" : "max_bytes")
                         : NULL;
        free(size);
        return msg;
    }
    if (c->interrupted)
        return ex_format("interrupted");
    if (c->oom)
        return ex_format("out of memory reading the answer");
    if (strcmp(response->error_kind, "protocol") == 0)
        return ex_format("the server's answer breaks HTTP: %s", detail);
    if (strcmp(response->error_kind, "redirects") == 0)
        return ex_format("too many redirects: %s", detail);
    return ex_format("%s", detail);
}

int ex_http_perform(const ex_http_request *request, ex_http_response *response,
                    char **errmsg)
{
    memset(response, 0, sizeof *response);
    *errmsg = NULL;
    response->error_kind = "setup";
    if (!request || !request->url) {
        *errmsg = ex_format("no URL to request");
        return -1;
    }
    size_t max = request->max_bytes;
    bool max_from_env = max == 0;
    if (max_from_env && max_bytes_from_env(&max, errmsg) != 0)
        return -1;
    if (!global_ready) {
        if (load_curl(errmsg) != 0)
            return -1;
        if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            *errmsg = ex_format("libcurl failed to initialise");
            return -1;
        }
        global_ready = 1;
    }
    struct curl_slist *list = NULL;
    if (header_list(request, &list, errmsg) != 0)
        return -1;
    CURL *curl = api.easy_init();
    if (!curl) {
        *errmsg = ex_format("libcurl failed to start a request");
        api.slist_free_all(list);
        return -1;
    }
    collector c = {.max = max};
    char curl_error[CURL_ERROR_SIZE] = "";
    set_options(curl, request, list, &c, curl_error);
    CURLcode rc = api.easy_perform(curl);
    if (rc == CURLE_OK)
        api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    else
        *errmsg = failure(curl, rc, &c, curl_error, max_from_env, response);
    api.easy_cleanup(curl);
    api.slist_free_all(list);
    if (rc == CURLE_OK && !c.body && !(c.body = calloc(1, 1))) {
        *errmsg = ex_format("out of memory");
        rc = CURLE_OUT_OF_MEMORY;
    }
    if (rc != CURLE_OK) {
        free(c.body);
        free_headers(c.headers, c.n_headers);
        return -1;
    }
    response->error_kind = NULL;
    response->headers = c.headers;
    response->n_headers = c.n_headers;
    response->body = c.body;
    response->body_len = c.len;
    return 0;
}

void ex_http_response_free(ex_http_response *response)
{
    if (!response)
        return;
    free_headers(response->headers, response->n_headers);
    free(response->body);
    memset(response, 0, sizeof *response);
}
