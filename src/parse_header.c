/*
 * parse_header.c -- which lines are headings, and which headings are scene headers:
 * `## SCENE 3: Title (6 seconds)`, bold whole or in part, a colon or dashes after the
 * number, an optional `- NO NARRATION`; read into a scene_head (number, title,
 * duration group, silence), or an error saying why it is not one. Also the lines
 * that look like a scene header but are not, so that they can be warned about.
 */
#include "parse_internal.h"

#include <string.h>

/* Markdown heading level (1..6) of a line: hashes then a blank or the end. */
int px_heading_level(span line)
{
    size_t h = 0;
    while (h < line.n && h < 7 && line.p[h] == '#')
        h++;
    if (h == 0 || h > 6)
        return 0;
    if (h < line.n && !is_blank(at(line, h)))
        return 0;
    return (int)h;
}

span px_heading_text(span line)
{
    size_t h = 0;
    while (h < line.n && line.p[h] == '#')
        h++;
    return strip_bold(skip(line, h));
}

/*
 * A heading whose text starts with the word SCENE (any case, optionally bold):
 * an attempt at a scene header. Returns the heading level and sets *rest to the
 * text after the word. `##SCENE 3:` (no blank after the hashes) counts too.
 */
int px_scene_like(span line, span *rest)
{
    size_t h = 0;
    while (h < line.n && h < 7 && line.p[h] == '#')
        h++;
    if (h == 0 || h > 6)
        return 0;
    size_t i = skip_blanks(line, h);
    if (i + 1 < line.n && line.p[i] == '*' && line.p[i + 1] == '*')
        i = skip_blanks(line, i + 2);
    if (!has_ci_at(line, i, "scene"))
        return 0;
    i += 5;
    if (i < line.n && is_alpha(at(line, i)))
        return 0; /* SCENES, Scenery: not a scene header */
    *rest = skip(line, i);
    return (int)h;
}

/*
 * Length of the separator at s[i] between a scene number and its title; 0 when
 * there is none. A ':', or a run of dashes ("-", "--", "–", "—") with a blank or the
 * end after it, or right before the title ("## SCENE 6 -Title") when a blank comes
 * before the run and no digit after it: "6-7: Title" and "6 -5" are no separators.
 */
static size_t scene_separator(span s, size_t i)
{
    if (i < s.n && s.p[i] == ':')
        return 1;
    size_t d = dash_run(s, i);
    if (!d)
        return 0;
    size_t after = i + d;
    if (after == s.n || is_blank(at(s, after)))
        return d;
    return i > 0 && is_blank(at(s, i - 1)) && !is_digit(at(s, after)) ? d : 0;
}

/*
 * After `## SCENE`, is the rest an attempt at a scene header (and so a warning when
 * it does not parse)? A number, nothing at all, or a ':' or spaced dashes somewhere
 * ("## Scene Three: Title") is; "## Scene Breakdown" is an ordinary heading.
 */
bool px_header_like(span rest)
{
    size_t i = skip_blanks(rest, 0);
    if (i == rest.n || is_digit(at(rest, i)))
        return true;
    for (size_t k = i; k < rest.n; k++) {
        if (rest.p[k] == ':')
            return true;
        size_t d = dash_run(rest, k);
        if (d && k > 0 && is_blank(at(rest, k - 1)) &&
            (k + d == rest.n || is_blank(at(rest, k + d))))
            return true;
        k += d ? d - 1 : 0;
    }
    return false;
}

/* `SCENE 3: Title` or `**SCENE 3 - Title**` at column 0, not a heading: a scene
 * header that lost its "## ". (Upper case only: "Scene 3: ..." is a label in notes.) */
bool px_bare_scene_header(span line)
{
    size_t i = 0;
    if (line.n > 2 && line.p[0] == '*' && line.p[1] == '*')
        i = 2;
    if (line.n - i < 7 || memcmp(line.p + i, "SCENE", 5) != 0 || !is_blank(at(line, i + 5)))
        return false;
    i = skip_blanks(line, i + 5);
    if (i == line.n || !is_digit(at(line, i)))
        return false;
    while (i < line.n && is_digit(at(line, i)))
        i++;
    if (i + 1 < line.n && line.p[i] == '*' && line.p[i + 1] == '*')
        i += 2;
    return scene_separator(line, skip_blanks(line, i)) != 0;
}

/* "... - NO NARRATION" or "... (NO NARRATION)" at the end of s, or "NO NARRATION"
 * alone (the title of "## SCENE 3 - NO NARRATION"). */
static bool strip_no_narration(span *s)
{
    span t = *s;
    bool paren = false;
    if (t.n && t.p[t.n - 1] == ')') {
        paren = true;
        t = trim(mkspan(t.p, t.n - 1));
    }
    if (!ends_ci(t, "narration"))
        return false;
    t = trim(mkspan(t.p, t.n - 9));
    if (!ends_ci(t, "no"))
        return false;
    t.n -= 2;
    if (t.n && is_alpha(at(t, t.n - 1))) /* "... piano narration" */
        return false;
    t = strip_bold_end(trim(t));
    if (!t.n && !paren) {
        *s = t;
        return true;
    }
    if (paren) {
        if (!t.n || t.p[t.n - 1] != '(')
            return false;
        t.n--;
    } else if (!strip_dash_end(&t)) {
        return false;
    }
    *s = trim(t);
    return true;
}

