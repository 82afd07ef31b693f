/*
 * http.c -- one HTTP request over libcurl (see http.h).
 */
#include "http.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EXPLAINER_VERSION
#define EXPLAINER_VERSION "0"
#endif

typedef struct collector {
    char *body;
    size_t len, cap;
    ex_http_header *headers;
    size_t n_headers, cap_headers;
    int oom;
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
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 16384;
        while (cap < c->len + n + 1)
            cap *= 2;
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

int ex_http_perform(const ex_http_request *request, ex_http_response *response,
                    char **errmsg)
{
    memset(response, 0, sizeof *response);
    *errmsg = NULL;
    if (!request || !request->url) {
        *errmsg = ex_format("no URL to request");
        return -1;
    }
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
    int bad = 0;
    for (size_t i = 0; i < request->n_headers && !bad; i++) {
        const ex_http_header *h = &request->headers[i];
        if (!h->name[0] || strpbrk(h->name, "\r\n:") || strpbrk(h->value, "\r\n")) {
            *errmsg =
                ex_format("invalid HTTP header '%s' (no CR, LF or ':' allowed)", h->name);
            bad = 1;
            break;
        }
        /* "Name;" is curl's way to send a header with an empty value. */
        char *line =
            h->value[0] ? ex_format("%s: %s", h->name, h->value) : ex_format("%s;", h->name);
        struct curl_slist *grown = line ? api.slist_append(list, line) : NULL;
        free(line);
        if (!grown) {
            *errmsg = ex_format("out of memory");
            bad = 1;
            break;
        }
        list = grown;
    }
    /* No "Expect: 100-continue" round trip before a body. */
    struct curl_slist *grown = bad ? NULL : api.slist_append(list, "Expect:");
    if (!bad && !grown) {
        *errmsg = ex_format("out of memory");
        bad = 1;
    }
    if (grown)
        list = grown;
    CURL *curl = bad ? NULL : api.easy_init();
    if (!bad && !curl) {
        *errmsg = ex_format("libcurl failed to start a request");
        bad = 1;
    }
    if (bad) {
        api.slist_free_all(list);
        return -1;
    }

    collector c = {0};
    char curl_error[CURL_ERROR_SIZE] = "";
    double timeout = request->timeout > 0 ? request->timeout : 300;
    const char *method =
        request->method ? request->method : (request->body ? "POST" : "GET");

    api.easy_setopt(curl, CURLOPT_URL, request->url);
    api.easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(curl, CURLOPT_WRITEDATA, &c);
    api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(curl, CURLOPT_HEADERDATA, &c);
    api.easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
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
    if (strcmp(method, "GET") == 0) {
        api.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        api.easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        api.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    if (request->body) {
        api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)request->body_len);
        api.easy_setopt(curl, CURLOPT_POSTFIELDS, request->body);
    }

    CURLcode rc = api.easy_perform(curl);
    if (rc == CURLE_OK) {
        api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    } else if (c.oom) {
        *errmsg = ex_format("out of memory reading the answer from %s", request->url);
    } else {
        *errmsg = ex_format("%s", curl_error[0] ? curl_error : api.easy_strerror(rc));
    }
    api.easy_cleanup(curl);
    api.slist_free_all(list);
    if (rc != CURLE_OK) {
        free(c.body);
        free_headers(c.headers, c.n_headers);
        return -1;
    }
    if (!c.body) {
        c.body = malloc(1);
        if (!c.body) {
            free_headers(c.headers, c.n_headers);
            *errmsg = ex_format("out of memory");
            return -1;
        }
        c.body[0] = '\0';
    }
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
