/*
 * http.c -- one HTTP request over libcurl (see http.h).
 */
#include "http.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
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

static int global_ready;

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
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
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
        struct curl_slist *grown = line ? curl_slist_append(list, line) : NULL;
        free(line);
        if (!grown) {
            *errmsg = ex_format("out of memory");
            bad = 1;
            break;
        }
        list = grown;
    }
    /* No "Expect: 100-continue" round trip before a body. */
    struct curl_slist *grown = bad ? NULL : curl_slist_append(list, "Expect:");
    if (!bad && !grown) {
        *errmsg = ex_format("out of memory");
        bad = 1;
    }
    if (grown)
        list = grown;
    CURL *curl = bad ? NULL : curl_easy_init();
    if (!bad && !curl) {
        *errmsg = ex_format("libcurl failed to start a request");
        bad = 1;
    }
    if (bad) {
        curl_slist_free_all(list);
        return -1;
    }

    collector c = {0};
    char curl_error[CURL_ERROR_SIZE] = "";
    double timeout = request->timeout > 0 ? request->timeout : 300;
    const char *method =
        request->method ? request->method : (request->body ? "POST" : "GET");

    curl_easy_setopt(curl, CURLOPT_URL, request->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &c);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout < 30 ? timeout * 1000 : 30000));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "explainer/" EXPLAINER_VERSION);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (request->follow_redirects) {
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    if (request->body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)request->body_len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request->body);
    }

    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    } else if (c.oom) {
        *errmsg = ex_format("out of memory reading the answer from %s", request->url);
    } else {
        *errmsg = ex_format("%s", curl_error[0] ? curl_error : curl_easy_strerror(rc));
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(list);
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
