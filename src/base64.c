/*
 * base64.c -- RFC 4648 base64 decoding (see base64.h).
 */
#include "base64.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

enum { BAD = 0xFF, SPACE = 0xFE, PAD = 0xFD };

/* Each byte's 6-bit value, or BAD / SPACE / PAD. */
static unsigned char table[256];
static bool table_ready;

static void make_table(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 256; i++)
        table[i] = BAD;
    for (int i = 0; i < 64; i++)
        table[(unsigned char)alphabet[i]] = (unsigned char)i;
    table['-'] = 62; /* the URL-safe alphabet */
    table['_'] = 63;
    table[' '] = table['\t'] = table['\r'] = table['\n'] = table['\f'] = table['\v'] =
        SPACE;
    table['='] = PAD;
    table_ready = true; /* the same values every time: a race is harmless */
}

size_t ex_base64_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}

static int fail(char **errmsg, const char *what, const char *text, size_t at)
{
    unsigned char ch = (unsigned char)text[at];
    if (ch >= 0x21 && ch < 0x7F)
        *errmsg = ex_format("invalid base64: %s '%c' at offset %zu", what, ch, at);
    else
        *errmsg = ex_format("invalid base64: %s 0x%02X at offset %zu", what, ch, at);
    return -1;
}

int ex_base64_decode(const char *text, size_t len, unsigned char *out, size_t *out_len,
                     char **errmsg)
{
    if (!table_ready)
        make_table();
    *errmsg = NULL;
    const unsigned char *in = (const unsigned char *)text;
    size_t o = 0, i = 0;
    uint32_t acc = 0;
    int n = 0; /* sextets in acc */

    /* The fast path: four characters of the alphabet at a time, while
     * no group is half read. */
    for (;;) {
        while (n == 0 && i + 4 <= len) {
            unsigned a = table[in[i]], b = table[in[i + 1]], c = table[in[i + 2]],
                     d = table[in[i + 3]];
            if ((a | b | c | d) & 0xC0)
                break; /* whitespace, padding or a bad byte among them */
            uint32_t v = a << 18 | b << 12 | c << 6 | d;
            out[o] = (unsigned char)(v >> 16);
            out[o + 1] = (unsigned char)(v >> 8);
            out[o + 2] = (unsigned char)v;
            o += 3;
            i += 4;
        }
        if (i >= len)
            break;
        /* One character at a time up to the end of a group of four. */
        unsigned v = table[in[i]];
        if (v == SPACE) {
            i++;
            continue;
        }
        if (v == PAD)
            break;
        if (v == BAD)
            return fail(errmsg, "character", text, i);
        acc = acc << 6 | v;
        i++;
        if (++n == 4) {
            out[o] = (unsigned char)(acc >> 16);
            out[o + 1] = (unsigned char)(acc >> 8);
            out[o + 2] = (unsigned char)acc;
            o += 3;
            acc = 0;
            n = 0;
        }
    }

    /* The end: padding, then nothing but whitespace. */
    size_t pad_at = i;
    int pads = 0;
    for (; i < len; i++) {
        unsigned v = table[in[i]];
        if (v == PAD) {
            pads++;
        } else if (v != SPACE) {
            return fail(errmsg, v == BAD ? "character" : "data after the padding", text,
                        i);
        }
    }
    if (n == 1) {
        *errmsg = ex_format("invalid base64: the text ends in the middle of a byte");
        return -1;
    }
    if (pads && (pads > 2 || n + pads != 4))
        return fail(errmsg, "padding", text, pad_at);
    if (n == 2) {
        out[o++] = (unsigned char)(acc >> 4);
    } else if (n == 3) {
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    *out_len = o;
    return 0;
}
