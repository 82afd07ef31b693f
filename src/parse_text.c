/*
 * parse_text.c -- the parser's bytes to text: UTF-16 with a byte-order mark decoded,
 * line ends found (LF, CRLF or a lone CR), columns counted in characters, and every
 * string handed out a sanitized copy.
 *
 * Every string of a document is valid UTF-8 without NUL or CR bytes: line ends
 * become "\n", and a NUL or a byte that is not part of valid UTF-8 becomes U+FFFD.
 * That way binary junk in a script cannot truncate a value or break a JSON writer;
 * px_check_encoding says, once, that the file held such bytes.
 */
#include "parse_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), 0 when it is not one or is NUL. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xF0 && s[1] < 0x90)) /* overlong */
        return 0;
    if (c == 0xED && s[1] > 0x9F) /* UTF-16 surrogate */
        return 0;
    if (c == 0xF4 && s[1] > 0x8F) /* beyond U+10FFFF */
        return 0;
    return len;
}

/*
 * Length of the prefix of in[0..n) made of bytes that copy as they are: ASCII
 * other than NUL and CR. Eight bytes at a time, since values are mostly plain
 * ASCII and this scan is most of the parser's work.
 */
static size_t plain_prefix(const unsigned char *in, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, cr;
        memcpy(&w, in + i, 8);
        cr = w ^ (ones * '\r');
        /* a byte >= 0x80, a zero byte, a zero byte of w ^ CR (that is, a CR) */
        if ((w | ((w - ones) & ~w) | ((cr - ones) & ~cr)) & highs)
            break;
    }
    while (i < n && in[i] && in[i] < 0x80 && in[i] != '\r')
        i++;
    return i;
}

