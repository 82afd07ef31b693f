/*
 * parse_duration.c -- numbers and durations as scripts write them: a scene's
 * "(6 seconds)", "(7.5s)", "(~6s)", "[8s]", "(0:08)", "(1 min)", "(6-8 seconds)" (the
 * upper bound), the header's "Total Duration: 4 minutes 30 seconds"; and the groups
 * that look like a duration but cannot be read ("(six seconds)", "(6 secnds)"), so
 * that they become warnings rather than parts of a title.
 *
 * Numbers are read by hand: the locale's decimal separator never matters.
 */
#include "parse_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/*
 * A decimal number at s[*i]: digits with an optional fraction. Parsed by hand so
 * that the locale's decimal separator never matters. Returns false when there is
 * no digit at *i or the value is not finite.
 */
static bool parse_number(span s, size_t *i, double *out)
{
    size_t k = *i;
    if (k >= s.n || !is_digit(at(s, k)))
        return false;
    double v = 0;
    while (k < s.n && is_digit(at(s, k)))
        v = v * 10 + (at(s, k++) - '0');
    if (k + 1 < s.n && s.p[k] == '.' && is_digit(at(s, k + 1))) {
        double scale = 0.1;
        for (k++; k < s.n && is_digit(at(s, k)); k++) {
            v += (at(s, k) - '0') * scale;
            scale /= 10;
        }
    }
    if (!isfinite(v))
        return false;
    *i = k;
    *out = v;
    return true;
}

/* A non-negative integer at s[*i] that fits in a long; *overflow tells why not. */
bool px_parse_long(span s, size_t *i, long *out, bool *overflow)
{
    size_t k = *i;
    long v = 0;
    *overflow = false;
    if (k >= s.n || !is_digit(at(s, k)))
        return false;
    for (; k < s.n && is_digit(at(s, k)); k++) {
        int d = at(s, k) - '0';
        if (v > (LONG_MAX - d) / 10)
            *overflow = true;
        else
            v = v * 10 + d;
    }
    *i = k;
    *out = v;
    return !*overflow;
}

/* Seconds in one unit named by the word w; 0 when w names no time unit. Single
 * letters count only right after a number (see read_term). */
static double unit_scale(span w)
{
    static const char *const secs[] = {"s", "sec", "secs", "second", "seconds"};
    static const char *const mins[] = {"m", "min", "mins", "minute", "minutes"};
    static const char *const hours[] = {"h", "hr", "hrs", "hour", "hours"};
    for (size_t k = 0; k < 5; k++) {
        if (eq_ci(w, secs[k]))
            return 1;
        if (eq_ci(w, mins[k]))
            return 60;
        if (eq_ci(w, hours[k]))
            return 3600;
    }
    return 0;
}

/* A time unit at s[*i] (a word, then an optional '.'): its seconds, 0 when none. */
static double read_unit(span s, size_t *i)
{
    size_t k = *i;
    while (k < s.n && is_alpha(at(s, k)))
        k++;
    double scale = unit_scale(span_between(s.p + *i, s.p + k));
    if (scale == 0)
        return 0;
    if (k < s.n && s.p[k] == '.')
        k++;
    *i = k;
    return scale;
}

/*
 * One term of a duration at s[*i]: "6", "7.5 seconds", "6s", "1 min", or a clock
 * "0:08" (m:ss), "1:02:03" (h:mm:ss). *has_unit tells whether it named a unit (a
 * clock does).
 */
static bool read_term(span s, size_t *i, double *out, bool *has_unit)
{
    size_t k = *i;
    double v;
    if (!parse_number(s, &k, &v))
        return false;
    if (k + 1 < s.n && s.p[k] == ':' && is_digit(at(s, k + 1))) {
        double part[3] = {v, 0, 0};
        int n = 1;
        while (n < 3 && k + 1 < s.n && s.p[k] == ':' && is_digit(at(s, k + 1))) {
            k++;
            if (!parse_number(s, &k, &part[n]))
                return false;
            n++;
        }
        v = n == 2 ? part[0] * 60 + part[1] : part[0] * 3600 + part[1] * 60 + part[2];
        *has_unit = true;
    } else {
        size_t u = skip_blanks(s, k);
        double scale = read_unit(s, &u);
        *has_unit = scale != 0;
        if (scale != 0) {
            v *= scale;
            k = u;
        }
    }
    *i = k;
    *out = v;
    return true;
}