/* The part of a header after its number and separator: the title, with the
 * duration group and NO NARRATION taken off its end. */
static void read_title(scene_head *h, span t)
{
    for (;;) {
        t = strip_bold_end(t);
        if (!h->no_narration && strip_no_narration(&t)) {
            h->no_narration = true;
            continue;
        }
        if (h->duration_kind == D_NONE) {
            int r = px_strip_duration(&t, &h->duration, &h->group);
            if (r != 0) {
                h->duration_kind = r > 0 ? D_READ : D_UNREADABLE;
                continue;
            }
        }
        break;
    }
    h->title = strip_bold_start(t);
    long open = px_trailing_group(h->title);
    if (h->duration_kind == D_NONE && open >= 0 && h->title.p[open] == '(' &&
        !px_title_part(skip(h->title, (size_t)open))) {
        h->duration_kind = D_DOUBTFUL;
        h->group = skip(h->title, (size_t)open);
    }
}

/* `rest` is the heading text after the word SCENE: " 3: Title (6 seconds) ...",
 * " 3 - Title", " 3 — Title". */
scene_head px_parse_scene_head(span rest)
{
    scene_head h = {0};
    h.duration = EX_DEFAULT_SCENE_SECONDS;
    size_t i = skip_blanks(rest, 0);
    bool overflow;
    if (!px_parse_long(rest, &i, &h.number, &overflow)) {
        h.error = overflow ? "its scene number is too large" : "it has no scene number";
        return h;
    }
    i = skip_blanks(rest, i);
    if (i + 1 < rest.n && rest.p[i] == '*' && rest.p[i + 1] == '*') /* **SCENE 3**: */
        i = skip_blanks(rest, i + 2);
    size_t separator = scene_separator(rest, i);
    if (separator) {
        i += separator;
        h.separated = true;
    } else if (i == rest.n || rest.p[i] == '(' || rest.p[i] == '[') {
        /* "## SCENE 5" or "## SCENE 5 (8s)": a scene without a title */
    } else {
        h.error = "there is no ':' or ' - ' after the scene number";
        return h;
    }
    read_title(&h, trim(skip(rest, i)));
    return h;
}

/* `2. Title`, `2) Title`, `2: Title`, `2 - Title`: the text of a numbered heading. */
static scene_head numbered_head(span text)
{
    scene_head h = {0};
    h.duration = EX_DEFAULT_SCENE_SECONDS;
    size_t i = 0;
    bool overflow;
    if (!px_parse_long(text, &i, &h.number, &overflow)) {
        h.error = "it has no number";
        return h;
    }
    if (i < text.n && (text.p[i] == '.' || text.p[i] == ')') &&
        (i + 1 == text.n || is_blank(at(text, i + 1)))) {
        i++;
    } else {
        i = skip_blanks(text, i);
        size_t separator = scene_separator(text, i);
        if (!separator) {
            h.error = "there is no '.', ':' or ' - ' after the number";
            return h;
        }
        i += separator;
    }
    h.separated = true;
    read_title(&h, trim(skip(text, i)));
    return h;
}

/*
 * A line written like a scene header of another family than `## SCENE n: Title`
 * (docs/format.md, "Scene headers"): at column 0, `**Scene 2: Title (6s)**` (bold,
 * whole or in part) or `Scene 2: Title` / `Scene 2 — Title` (with its separator);
 * or a level-2 heading `## Part 2: Title` or `## 2. Title`. Sets *h to the header
 * read as `## SCENE` headers are, and returns its family; HEADER_NONE when the line
 * is none of these or does not read.
 */
enum header_family px_other_header(span line, scene_head *h)
{
    int level = px_heading_level(line);
    if (level == 2) {
        span text = px_heading_text(line);
        if (has_ci_at(text, 0, "part") && text.n > 4 && is_blank(at(text, 4))) {
            size_t i = skip_blanks(text, 4);
            if (i == text.n || !is_digit(at(text, i)))
                return HEADER_NONE;
            *h = px_parse_scene_head(skip(text, 4));
            return h->error ? HEADER_NONE : HEADER_PART;
        }
        if (!text.n || !is_digit(at(text, 0)))
            return HEADER_NONE;
        *h = numbered_head(text);
        return h->error ? HEADER_NONE : HEADER_NUMBERED;
    }
    if (level)
        return HEADER_NONE;
    size_t i = line.n > 2 && line.p[0] == '*' && line.p[1] == '*' ? 2 : 0;
    if (!has_ci_at(line, i, "scene") || i + 5 >= line.n || !is_blank(at(line, i + 5)))
        return HEADER_NONE;
    span rest = skip(line, i + 5);
    size_t k = skip_blanks(rest, 0);
    if (k == rest.n || !is_digit(at(rest, k)))
        return HEADER_NONE;
    *h = px_parse_scene_head(rest);
    if (h->error || (i == 0 && !h->separated))
        return HEADER_NONE; /* "Scene 2 (6s): ..." is a NARRATION SCRIPT entry's form */
    return HEADER_SCENE;
}