/* A sanitized, NUL-terminated copy of s in the arena (see the file comment). */
char *px_text_copy(parser *p, span s)
{
    const unsigned char *in = (const unsigned char *)s.p;
    size_t plain = plain_prefix(in, s.n);
    if (plain == s.n) {
        char *out = px_alloc(p, s.n + 1);
        if (!out)
            return NULL;
        memcpy(out, in, s.n);
        out[s.n] = '\0';
        return out;
    }
    size_t len = plain;
    for (size_t i = plain; i < s.n;) {
        if (in[i] == '\r') {
            len++;
            i += (i + 1 < s.n && in[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        size_t k = utf8_sequence(in + i, s.n - i);
        if (k == 1) {
            k = plain_prefix(in + i, s.n - i);
            len += k;
            i += k;
            continue;
        }
        len += k ? k : 3;
        i += k ? k : 1;
    }
    char *out = px_alloc(p, len + 1);
    if (!out)
        return NULL;
    memcpy(out, in, plain);
    char *o = out + plain;
    for (size_t i = plain; i < s.n;) {
        if (in[i] == '\r') {
            *o++ = '\n';
            i += (i + 1 < s.n && in[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        size_t k = utf8_sequence(in + i, s.n - i);
        if (k == 1)
            k = plain_prefix(in + i, s.n - i);
        if (k) {
            memcpy(o, in + i, k);
            o += k;
            i += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    return out;
}

char *px_lit_copy(parser *p, const char *s) { return px_text_copy(p, mkspan(s, strlen(s))); }

/* A copy for a scene member: an empty value counts as absent. */
char *px_member_copy(parser *p, span s) { return s.n ? px_text_copy(p, s) : NULL; }

/* Printable ASCII (no line end: the UTF-16 guess must not depend on line ends). */
static bool printable(char c) { return c >= 0x20 && c < 0x7F; }

/*
 * Text that is not UTF-8: UTF-16 without a byte-order mark, or NUL bytes and bytes
 * of no valid UTF-8 sequence (each reads as U+FFFD). One warning, at the first such
 * byte, with how many there are: a script holding them is a wrong file (binary), a
 * corrupted one, or one saved in another encoding (Latin-1, Windows-1252).
 */
void px_check_encoding(parser *p, const char *s, const char *end)
{
    if (end - s >= 4 && ((printable(s[0]) && !s[1] && printable(s[2]) && !s[3]) ||
                         (!s[0] && printable(s[1]) && !s[2] && printable(s[3])))) {
        px_warn(p, 1, 1, EX_RULE_ENCODING,
                "the text looks like UTF-16 without a byte-order mark; save it as UTF-8 "
                "(or UTF-16 with one)");
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = (size_t)(end - s), nuls = 0, others = 0, first = n;
    for (size_t i = 0; i < n;) {
        i += plain_prefix(u + i, n - i);
        if (i == n)
            break;
        size_t k = u[i] == '\r' ? 1 : utf8_sequence(u + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        first = first < i ? first : i;
        nuls += u[i] == 0;
        others += u[i] != 0;
        i++;
    }
    if (first == n)
        return;
    long line = 1; /* of the first bad byte, counted as the parser counts lines */
    const char *start = s;
    for (const char *c = s; c < s + first; c++)
        if (*c == '\n' || (*c == '\r' && c[1] != '\n')) {
            line++;
            start = c + 1;
        }
    long column = px_column_at(span_between(start, s + first), s + first);
    if (nuls) {
        char more[64] = "";
        if (others)
            snprintf(more, sizeof more, " and %zu invalid UTF-8 byte%s", others,
                     others == 1 ? "" : "s");
        px_warn(p, line, column, EX_RULE_ENCODING,
                "binary data: %zu NUL byte%s%s, the first here; is this the right file? "
                "(each "
                "reads as U+FFFD)",
                nuls, nuls == 1 ? "" : "s", more);
    } else
        px_warn(
            p, line, column, EX_RULE_ENCODING,
            "%zu byte%s not UTF-8, the first here; save the script as UTF-8 (each reads "
            "as U+FFFD)",
            others, others == 1 ? " is" : "s are");
}

/* The end of the line at s: its LF or CR, or end. memchr finds the LF at memory
 * speed; a CR (CRLF or old Mac files) is then looked for within the line only.
 * *next_lf remembers the LF found, so that a file of CR-only line ends is not
 * scanned to its end once per line. */
const char *px_line_end(const char *s, const char *end, const char **next_lf)
{
    if (!*next_lf || *next_lf < s) {
        *next_lf = memchr(s, '\n', (size_t)(end - s));
        if (!*next_lf)
            *next_lf = end;
    }
    const char *cr = memchr(s, '\r', (size_t)(*next_lf - s));
    return cr ? cr : *next_lf;
}

/* The 1-based column, in characters, of the byte at `pos` of a line. */
long px_column_at(span line, const char *pos)
{
    long column = 1;
    for (const char *c = line.p; c < pos && c < line.p + line.n; c++)
        column += ((unsigned char)*c & 0xC0) != 0x80;
    return column;
}

/* A separator line: three dashes or more, nothing else (blanks aside). */
bool px_is_separator(span line)
{
    span t = trim(line);
    if (t.n < 3)
        return false;
    for (size_t i = 0; i < t.n; i++)
        if (t.p[i] != '-')
            return false;
    return true;
}

/* Append code point c to o as UTF-8; returns the new end. */
static char *put_utf8(char *o, unsigned long c)
{
    if (c < 0x80) {
        *o++ = (char)c;
    } else if (c < 0x800) {
        *o++ = (char)(0xC0 | (c >> 6));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *o++ = (char)(0xE0 | (c >> 12));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (c >> 18));
        *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    return o;
}

int ex_utf16_to_utf8(const char *text, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    const unsigned char *u = (const unsigned char *)text;
    if (!text || len < 2 || !((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return 0;
    bool little = u[0] == 0xFF;
    size_t units = (len - 2) / 2;
    /* A unit makes at most 3 bytes (a surrogate pair 4 for 2 units), + U+FFFD + NUL. */
    if (units > (SIZE_MAX - 8) / 3)
        return -1;
    char *buf = px_malloc(units * 3 + 8);
    if (!buf)
        return -1;
    char *o = buf;
    for (size_t i = 0; i < units; i++) {
        const unsigned char *q = u + 2 + 2 * i;
        unsigned long c = little ? (unsigned long)q[0] | (unsigned long)q[1] << 8
                                 : (unsigned long)q[1] | (unsigned long)q[0] << 8;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
            const unsigned char *r = q + 2;
            unsigned long d = little ? (unsigned long)r[0] | (unsigned long)r[1] << 8
                                     : (unsigned long)r[1] | (unsigned long)r[0] << 8;
            if (d >= 0xDC00 && d <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD; /* a lone surrogate */
        o = put_utf8(o, c);
    }
    if ((len - 2) % 2)
        o = put_utf8(o, 0xFFFD); /* a trailing odd byte */
    *o = '\0';
    *out = buf;
    *out_len = (size_t)(o - buf);
    return 1;
}