/*
 * A duration at s[*i], in seconds: terms that add up ("4 minutes 30 seconds",
 * "1m30s"), or a range whose upper bound counts ("6-8 seconds", "6 to 8 s"). A
 * number without a unit is seconds. Reads as far as it can and stops; false when
 * there is no number at *i or the value is absurd (over 10^9 s).
 */
static bool read_duration(span s, size_t *i, double *out, bool *any_unit)
{
    size_t k = *i;
    double total, v;
    bool unit, unit2 = false;
    if (!read_term(s, &k, &total, &unit))
        return false;
    *any_unit = unit;
    for (;;) {
        size_t j = skip_blanks(s, k);
        size_t dash = dash_at(s, j);
        size_t to = has_ci_at(s, j, "to") && j + 2 < s.n && is_blank(at(s, j + 2)) ? 2 : 0;
        if (dash || to) { /* a range: its upper bound */
            size_t m = skip_blanks(s, j + (dash ? dash : to));
            if (!read_term(s, &m, &v, &unit2))
                break;
            total = v;
            k = m;
            *any_unit = *any_unit || unit2;
            break;
        }
        if (has_ci_at(s, j, "and") && j + 3 < s.n && is_blank(at(s, j + 3)))
            j = skip_blanks(s, j + 3);
        else if (j < s.n && s.p[j] == ',')
            j = skip_blanks(s, j + 1);
        size_t m = j;
        if (unit && read_term(s, &m, &v, &unit2) && unit2) { /* "4 minutes 30 seconds" */
            total += v;
            k = m;
            continue;
        }
        break;
    }
    if (!isfinite(total) || total > 1e9)
        return false;
    *i = k;
    *out = total;
    return true;
}

/* The header's Total Duration: the duration at its first number
 * ("72 seconds (6 seconds per scene)" -> 72, "4 minutes 30 seconds" -> 270). */
bool px_total_duration(span s, double *out)
{
    for (size_t i = 0; i < s.n; i++)
        if (is_digit(at(s, i))) {
            size_t k = i;
            bool unit;
            return read_duration(s, &k, out, &unit);
        }
    return false;
}

/* Past a leading "~", "≈", "about", "approx." ... of a duration group. */
static size_t skip_approx(span s)
{
    static const char *const words[] = {"~", "\xE2\x89\x88", "approximately", "approx.",
                                        "approx", "about", "around", "circa", "ca."};
    for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
        size_t n = strlen(words[k]);
        if (has_ci_at(s, 0, words[k]) &&
            (n == s.n || !is_alpha(at(s, n)) || !is_alpha((unsigned char)words[k][n - 1])))
            return skip_blanks(s, n);
    }
    return 0;
}

/* Is w one letter away (one added, dropped, changed, or two swapped) from lit? */
static bool one_edit_from(span w, const char *lit)
{
    size_t n = strlen(lit), i = 0;
    if (w.n + 1 < n || w.n > n + 1)
        return false;
    while (i < w.n && i < n && lower(at(w, i)) == (unsigned char)lit[i])
        i++;
    if (w.n > n) /* added */
        return eq_ci(skip(w, i + 1), lit + i);
    if (w.n < n) /* dropped */
        return eq_ci(skip(w, i), lit + i + 1);
    if (i == n)
        return false; /* the same word */
    if (i + 1 < n && lower(at(w, i)) == (unsigned char)lit[i + 1] &&
        lower(at(w, i + 1)) == (unsigned char)lit[i]) /* swapped */
        return eq_ci(skip(w, i + 2), lit + i + 2);
    return eq_ci(skip(w, i + 1), lit + i + 1); /* changed */
}

/* A unit of seconds or minutes misspelt: "secnds", "secodns", "minuts". */
static bool misspelt_unit(span w)
{
    static const char *const units[] = {"second", "seconds", "minute", "minutes"};
    if (w.n < 5)
        return false; /* "sets", "seas" are one letter from "secs" too */
    for (size_t k = 0; k < sizeof units / sizeof *units; k++)
        if (one_edit_from(w, units[k]))
            return true;
    return false;
}

/*
 * Does a bracket group that did not read as a duration still look like one? A clock
 * ("0:8x"), a number with a unit ("6 or 8 seconds") or with a misspelt one ("6
 * secnds"), or a unit spelled out ("six seconds"). Such a group is a warning rather
 * than part of the title.
 */
static bool looks_like_duration(span s)
{
    bool after_number = false;
    for (size_t i = 0; i < s.n;) {
        unsigned char c = at(s, i);
        if (is_digit(c)) {
            while (i < s.n && (is_digit(at(s, i)) || s.p[i] == '.'))
                i++;
            if (i + 1 < s.n && s.p[i] == ':' && is_digit(at(s, i + 1)))
                return true;
            after_number = true;
            i = skip_blanks(s, i);
            continue;
        }
        if (is_alpha(c)) {
            size_t k = i;
            while (k < s.n && is_alpha(at(s, k)))
                k++;
            span w = span_between(s.p + i, s.p + k);
            double scale = unit_scale(w);
            if (scale != 0 && (after_number || (w.n > 2 && scale < 3600)))
                return true;
            if (after_number && misspelt_unit(w))
                return true;
            i = k;
        } else {
            i++;
        }
        after_number = false;
    }
    return false;
}

/* The bracket group "(...)" or "[...]" that ends s: its offset in s; -1 when none. */
long px_trailing_group(span s)
{
    if (!s.n)
        return -1;
    char close = s.p[s.n - 1];
    char open_c = close == ')' ? '(' : close == ']' ? '[' : 0;
    if (!open_c)
        return -1;
    size_t open = s.n - 1;
    while (open > 0 && s.p[open] != open_c)
        open--;
    return s.p[open] == open_c ? (long)open : -1;
}

/*
 * The duration group at the end of s: "(6 seconds)", "(6s)", "(~6s)", "(0:08)",
 * "[8s]", "(1 min)", "(6-8 seconds)" (the upper bound). Returns 1 and sets *seconds
 * when it reads; -1 when the group looks like a duration but cannot be read ("(six
 * seconds)"); 0 when there is no such group. Either way a group that was taken is
 * removed from s and *group is set to it.
 */
int px_strip_duration(span *s, double *seconds, span *group)
{
    long at_open = px_trailing_group(*s);
    if (at_open < 0)
        return 0;
    size_t open = (size_t)at_open;
    span inner = trim(mkspan(s->p + open + 1, s->n - open - 2));
    size_t i = skip_approx(inner);
    double v = 0;
    bool unit = false; /* "(8)" or "(2-3)" is no duration: a number needs its unit */
    bool read = read_duration(inner, &i, &v, &unit) && i == inner.n && unit;
    if (!read && !looks_like_duration(inner))
        return 0;
    *group = mkspan(s->p + open, s->n - open);
    *s = trim(mkspan(s->p, open));
    if (!read)
        return -1;
    *seconds = v;
    return 1;
}

/*
 * Could the parenthesised group that ends a title be part of it? One with a capital
 * letter, a digit or a character beyond ASCII can ("(Part 2)", "(CO2)", "(Intro)",
 * "(2008)", "(café)"), and so can lower-case words ("(continued)", "(beta)"); at
 * most three lower-case letters or signs ("(abc)", "(tbd)", "(?)", "()") are a
 * duration left blank or gone wrong.
 */
bool px_title_part(span group)
{
    span inner = trim(mkspan(group.p + 1, group.n - 2));
    if (inner.n > 3)
        return true;
    for (size_t i = 0; i < inner.n; i++) {
        unsigned char c = at(inner, i);
        if ((c >= 'A' && c <= 'Z') || is_digit(c) || c >= 0x80)
            return true;
    }
    return false;
}
