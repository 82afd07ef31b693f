/*
 * test_parse.c -- the explainer-script parser (src/parse*.c) on its own: every
 * dialect of docs/format.md, every warning, hostile input, the file API, and every
 * out-of-memory path. Run from the repository root (tests/run does).
 */
#include "check.h"
#include "parse.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXTURE(name) "tests/fixtures/" name

/* ------------------------------------------------------------------ helpers */

static ex_document *parse_text(const char *text)
{
    return ex_parse(text, strlen(text), "t", NULL);
}

static ex_document *load(const char *path)
{
    ex_document *doc = NULL;
    char *err = NULL;
    if (ex_parse_file(path, &doc, &err) != 0) {
        printf("# cannot load %s: %s\n", path, err ? err : "(no message)");
        free(err);
        return NULL;
    }
    return doc;
}

static bool has_warning(const ex_document *doc, long line, const char *part)
{
    for (size_t i = 0; i < doc->n_warnings; i++)
        if (doc->warnings[i].line == line && strstr(doc->warnings[i].message, part))
            return true;
    return false;
}

/* A warning at that line and column, of that rule, whose message holds `part`. */
static bool has_warning_at(const ex_document *doc, long line, long column, const char *rule,
                           const char *part)
{
    for (size_t i = 0; i < doc->n_warnings; i++) {
        const ex_warning *w = &doc->warnings[i];
        if (w->line == line && w->column == column && w->rule && strcmp(w->rule, rule) == 0 &&
            strstr(w->message, part))
            return true;
    }
    return false;
}

static void print_warnings(const ex_document *doc)
{
    for (size_t i = 0; i < doc->n_warnings; i++)
        printf("#   warning %ld:%ld [%s]: %s\n", doc->warnings[i].line, doc->warnings[i].column,
               doc->warnings[i].rule, doc->warnings[i].message);
}

static bool valid_utf8_no_cr(const char *s)
{
    if (!s)
        return true;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len == 0 || c == '\r')
            return false;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
            (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
            return false;
        p += len;
    }
    return true;
}

/* Every string of a document is valid UTF-8 without CR, and every scene title set. */
static bool document_is_clean(const ex_document *doc)
{
    const char *top[] = {doc->name, doc->path, doc->title, doc->style, doc->format, doc->audience};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        if (!valid_utf8_no_cr(top[i]))
            return false;
    for (size_t i = 0; i < doc->n_warnings; i++)
        if (!doc->warnings[i].message || !valid_utf8_no_cr(doc->warnings[i].message) ||
            strchr(doc->warnings[i].message, '\n'))
            return false;
    for (size_t i = 0; i < doc->n_scenes; i++) {
        const ex_scene *s = &doc->scenes[i];
        const char *v[] = {s->title, s->narration, s->layout, s->initial_prompt,
                           s->final_prompt, s->animation_prompt, s->prompt};
        if (!s->title)
            return false;
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            if (!valid_utf8_no_cr(v[k]))
                return false;
        for (size_t k = 0; k < s->n_iterations; k++)
            if (!s->iterations[k] || !valid_utf8_no_cr(s->iterations[k]))
                return false;
        for (size_t k = 0; k < s->n_fields; k++)
            if (!s->fields[k].label || !s->fields[k].value ||
                !valid_utf8_no_cr(s->fields[k].label) || !valid_utf8_no_cr(s->fields[k].value))
                return false;
    }
    return true;
}

static size_t count_words(const char *s)
{
    size_t n = 0;
    bool in_word = false;
    for (; s && *s; s++) {
        bool space = *s == ' ' || *s == '\n' || *s == '\t';
        if (!space && !in_word)
            n++;
        in_word = !space;
    }
    return n;
}

static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fn = strlen(from), tn = strlen(to), count = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + fn, from))
        count++;
    char *out = malloc(strlen(s) + count * tn + 1);
    char *o = out;
    for (const char *p; (p = strstr(s, from)); s = p + fn) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, tn);
        o += tn;
    }
    strcpy(o, s);
    return out;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* -------------------------------------------------------- the bundled sample */

static void test_sample(void)
{
    ex_document *doc = load("examples/sample.txt");
    CHECK(doc != NULL, "examples/sample.txt parses");
    if (!doc)
        return;
    CHECK_STR(doc->name, "sample", "the sample's name is its file stem");
    CHECK_STR(doc->path, "examples/sample.txt", "the sample keeps its path");
    CHECK_STR(doc->title, "How a Heat Pump Works", "the sample's title drops '- 12 SCENES'");
    CHECK(doc->declared_scenes == 12, "the sample declares 12 scenes (got %ld)", doc->declared_scenes);
    CHECK(doc->n_scenes == 12, "the sample has 12 scenes (got %zu)", doc->n_scenes);
    CHECK(doc->n_warnings == 0, "the sample parses without warnings (got %zu)", doc->n_warnings);
    if (doc->n_warnings)
        print_warnings(doc);
    CHECK_STR(doc->format, "9:16 VERTICAL", "the sample's format");
    CHECK(doc->style && strncmp(doc->style, "Clean flat-illustration", 23) == 0, "the sample's style");
    CHECK(doc->audience != NULL, "the sample names its audience");
    CHECK(doc->total_duration_declared && doc->total_duration == 72,
          "the sample declares 72 seconds (got %g)", doc->total_duration);
    CHECK(document_is_clean(doc), "every string of the sample is clean UTF-8");

    size_t in_order = 0, narrated_ok = 0, complete = 0;
    for (size_t i = 0; i < doc->n_scenes; i++) {
        const ex_scene *s = &doc->scenes[i];
        bool silent = i == 0 || i == 11;
        size_t words = count_words(s->narration);
        in_order += s->number == (long)i && s->duration == 6;
        narrated_ok += silent ? (s->no_narration && !s->narration)
                              : (!s->no_narration && words >= 10 && words <= 15);
        complete += s->layout && strncmp(s->layout, "- Background:", 13) == 0 &&
                    s->initial_prompt && s->n_iterations >= 2 && s->animation_prompt &&
                    s->prompt && strncmp(s->prompt, "Initial:", 8) == 0 && !s->final_prompt;
    }
    CHECK(in_order == 12, "the sample's scenes are 0..11, 6 seconds each");
    CHECK(narrated_ok == 12, "scenes 0 and 11 are silent; 1-10 have 10-15 words, what 6 s can hold");
    CHECK(complete == 12, "every sample scene has layout, prompts, iterations, animation");

    /* The footer's NARRATION SCRIPT says the same as the inline narration: hide the
     * inline lines and the fallback must give the same text. */
    size_t len;
    char *text = read_all("examples/sample.txt", &len);
    char *hidden = text ? replace_all(text, "\nNarration: ", "\nDraft: ") : NULL;
    ex_document *fallback = hidden ? ex_parse(hidden, strlen(hidden), "sample", NULL) : NULL;
    size_t same = 0;
    for (size_t i = 0; fallback && i < fallback->n_scenes && i < doc->n_scenes; i++) {
        const char *a = doc->scenes[i].narration, *b = fallback->scenes[i].narration;
        same += (!a && !b) || (a && b && strcmp(a, b) == 0);
    }
    CHECK(fallback && fallback->n_scenes == 12 && same == 12,
          "the sample's NARRATION SCRIPT matches its inline narration (%zu of 12)", same);
    CHECK(fallback && ex_scene_field(&fallback->scenes[1], "Draft") != NULL,
          "the hidden narration became an ordinary field");
    ex_document_free(fallback);
    free(hidden);
    free(text);
    ex_document_free(doc);
}

/* ------------------------------------------------------------------ dialects */

static void test_dialects(void)
{
    ex_document *doc = load(FIXTURE("dialects_bold.txt"));
    CHECK(doc != NULL, "dialects_bold.txt parses");
    if (!doc)
        return;
    CHECK_STR(doc->title, "Bold Dialects", "a bold title with an en dash and 'scenes' in lower case");
    CHECK(doc->declared_scenes == 7, "declared scenes from '– 7 scenes' (got %ld)", doc->declared_scenes);
    CHECK(doc->n_scenes == 7, "seven scene headers give seven scenes (got %zu)", doc->n_scenes);
    CHECK(doc->n_warnings == 0, "the dialects parse without warnings (got %zu)", doc->n_warnings);
    if (doc->n_warnings)
        print_warnings(doc);
    CHECK_STR(doc->style, "A quoted style", "a quoted header value loses its quotes");
    CHECK_STR(doc->format, "16:9 HORIZONTAL", "the header format");
    CHECK_STR(doc->audience, NULL, "an audience only in the footer is not the header's");
    CHECK(doc->total_duration_declared && doc->total_duration == 45.5,
          "Total Duration: 45.5 from the header, not the footer's 999 (got %g)", doc->total_duration);
    if (doc->n_scenes != 7) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK(s[0].number == 0 && s[0].no_narration && s[0].duration == 5,
          "'## **SCENE 0: ... (5 seconds)** - NO NARRATION'");
    CHECK_STR(s[0].title, "Cold Open", "bold header title");
    CHECK(s[1].duration == 7.5, "(7.5 seconds) (got %g)", s[1].duration);
    CHECK_STR(s[1].title, "Bold Everything", "'## **Scene 1: ...**' in mixed case");
    CHECK(s[1].line == 17, "scene 1 header is on line 17 (got %ld)", s[1].line);
    CHECK(s[2].duration == 6 && s[2].number == 2, "'## scene 2: ... (6s)' in lower case");
    CHECK_STR(s[2].title, "Lowercase And Short", "the (6s) group leaves the title");
    CHECK(s[3].duration == 4, "(4 sec) (got %g)", s[3].duration);
    CHECK(s[4].duration == EX_DEFAULT_SCENE_SECONDS, "no duration group means 6 seconds");
    CHECK_STR(s[4].title, "No Duration Given", "title without a duration group");
    CHECK_STR(s[5].title, "Title With (Parentheses)", "a non-duration group stays in the title");
    CHECK(s[5].duration == 8 && s[5].no_narration, "'(8 seconds) - no narration' in lower case");
    CHECK(s[6].no_narration && s[6].duration == 6, "NO NARRATION inside the bold markers");
    CHECK_STR(s[6].title, "Silent Bold", "title of a fully bold silent scene");

    CHECK_STR(s[1].narration, "She called it \"the ultimate takeout,\" as if it were a verdict.",
              "a quoted narration keeps its inner quotes");
    CHECK_STR(ex_scene_field(&s[1], "Mood"), "playful", "an unknown field is kept");
    CHECK_STR(ex_scene_field(&s[1], "Camera Notes"), "slow push-in,\n  then a hold on the final frame",
              "an unquoted field runs over its continuation lines");
    CHECK(s[1].n_fields == 3 && strcmp(s[1].fields[0].label, "Narration") == 0 &&
              strcmp(s[1].fields[2].label, "Camera Notes") == 0,
          "fields are kept in file order");
    CHECK_STR(s[2].narration, "A narration that starts on the next line\nand continues on a third.",
              "a quoted narration starting on the next line, over two lines");
    CHECK_STR(s[3].narration, "Unquoted narration, trimmed.", "an unquoted narration is trimmed");
    CHECK_STR(s[4].narration, "Four.", "narration before a Layout Design");
    CHECK(s[4].n_fields == 2, "bullets, URLs and times never open fields (got %zu)", s[4].n_fields);
    CHECK(s[4].layout && strstr(s[4].layout, "https://example.com/not-a-label") &&
              strstr(s[4].layout, "Note at 10:30"),
          "lines that are not labels stay in the open field");
    CHECK(ex_scene_field(&s[4], "Mood") == NULL,
          "a field under a non-scene '##' heading belongs to no scene");
    CHECK_STR(s[0].layout, "- Background: black\n- Text: \"Cold open\" - centered",
              "layout is the bullet lines as written");
    CHECK(s[0].narration == NULL && s[5].narration == NULL, "silent scenes have no narration");
    ex_document_free(doc);
}

static void test_scene_headers(void)
{
    ex_document *doc = parse_text(
        "## SCENE 1: Minutes (1 minute)\n"
        "## SCENE 2: Dotted (6 sec.)\n"
        "## SCENE 3: Seconds Upper (3 SECONDS)\n"
        "## SCENE 4: Not A Duration (six seconds)\n"
        "## SCENE 5: Paren Silent (NO NARRATION)\n"
        "## SCENE 6: Em Dash Silent \xE2\x80\x94 NO NARRATION\n"
        "## SCENE 7: Piano Narration\n"
        "## SCENE 8: Swapped - NO NARRATION (7 seconds)\n"
        "## **SCENE 9**: Bold Number\n"
        "##SCENE 10:No Space\n"
        "## SCENE 11:\n"
        "## SCENE 12: Huge Duration (99999999999 seconds)\n"
        "## SCENE 13: Unclosed (6 seconds\n"
        "## Scenes Overview\n"
        "## SCENE 014: Leading Zero\n");
    CHECK(doc && doc->n_scenes == 14, "fourteen header variants give fourteen scenes (got %zu)",
          doc ? doc->n_scenes : 0);
    if (!doc || doc->n_scenes != 14) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK(s[0].duration == 60, "(1 minute) is 60 seconds (got %g)", s[0].duration);
    CHECK(s[1].duration == 6, "(6 sec.) (got %g)", s[1].duration);
    CHECK(s[2].duration == 3, "(3 SECONDS) (got %g)", s[2].duration);
    CHECK(s[3].duration == 6, "(six seconds) cannot be read: the default 6 seconds");
    CHECK_STR(s[3].title, "Not A Duration", "an unreadable duration group leaves the title");
    CHECK(has_warning_at(doc, 4, 28, "duration", "cannot read the duration '(six seconds)'"),
          "...and is a warning at its line and column");
    CHECK(s[4].no_narration, "(NO NARRATION) in parentheses");
    CHECK_STR(s[4].title, "Paren Silent", "title without (NO NARRATION)");
    CHECK(s[5].no_narration, "an em dash before NO NARRATION");
    CHECK(!s[6].no_narration, "'Piano Narration' is not NO NARRATION");
    CHECK_STR(s[6].title, "Piano Narration", "title ending in 'no narration' letters");
    CHECK(s[7].no_narration && s[7].duration == 7, "NO NARRATION before the duration group");
    CHECK_STR(s[7].title, "Swapped", "title with swapped suffixes");
    CHECK(s[8].number == 9, "'## **SCENE 9**: ...' has number 9");
    CHECK_STR(s[8].title, "Bold Number", "title after a bold scene number");
    CHECK(s[9].number == 10, "'##SCENE 10:' without blanks");
    CHECK_STR(s[9].title, "No Space", "title right after the colon");
    CHECK_STR(s[10].title, "", "an empty title is \"\", never NULL");
    CHECK(s[11].duration == 6, "an absurd duration is not a duration (got %g)", s[11].duration);
    CHECK_STR(s[11].title, "Huge Duration", "...and leaves the title");
    CHECK(has_warning_at(doc, 12, 28, "duration", "99999999999 seconds"), "...with a warning");
    CHECK_STR(s[12].title, "Unclosed (6 seconds", "an unclosed group stays in the title");
    CHECK(s[13].number == 14, "leading zeros in a scene number");
    CHECK(doc->n_warnings == 2, "'## Scenes Overview' is not a scene header (got %zu warnings)",
          doc->n_warnings);
    if (doc->n_warnings != 2)
        print_warnings(doc);
    CHECK(!doc->total_duration_declared && doc->total_duration == 60 + 3 + 7 + 6 * 11,
          "without a header total, the total is the sum of the scenes (got %g)",
          doc->total_duration);
    ex_document_free(doc);
}

/* The separator after the scene number: ':', or dashes ("-", "--", "–", "—") before
 * a blank or right before the title; hyphens inside titles and numbers that look
 * negative or like a range are left alone. */
static void test_separators(void)
{
    static const struct {
        const char *header;
        long number;
        const char *title;
        double seconds;
        bool silent;
    } cases[] = {
        {"## SCENE 4 -- Title (6s)", 4, "Title", 6, false},
        {"## SCENE 6 -Title (6s)", 6, "Title", 6, false},
        {"## SCENE 7 --Title", 7, "Title", 6, false},
        {"## SCENE 8 --- Title [8s]", 8, "Title", 8, false},
        {"## SCENE 9 \xE2\x80\x94Title", 9, "Title", 6, false},
        {"## **SCENE 10** -Bold (4s)", 10, "Bold", 4, false},
        {"## SCENE 11 -- Self-Evident -- NO NARRATION", 11, "Self-Evident", 6, true},
        {"## SCENE 2: Real-Time Data", 2, "Real-Time Data", 6, false},
        {"## SCENE 3 - Well-Known Facts", 3, "Well-Known Facts", 6, false},
        {"## SCENE 3 -- Well-Known Facts", 3, "Well-Known Facts", 6, false},
        {"## SCENE 12: -5 Degrees", 12, "-5 Degrees", 6, false},
        {"## SCENE 13 - -5 Degrees", 13, "-5 Degrees", 6, false},
        {"## SCENE 14: Plan - B", 14, "Plan - B", 6, false},
        {"## SCENE 15 - NO NARRATION", 15, "", 6, true},
        {"## SCENE 16 -- NO NARRATION (5s)", 16, "", 5, true},
    };
    size_t right = 0, n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) {
        ex_document *doc = parse_text(cases[i].header);
        const ex_scene *s = doc && doc->n_scenes == 1 ? &doc->scenes[0] : NULL;
        bool ok = s && doc->n_warnings == 0 && s->number == cases[i].number &&
                  strcmp(s->title, cases[i].title) == 0 && s->duration == cases[i].seconds &&
                  s->no_narration == cases[i].silent;
        if (!ok) {
            printf("#   %s -> %s\n", cases[i].header, s ? s->title : "(no scene)");
            if (doc)
                print_warnings(doc);
        }
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == n, "'--', '-Title' and the other separators, hyphens in titles kept (%zu of %zu)",
          right, n);

    /* A dash right after the number, or one before a digit, is no separator: these
     * are warnings, never scenes with a title cut in two. */
    static const char *const broken[] = {"## SCENE 6-7: Combined", "## SCENE 6 -5 Degrees",
                                         "## SCENE 6-Title", "## SCENE 6 --2 (6s)"};
    right = 0;
    for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
        ex_document *doc = parse_text(broken[i]);
        bool ok = doc && doc->n_scenes == 0 && doc->n_warnings == 1 &&
                  has_warning_at(doc, 1, 1, "scene-header", "no ':' or ' - '");
        if (!ok && doc)
            print_warnings(doc);
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == sizeof broken / sizeof *broken,
          "'6-7:', '6 -5', '6-Title' are scene-header warnings (%zu of %zu)", right,
          sizeof broken / sizeof *broken);

    ex_document *doc = parse_text("# Salt -- 1 SCENE\nSCENE 2 -- Lost Its Hashes\n"
                                  "## Scene Two -- Spelled Out\n## SCENE 1 -- Kept\n");
    CHECK(doc && doc->n_scenes == 1 && doc->declared_scenes == 1, "'# Salt -- 1 SCENE' declares 1");
    CHECK_STR(doc ? doc->title : NULL, "Salt", "...and its title loses ' -- 1 SCENE'");
    CHECK(doc && doc->n_warnings == 2 && has_warning_at(doc, 2, 1, "scene-header", "not a '## '") &&
              has_warning_at(doc, 3, 1, "scene-header", "no scene number"),
          "'SCENE 2 --' without hashes and '## Scene Two --' are warnings like their ':' forms");
    if (doc && doc->n_warnings != 2)
        print_warnings(doc);
    ex_document_free(doc);
}

static void test_header(void)
{
    ex_document *doc = parse_text("# Just A Title\nStyle:   spaced out   \nTotal Duration: about a minute\n"
                                  "Total Duration: 30 seconds\n## SCENE 1: A (5 seconds)\n");
    CHECK(doc && doc->declared_scenes == -1, "a title without ' - N SCENES' declares nothing");
    CHECK_STR(doc ? doc->title : NULL, "Just A Title", "the whole heading is the title");
    CHECK_STR(doc ? doc->style : NULL, "spaced out", "header values are trimmed");
    CHECK(doc && doc->total_duration_declared && doc->total_duration == 30,
          "a header Total Duration without a number is skipped for the next one (got %g)",
          doc ? doc->total_duration : -1);
    ex_document_free(doc);

    doc = parse_text("Total Duration: 72 seconds\nTotal Duration: 80 seconds\n## SCENE 1: A\n");
    CHECK(doc && doc->total_duration == 72, "the first header Total Duration wins (got %g)",
          doc ? doc->total_duration : -1);
    ex_document_free(doc);

    doc = parse_text("Total Duration: TBD\n## SCENE 1: A (5 seconds)\n");
    CHECK(doc && !doc->total_duration_declared && doc->total_duration == 5,
          "a Total Duration without any number leaves the sum (got %g)",
          doc ? doc->total_duration : -1);
    ex_document_free(doc);

    doc = parse_text("Intro text\n\n## SCENE 1: A\n\n# Appendix - 3 SCENES\nStyle: late\n"
                     "Total Duration: 100 seconds\n");
    CHECK(doc && doc->title == NULL && doc->declared_scenes == -1,
          "a level-1 heading after the first scene is not the title");
    CHECK(doc && doc->style == NULL, "header fields after the first scene are ignored");
    CHECK(doc && !doc->total_duration_declared && doc->total_duration == 6,
          "a Total Duration after the scenes does not count (got %g)",
          doc ? doc->total_duration : -1);
    ex_document_free(doc);

    doc = parse_text("# First - 2 SCENES\n# Second - 9 SCENES\n## Overview\nFormat: 1:1\n"
                     "## SCENE 1: A\n## SCENE 2: B\n");
    CHECK_STR(doc ? doc->title : NULL, "First", "the first level-1 heading is the title");
    CHECK_STR(doc ? doc->format : NULL, "1:1", "a '##' section before the first scene is header");
    CHECK(doc && doc->declared_scenes == 2 && doc->n_warnings == 0,
          "declared and found scene counts agree: no warning");
    ex_document_free(doc);

    doc = parse_text("# Behind the Scenes\n# 12 SCENES\n");
    CHECK_STR(doc ? doc->title : NULL, "Behind the Scenes", "'Scenes' without a number is title text");
    CHECK(doc && doc->declared_scenes == -1 && doc->n_warnings == 0, "...and declares nothing");
    ex_document_free(doc);

    doc = parse_text("# Huge - 99999999999999999999999 SCENES\n");
    CHECK(doc && doc->declared_scenes == -1, "an overflowing declared count is not a count");
    ex_document_free(doc);
}

/* ------------------------------------------------------------ image prompts */

static void test_bold_labels(void)
{
    ex_document *doc = parse_text(
        "## SCENE 1: Bold (6s)\n\n**Narration:** \"Said in bold.\"\n\n"
        "**Animation Prompt**: \"Slow zoom.\"\n**Not a label** but prose: with a colon\n\n"
        "**Mood:** calm\n");
    CHECK(doc && doc->n_scenes == 1, "bold labels: one scene");
    if (doc && doc->n_scenes == 1) {
        const ex_scene *s = &doc->scenes[0];
        CHECK_STR(s->narration, "Said in bold.", "**Narration:** opens the narration");
        CHECK_STR(s->animation_prompt, "Slow zoom.", "**Animation Prompt**: opens the animation prompt");
        CHECK_STR(ex_scene_field(s, "Mood"), "calm", "a bold custom label is kept without its stars");
        CHECK(ex_scene_field(s, "Not a label** but prose") == NULL &&
                  ex_scene_field(s, "Not a label") == NULL,
              "bold text with a later colon opens no field");
    }
    ex_document_free(doc);
}

static void test_two_step(void)
{
    ex_document *doc = load(FIXTURE("two_step.txt"));
    CHECK(doc && doc->n_scenes == 3, "two_step.txt has 3 scenes");
    if (!doc || doc->n_scenes != 3) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK_STR(s[0].initial_prompt, "A lighthouse on a cliff at dawn, 9:16 vertical, flat vector style.",
              "Initial Prompt: on its own line, value on the next");
    CHECK_STR(s[0].final_prompt, NULL, "a '[To be determined ...]' final prompt is NULL");
    CHECK(s[0].prompt && strncmp(s[0].prompt, "Initial Prompt:\n\"A lighthouse", 29) == 0 &&
              strstr(s[0].prompt, "Final Prompt (after review):"),
          "prompt is the raw image-prompt block with its sub-lines");
    CHECK_STR(ex_scene_field(&s[0], "Image Generation Prompts (2-Step Workflow)"), s[0].prompt,
              "the block is also a field");
    CHECK(ex_scene_field(&s[0], "Initial Prompt") == NULL && ex_scene_field(&s[0], "Final Prompt (after review)") == NULL,
          "sub-lines of the block do not open fields");
    CHECK(s[0].n_fields == 3, "Narration, the block, Animation (got %zu)", s[0].n_fields);
    CHECK_STR(s[0].animation_prompt, "The beam sweeps slowly across the sea.",
              "the animation prompt after the block");
    CHECK_STR(s[1].initial_prompt, "The same lighthouse on a stormy night.", "inline 'Initial:'");
    CHECK_STR(s[1].final_prompt, "The same lighthouse on a stormy night, the \"keeper's\" lantern lit.",
              "'Final Prompt (refined):' inline, inner quotes kept");
    CHECK_STR(s[1].animation_prompt, "Rain streaks diagonally.", "the short 'Animation Prompt:' label");
    CHECK_STR(s[2].initial_prompt, "A harbour at noon.", "a standalone Initial Prompt field");
    CHECK_STR(s[2].final_prompt, "A harbour at noon, with two fishing boats.",
              "a standalone Final Prompt field");
    CHECK(s[2].prompt == NULL, "standalone prompt fields are not an image-prompt block");
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: Bare\nImage Generation Prompts (2-Step Workflow):\n\"Just one prompt\"\n");
    CHECK_STR(doc && doc->n_scenes ? doc->scenes[0].initial_prompt : NULL, "Just one prompt",
              "a block without sub-lines is the initial prompt");
    ex_document_free(doc);
}

static void test_nano_banana(void)
{
    ex_document *doc = load(FIXTURE("nano_banana.txt"));
    CHECK(doc && doc->n_scenes == 4, "nano_banana.txt has 4 scenes");
    if (!doc || doc->n_scenes != 4) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK_STR(s[0].initial_prompt, "A red kite over green hills, 9:16.", "the Initial: part, label removed");
    CHECK(s[0].n_iterations == 3, "three iterations (got %zu)", s[0].n_iterations);
    if (s[0].n_iterations == 3) {
        CHECK_STR(s[0].iterations[0], "Make the kite larger.", "iteration 1, label and '|' removed");
        CHECK_STR(s[0].iterations[1], "Add a second, smaller kite.", "iteration 2");
        CHECK_STR(s[0].iterations[2], "Warm the light.", "iteration 3");
    }
    CHECK(s[0].prompt && strncmp(s[0].prompt, "Initial: A red kite", 19) == 0 &&
              s[0].prompt[strlen(s[0].prompt) - 1] == '.',
          "prompt is the whole chain without its quotes");
    CHECK_STR(s[1].initial_prompt, "A bicycle leaning on a brick wall", "a chain over several lines");
    CHECK(s[1].n_iterations == 2 && s[1].n_fields == 1,
          "'Iteration n:' lines at column 0 stay in the block (%zu iterations, %zu fields)",
          s[1].n_iterations, s[1].n_fields);
    if (s[1].n_iterations == 2)
        CHECK_STR(s[1].iterations[1], "Add a \"No Parking\" sign", "an iteration with inner quotes");
    CHECK(s[2].initial_prompt == NULL && s[2].n_iterations == 0,
          "a '[Follow same ...]' placeholder gives no initial prompt");
    CHECK_STR(s[2].prompt, "[Follow same 3-step iteration process as Scene 1]",
              "...but the raw block keeps the placeholder");
    CHECK_STR(s[3].initial_prompt, "A bowl of ramen seen from above, steam rising.",
              "an unlabelled prompt is the initial prompt");
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: A\nNano Banana Iterative Prompt: \"Initial Prompt: base || "
                     "Iteration 1: | iteration 2 : second\"\n");
    const ex_scene *t = doc && doc->n_scenes ? &doc->scenes[0] : NULL;
    CHECK_STR(t ? t->initial_prompt : NULL, "base", "'Initial Prompt:' and doubled bars");
    CHECK(t && t->n_iterations == 1, "an empty iteration is dropped (got %zu)", t ? t->n_iterations : 0);
    if (t && t->n_iterations == 1)
        CHECK_STR(t->iterations[0], "second", "a lower-case label with a blank before the colon");
    ex_document_free(doc);
}


/* The dialects of people and language models (issue 10): dashes, label variants,
 * open quotes, durations. */
static void test_dialects_dash(void)
{
    ex_document *doc = load(FIXTURE("dialects_dash.txt"));
    CHECK(doc && doc->n_scenes == 8, "dialects_dash.txt: every one of the 8 headers is a scene (got %zu)",
          doc ? doc->n_scenes : 0);
    if (!doc || doc->n_scenes != 8) {
        ex_document_free(doc);
        return;
    }
    CHECK(doc->n_warnings == 0, "...without a warning (got %zu)", doc->n_warnings);
    if (doc->n_warnings)
        print_warnings(doc);
    CHECK_STR(doc->title, "Why the Sea Is Salty", "an em dash before '8 SCENES'");
    CHECK(doc->declared_scenes == 8, "declared 8");
    CHECK(doc->total_duration == 112, "Total Duration: 1:52 is 112 seconds (got %g)",
          doc->total_duration);
    const ex_scene *s = doc->scenes;
    static const double durations[] = {8, 6, 7.5, 8, 8, 8, 60, 6};
    static const char *const titles[] = {"The Salty Question", "Rock Is the Source",
        "Rivers Carry It Down", "The Sun Takes the Water", "Vents on the Sea Floor",
        "Why Lakes Stay Fresh", "A Very Long Game", "Goodbye, Salty Sea"};
    size_t right = 0;
    for (size_t i = 0; i < 8; i++) {
        bool ok = s[i].number == (long)i + 1 && s[i].duration == durations[i] &&
                  strcmp(s[i].title, titles[i]) == 0;
        if (!ok)
            printf("#   scene %ld: '%s' (%g s)\n", s[i].number, s[i].title, s[i].duration);
        right += ok;
    }
    CHECK(right == 8, "numbers, titles and durations of '## **SCENE 1 — T** (8s)', '(~6s)', "
                      "'– T (7.5s)', '- T [8s]', '(0:08)', '(6-8 seconds)', '(1 min)' (%zu of 8)",
          right);
    CHECK(s[7].no_narration && !s[7].narration, "'— Title – NO NARRATION' is a silent scene");
    CHECK_STR(s[0].narration, "Rivers taste fresh, yet the ocean is salty. Where does all that salt come from?",
              "'Narration (VO):' is narration");
    CHECK_STR(s[1].narration, "Rain is slightly acidic, so it slowly dissolves the rock it falls on.",
              "'**Narration (VO):** “…”' is narration, curly quotes removed");
    CHECK_STR(s[2].narration, "Rivers pick up the dissolved minerals and carry them to the sea.",
              "'Voiceover:' is narration");
    CHECK_STR(s[3].narration, "The sun lifts pure water into the sky\nand leaves every grain of salt behind.\n"
                              "Stored salt: that is what the sea keeps, year after year.",
              "'Voice-over:' is narration, and a 'Label:' line inside its open quote is its text");
    CHECK(ex_scene_field(&s[3], "Stored salt") == NULL, "...and no fake 'Stored salt' field appears");
    CHECK_STR(ex_scene_field(&s[3], "Mood"), "quiet", "the field after the closed quote opens");
    CHECK_STR(s[4].narration, "Hot springs on the sea floor add still more minerals.", "'VO:' is narration");
    CHECK(s[5].narration && s[6].narration, "plain Narration still works");
    ex_document_free(doc);
}

static void test_durations(void)
{
    static const struct {
        const char *group;
        double seconds;
        const char *title;
    } cases[] = {
        {"(6 seconds)", 6, "T"},      {"(6s)", 6, "T"},           {"(~6s)", 6, "T"},
        {"(\xE2\x89\x88 7 s)", 7, "T"}, {"(about 9 sec)", 9, "T"}, {"(0:08)", 8, "T"},
        {"(1:30)", 90, "T"},          {"(1:02:03)", 3723, "T"},   {"[8s]", 8, "T"},
        {"[8 seconds]", 8, "T"},      {"(1 min)", 60, "T"},       {"(1.5 minutes)", 90, "T"},
        {"(1m30s)", 90, "T"},         {"(1 min 30 s)", 90, "T"},  {"(6-8 seconds)", 8, "T"},
        {"(6 \xE2\x80\x93 8s)", 8, "T"}, {"(6 to 10 sec)", 10, "T"}, {"(5s-7s)", 7, "T"},
        {"(6 sec.)", 6, "T"},         {"(2 hours)", 7200, "T"},   {"(8)", 6, "T (8)"},
        {"[Part 2]", 6, "T [Part 2]"}, {"(Intro)", 6, "T (Intro)"}, {"(10 minutes)", 600, "T"},
    };
    size_t right = 0, n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) {
        char text[128];
        snprintf(text, sizeof text, "## SCENE 1: T %s\n", cases[i].group);
        ex_document *doc = parse_text(text);
        size_t long_ones = cases[i].seconds > 600; /* read, and a warning (test_duration_typos) */
        bool ok = doc && doc->n_scenes == 1 && doc->n_warnings == long_ones &&
                  doc->scenes[0].duration == cases[i].seconds &&
                  strcmp(doc->scenes[0].title, cases[i].title) == 0;
        if (!ok)
            printf("#   %s -> %g s, title '%s', %zu warnings\n", cases[i].group,
                   doc && doc->n_scenes ? doc->scenes[0].duration : -1,
                   doc && doc->n_scenes ? doc->scenes[0].title : "", doc ? doc->n_warnings : 0);
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == n, "every duration dialect reads, and non-durations stay in the title (%zu of %zu)",
          right, n);

    ex_document *bare = parse_text("## SCENE 1\n## **SCENE 2** (8s)\n## SCENE 3 [4 sec] - NO NARRATION\n");
    CHECK(bare && bare->n_scenes == 3 && bare->n_warnings == 0 && !bare->scenes[0].title[0] &&
              bare->scenes[1].duration == 8 && bare->scenes[2].duration == 4 &&
              bare->scenes[2].no_narration && !bare->scenes[2].title[0],
          "'## SCENE 1' alone, or with only a duration, is a scene without a title");
    ex_document_free(bare);

    static const char *const unreadable[] = {"(six seconds)", "(6 or 8 seconds)", "(0:8x)",
                                             "[a few secs]", "(6 seconds each)", "(6 secnds)",
                                             "(6 secodns)", "(2 minuts)", "(1 mintue)"};
    right = 0;
    for (size_t i = 0; i < sizeof unreadable / sizeof *unreadable; i++) {
        char text[128];
        snprintf(text, sizeof text, "\n## SCENE 3: Title %s\n", unreadable[i]);
        ex_document *doc = parse_text(text);
        bool ok = doc && doc->n_scenes == 1 && strcmp(doc->scenes[0].title, "Title") == 0 &&
                  doc->scenes[0].duration == 6 && doc->n_warnings == 1 &&
                  has_warning_at(doc, 2, 19, "duration", unreadable[i]);
        if (!ok && doc)
            print_warnings(doc);
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == sizeof unreadable / sizeof *unreadable,
          "a duration-like group that cannot be read, a misspelt unit too: a warning at its "
          "column, not in the title, 6 seconds (%zu of %zu)", right,
          sizeof unreadable / sizeof *unreadable);

    static const struct {
        const char *value;
        double seconds;
    } totals[] = {{"72 seconds (6 seconds per scene)", 72}, {"4 minutes 30 seconds", 270},
                  {"4 min and 30 s", 270}, {"1:30", 90}, {"about 90s", 90},
                  {"1.5 minutes", 90}, {"2 min, 5 sec", 125}, {"60-75 seconds", 75}};
    right = 0;
    for (size_t i = 0; i < sizeof totals / sizeof *totals; i++) {
        char text[128];
        snprintf(text, sizeof text, "Total Duration: %s\n## SCENE 1: A\n", totals[i].value);
        ex_document *doc = parse_text(text);
        bool ok = doc && doc->total_duration_declared && doc->total_duration == totals[i].seconds;
        if (!ok)
            printf("#   Total Duration: %s -> %g\n", totals[i].value, doc ? doc->total_duration : -1);
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == sizeof totals / sizeof *totals,
          "Total Duration reads minutes and seconds, clocks and ranges (%zu of %zu)", right,
          sizeof totals / sizeof *totals);
}

/* Durations that read but are surely typos, and groups that may be durations gone
 * wrong; parentheses that belong to the title stay silent. */
static void test_duration_typos(void)
{
    static const struct {
        const char *header;
        double seconds;
        const char *title;
        long column; /* of the warning; 0: none */
        const char *message;
    } cases[] = {
        {"## SCENE 1: A (0 seconds)", 0, "A", 15, "'(0 seconds)' is no time at all; a typo?"},
        {"## SCENE 1: A (0:00)", 0, "A", 15, "'(0:00)' is no time at all"},
        {"## SCENE 1: A (99999 seconds)", 99999, "A", 15,
         "scene 1: '(99999 seconds)' is over 10 minutes; a typo?"},
        {"## SCENE 1: A (11 min)", 660, "A", 15, "'(11 min)' is over 10 minutes"},
        {"## SCENE 5: Title (abc)", 6, "Title (abc)", 19,
         "scene 5: '(abc)' is not a duration (write it as '(6 seconds)'); it stays in the title "
         "and the scene gets 6 seconds"},
        {"## SCENE 1: A (tbd) - NO NARRATION", 6, "A (tbd)", 15, "'(tbd)' is not a duration"},
        {"## SCENE 1: A ( ? )", 6, "A ( ? )", 15, "'( ? )' is not a duration"},
        {"## SCENE 1: A ()", 6, "A ()", 15, "'()' is not a duration"},
        /* no warning */
        {"## SCENE 1: A (10 minutes)", 600, "A", 0, NULL},
        {"## SCENE 1: A (0.5s)", 0.5, "A", 0, NULL},
        {"## SCENE 1: Setup (Part 2)", 6, "Setup (Part 2)", 0, NULL},
        {"## SCENE 1: Emissions (CO2)", 6, "Emissions (CO2)", 0, NULL},
        {"## SCENE 1: The Crash (2008)", 6, "The Crash (2008)", 0, NULL},
        {"## SCENE 1: The plan (continued)", 6, "The plan (continued)", 0, NULL},
        {"## SCENE 1: Caf\xC3\xA9 (\xC3\xA0)", 6, "Caf\xC3\xA9 (\xC3\xA0)", 0, NULL},
        {"## SCENE 1: Workout (3 Sets)", 6, "Workout (3 Sets)", 0, NULL},
        {"## SCENE 1: Tips (3 Secrets)", 6, "Tips (3 Secrets)", 0, NULL},
        {"## SCENE 1: A (abc) (6s)", 6, "A (abc)", 0, NULL},
        {"## SCENE 1: A [tbd]", 6, "A [tbd]", 0, NULL}, /* a placeholder: check's rule */
    };
    size_t right = 0, n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) {
        ex_document *doc = parse_text(cases[i].header);
        const ex_scene *s = doc && doc->n_scenes == 1 ? &doc->scenes[0] : NULL;
        bool ok = s && s->duration == cases[i].seconds && strcmp(s->title, cases[i].title) == 0 &&
                  (cases[i].column ? doc->n_warnings == 1 &&
                                         has_warning_at(doc, 1, cases[i].column, "duration",
                                                        cases[i].message)
                                   : doc->n_warnings == 0);
        if (!ok) {
            printf("#   %s -> '%s' %g s\n", cases[i].header, s ? s->title : "", s ? s->duration : -1);
            if (doc)
                print_warnings(doc);
        }
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == n, "0 s, over 10 minutes and '(abc)' are duration warnings; '(Part 2)', "
                      "'(CO2)', '(continued)' are title parts (%zu of %zu)", right, n);
}

static void test_narration_entries(void)
{
    ex_document *doc = load(FIXTURE("narration_entries.txt"));
    CHECK(doc && doc->n_scenes == 5, "narration_entries.txt has 5 scenes");
    if (!doc || doc->n_scenes != 5) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK_STR(s[0].narration, "Plain entry for one.", "'Scene 1: \"…\"'");
    CHECK_STR(s[1].narration, "Entry with its duration, for two.",
              "'Scene 2 (6s): \"…\"', with no blank line before it");
    CHECK_STR(s[2].narration, "Bold number, unquoted, for three.", "'**Scene 3**: …' unquoted");
    CHECK_STR(s[3].narration, "Bold with a duration, for four,\nScene 9: still inside the open quote of four.",
              "'**Scene 4 (6s):** \"…' runs on while its quote is open");
    CHECK(s[4].no_narration && !s[4].narration, "the NO NARRATION scene stays silent");
    CHECK(doc->n_warnings == 1 &&
              has_warning_at(doc, 16, 1, "no-narration", "scene 5 is marked NO NARRATION (line 8)"),
          "...and its entry in the NARRATION SCRIPT is a warning at the entry's line");
    if (doc->n_warnings != 1)
        print_warnings(doc);
    CHECK(doc->total_duration == 270, "Total Duration: 4 minutes 30 seconds is 270 (got %g)",
          doc->total_duration);
    ex_document_free(doc);
}

static void test_dialect_problems(void)
{
    ex_document *doc = load(FIXTURE("dialect_problems.txt"));
    CHECK(doc && doc->n_scenes == 3, "dialect_problems.txt: scenes 1, 4 and 6 (got %zu)",
          doc ? doc->n_scenes : 0);
    if (!doc)
        return;
    CHECK(doc->n_warnings == 7, "seven problems, seven warnings (got %zu)", doc->n_warnings);
    if (doc->n_warnings != 7)
        print_warnings(doc);
    CHECK(has_warning_at(doc, 1, 1, "scene-count", "declares 6 scenes but 3"), "the count, line 1");
    CHECK(has_warning_at(doc, 6, 1, "scene-header", "'## Scene Two: Spelled-Out Number"),
          "a spelled-out number, line 6");
    CHECK(has_warning_at(doc, 9, 1, "scene-header", "not a '## ' heading"),
          "a header without its hashes, line 9");
    CHECK(has_warning_at(doc, 11, 23, "duration", "(about eight seconds)"),
          "an unreadable duration, line 11 column 23");
    CHECK(has_warning_at(doc, 12, 12, "unclosed-quote", "Narration"),
          "an unclosed quote, at the quote");
    CHECK(has_warning_at(doc, 17, 1, "scene-header", "level-3 heading"), "a level-3 header, line 17");
    CHECK(has_warning_at(doc, 25, 1, "no-narration", "scene 6"), "silent scene's script entry");
    if (doc->n_scenes == 3) {
        CHECK_STR(doc->scenes[1].narration, "An unclosed quote opens here\nand never closes.",
                  "the unclosed narration ends at the label after the blank line");
        CHECK_STR(ex_scene_field(&doc->scenes[1], "Mood"), "tense", "...which opens its field");
    }
    ex_document_free(doc);
}

/* ----------------------------------------------------------------- encodings */

static void test_crlf_bom(void)
{
    size_t len;
    char *raw = read_all(FIXTURE("crlf_bom.txt"), &len);
    CHECK(raw && len > 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0 && strstr(raw, "\r\n"),
          "the crlf_bom fixture really has a BOM and CRLF line ends");
    free(raw);
    ex_document *doc = load(FIXTURE("crlf_bom.txt"));
    CHECK(doc && doc->n_scenes == 2, "BOM + CRLF: two scenes");
    if (!doc || doc->n_scenes != 2) {
        ex_document_free(doc);
        return;
    }
    CHECK_STR(doc->title, "Windows Script", "the BOM is not part of the title");
    CHECK(doc->declared_scenes == 2, "declared count read before the CR");
    CHECK_STR(doc->style, "Plain", "no CR in header values");
    CHECK_STR(doc->scenes[0].narration, "Line ends are CRLF.\nThis is a second line.",
              "a two-line narration has a plain '\\n'");
    CHECK_STR(doc->scenes[0].layout, "- Background: white\n- Text: \"Hello\"", "layout without CRs");
    CHECK(doc->scenes[1].line == 14 && doc->scenes[1].no_narration, "line numbers count CRLF once");
    CHECK(document_is_clean(doc), "no CR anywhere in the document");
    ex_document_free(doc);

    /* Old Mac line ends (a lone CR) are line ends too. */
    doc = parse_text("# Mac - 1 SCENES\rStyle: classic\r## SCENE 1: Lone CR (6s)\rNarration: \"cr\"\r");
    CHECK(doc && doc->n_scenes == 1 && doc->scenes[0].line == 3, "lone CRs end lines");
    CHECK_STR(doc && doc->n_scenes ? doc->scenes[0].narration : NULL, "cr", "narration after lone CRs");
    CHECK_STR(doc ? doc->style : NULL, "classic", "header after lone CRs");
    ex_document_free(doc);

}

/* UTF-16 text the way a Windows editor saves it, in either byte order. */
static char *to_utf16(const char *utf8, bool little, size_t *len)
{
    size_t n = strlen(utf8);
    char *out = malloc(2 * n + 4);
    size_t o = 0;
    out[o++] = little ? '\xFF' : '\xFE';
    out[o++] = little ? '\xFE' : '\xFF';
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)utf8[i];
        unsigned long cp;
        size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        cp = k == 1 ? c : c & (0xFF >> (k + 1));
        for (size_t j = 1; j < k; j++)
            cp = cp << 6 | ((unsigned char)utf8[i + j] & 0x3F);
        i += k;
        unsigned long units[2] = {cp, 0};
        int nu = 1;
        if (cp >= 0x10000) {
            units[0] = 0xD800 + ((cp - 0x10000) >> 10);
            units[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
            nu = 2;
            char *grown = realloc(out, 2 * n + 4 + o);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        for (int u = 0; u < nu; u++) {
            out[o++] = (char)(little ? units[u] & 0xFF : units[u] >> 8);
            out[o++] = (char)(little ? units[u] >> 8 : units[u] & 0xFF);
        }
    }
    *len = o;
    return out;
}

static void test_utf16(void)
{
    static const char script[] = "# Wide \xE2\x80\x93 2 SCENES\r\nStyle: caf\xC3\xA9\r\n\r\n"
                                 "## SCENE 1: Emoji \xF0\x9F\x8C\x8A (4s)\r\n"
                                 "Narration: \xE2\x80\x9CWaves.\xE2\x80\x9D\r\n"
                                 "## SCENE 2 \xE2\x80\x94 Two\r\n";
    for (int little = 0; little < 2; little++) {
        size_t len;
        char *wide = to_utf16(script, little, &len);
        ex_document *doc = ex_parse(wide, len, "w", NULL);
        const char *order = little ? "UTF-16LE" : "UTF-16BE";
        CHECK(doc && doc->n_scenes == 2 && doc->n_warnings == 0,
              "%s with a BOM is decoded: two scenes, no warning", order);
        if (doc && doc->n_scenes == 2) {
            CHECK_STR(doc->title, "Wide", "UTF-16: the title, BOM gone, en dash read");
            CHECK_STR(doc->style, "caf\xC3\xA9", "UTF-16: an accented header value");
            CHECK_STR(doc->scenes[0].title, "Emoji \xF0\x9F\x8C\x8A",
                      "UTF-16: a surrogate pair becomes one 4-byte character");
            CHECK(doc->scenes[0].duration == 4 && doc->scenes[1].line == 6,
                  "%s: durations and line numbers as in UTF-8", order);
            CHECK_STR(doc->scenes[0].narration, "Waves.", "UTF-16: curly-quoted narration");
            CHECK(document_is_clean(doc), "%s: the document is clean UTF-8", order);
        }
        ex_document_free(doc);
        free(wide);
    }

    /* A lone surrogate, a lone low surrogate and an odd trailing byte. */
    static const char broken[] = "\xFF\xFE#\0 \0\x00\xD8T\0\x00\xDCx";
    char *out = NULL;
    size_t n = 0;
    CHECK(ex_utf16_to_utf8(broken, sizeof broken - 1, &out, &n) == 1 && out &&
              strcmp(out, "# \xEF\xBF\xBDT\xEF\xBF\xBD\xEF\xBF\xBD") == 0 && n == strlen(out),
          "broken UTF-16 decodes with U+FFFD for each bad unit and the odd byte");
    free(out);
    CHECK(ex_utf16_to_utf8("# T", 3, &out, &n) == 0 && out == NULL,
          "text without a UTF-16 BOM is left alone");

    /* Without a BOM there is no telling for sure: a warning says what it looks like. */
    static const char bare[] = "#\0 \0T\0\n\0";
    ex_document *doc = ex_parse(bare, sizeof bare - 1, "u", NULL);
    CHECK(doc && doc->n_scenes == 0 && has_warning_at(doc, 1, 1, "encoding", "UTF-16 without"),
          "UTF-16 without a BOM gets an encoding warning");
    CHECK(doc && doc->n_warnings == 1, "...and only that one, not one for its NUL bytes too");
    ex_document_free(doc);
}

/* NUL bytes and invalid UTF-8: one warning at the first, saying how many. */
static void test_binary_bytes(void)
{
    static const struct {
        const char *text;
        size_t len;
        long line, column;
        const char *message;
    } cases[] = {
#define CASE(text, line, column, message) {text, sizeof text - 1, line, column, message}
        /* (the junk after the closed quote is also not the narration: a field-text) */
        CASE("## SCENE 1: A (6s)\nNarration: \"hi\"\n\x7F" "ELF\x02\x01\x01\x00\x00\xFF\xC3", 3, 8,
             "binary data: 2 NUL bytes and 2 invalid UTF-8 bytes, the first here"),
        CASE("## SCENE 1: A\n\x00", 2, 1, "binary data: 1 NUL byte, the first here"),
        CASE("## SCENE 1: Caf\xE9 (6s)\r\nNarration: \"na\xEFve\"\n", 1, 16,
             "2 bytes are not UTF-8, the first here; save the script as UTF-8"),
        CASE("a\rb\r\n\n## SCENE 1: \xC3\xA9\xE2\x80\x94\xC3", 4, 15, "1 byte is not UTF-8"),
        CASE("\xEF\xBB\xBF## SCENE 1: A\xFF\xFE", 1, 14, "2 bytes are not UTF-8"),
        CASE("## SCENE 1: \xED\xA0\x80 \xF4\x90\x80\x80 \xC0\xAF", 1, 13, "9 bytes are not UTF-8"),
#undef CASE
    };
    size_t right = 0, n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) {
        ex_document *doc = ex_parse(cases[i].text, cases[i].len, "b", NULL);
        size_t want = i == 0 ? 2 : 1;
        bool ok = doc && doc->n_scenes == 1 && doc->n_warnings == want &&
                  has_warning_at(doc, cases[i].line, cases[i].column, "encoding", cases[i].message) &&
                  (want == 1 || has_warning_at(doc, 3, 1, "field-text", "Narration"));
        if (!ok) {
            printf("#   case %zu\n", i + 1);
            if (doc)
                print_warnings(doc);
        }
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == n, "NUL and invalid UTF-8 bytes: one encoding warning at the first, with "
                      "their count; lines counted as the parser does (%zu of %zu)", right, n);

    ex_document *doc = parse_text("## SCENE 1: Caf\xC3\xA9 \xF0\x9F\x8C\x8A \xE2\x80\x94 \xEF\xBF\xBD\t\x01\n");
    CHECK(doc && doc->n_scenes == 1 && doc->n_warnings == 0,
          "valid UTF-8 (accents, emoji, U+FFFD itself, control characters) is no problem");
    ex_document_free(doc);
}

/* --------------------------------------------------------- narration script */

static void test_narration_script(void)
{
    ex_document *doc = load(FIXTURE("narration_script.txt"));
    CHECK(doc && doc->n_scenes == 5, "narration_script.txt has 5 scenes");
    if (!doc || doc->n_scenes != 5) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK_STR(s[0].narration, NULL, "a NO NARRATION scene ignores its NARRATION SCRIPT line");
    CHECK_STR(s[1].narration, "Script narration for one.", "a scene without Narration: takes the script's");
    CHECK_STR(s[2].narration, "Inline narration for two.", "inline narration wins over the script");
    CHECK_STR(s[3].narration, "Script narration for three.", "an empty inline Narration falls back");
    CHECK_STR(ex_scene_field(&s[3], "Narration"), "", "...and the empty field is still kept");
    CHECK_STR(s[4].narration, "Script narration for four,\nspread over two lines.",
              "a script entry over two lines");
    CHECK(doc->n_warnings == 1 && has_warning_at(doc, 27, 1, "no-narration", "scene 0 is marked"),
          "an unused script entry is no problem, but one for a silent scene is (got %zu)",
          doc->n_warnings);
    CHECK(doc->total_duration == 30, "a Total Duration after the script does not count");
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: A\n## SCENE 2: B\n## **Narration Script**\n"
                     "- **Scene 1:** \"bold one\"\nScene 2: \"first two\"\nScene 2: \"second two\"\n"
                     "## Other\nScene 1: \"too late\"\n");
    CHECK_STR(doc && doc->n_scenes == 2 ? doc->scenes[0].narration : NULL, "bold one",
              "a bold, bulleted script line under a bold heading without a colon");
    CHECK_STR(doc && doc->n_scenes == 2 ? doc->scenes[1].narration : NULL, "first two",
              "the first script line for a scene wins");
    ex_document_free(doc);

    doc = parse_text("## NARRATION SCRIPT\nScene 1: \"before the scene\"\n\n## SCENE 1: A\n");
    CHECK_STR(doc && doc->n_scenes == 1 ? doc->scenes[0].narration : NULL, "before the scene",
              "a NARRATION SCRIPT section before the scenes works too");
    ex_document_free(doc);
}

/* ------------------------------------------- silent narration (issue 17) */

/* A scene whose Narration says there is none is silent: no words to speak or caption. */
static void test_silent_narration(void)
{
    static const char *const silent[] = {"None", "none", "N/A", "n/a", "-", "--", "—", "–",
                                         "\"\"", "“”", "\"None\"", "None.", "(none)",
                                         "Silent", "(silent)", "No narration", "  None  ",
                                         "None (title card)"};
    size_t n_silent = sizeof silent / sizeof *silent, right = 0;
    for (size_t i = 0; i < n_silent; i++) {
        char text[200];
        snprintf(text, sizeof text,
                 "## SCENE 1: A\nNarration: %s\n## SCENE 2: B\nNarration: \"Spoken.\"\n", silent[i]);
        ex_document *doc = parse_text(text);
        bool ok = doc && doc->n_scenes == 2 && !doc->scenes[0].narration &&
                  doc->scenes[0].no_narration && !doc->scenes[1].no_narration &&
                  doc->scenes[1].narration && doc->n_warnings == 0;
        if (!ok)
            printf("#   'Narration: %s' is not a silent scene\n", silent[i]);
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == n_silent, "'Narration: None', 'N/A', '-', '—', '\"\"' and the like make a "
                             "silent scene, narration NULL and no_narration set (%zu of %zu)",
          right, n_silent);

    static const char *const spoken[] = {"None of this is silent.", "\"N/A is what the form said.\"",
                                         "- and then it rained", "Nonetheless, it moves.",
                                         "[Clean, concise narration]"};
    size_t n_spoken = sizeof spoken / sizeof *spoken;
    right = 0;
    for (size_t i = 0; i < n_spoken; i++) {
        char text[200];
        snprintf(text, sizeof text, "## SCENE 1: A\nNarration: %s\n", spoken[i]);
        ex_document *doc = parse_text(text);
        bool ok = doc && doc->n_scenes == 1 && doc->scenes[0].narration &&
                  !doc->scenes[0].no_narration;
        if (!ok)
            printf("#   'Narration: %s' lost its words\n", spoken[i]);
        right += ok;
        ex_document_free(doc);
    }
    CHECK(right == n_spoken, "narration that only starts like 'None' or '-' is spoken (%zu of %zu)",
          right, n_spoken);

    ex_document *doc = parse_text("## SCENE 1: A\nNarration:\n## NARRATION SCRIPT\nScene 1: \"x\"\n");
    CHECK(doc && doc->n_scenes == 1 && !doc->scenes[0].no_narration &&
              doc->scenes[0].narration && strcmp(doc->scenes[0].narration, "x") == 0,
          "an empty 'Narration:' with nothing after it is not filled in yet: the section's "
          "entry still counts");
    ex_document_free(doc);

    doc = load(FIXTURE("silent_narration.txt"));
    CHECK(doc && doc->n_scenes == 8, "silent_narration.txt has 8 scenes");
    if (!doc || doc->n_scenes != 8) {
        ex_document_free(doc);
        return;
    }
    size_t quiet = 0;
    for (size_t i = 0; i < 7; i++)
        quiet += doc->scenes[i].no_narration && !doc->scenes[i].narration;
    CHECK(quiet == 7, "scenes 1-6 (inline None, N/A, -, —, \"\", “”) and 7 (the section's "
                      "'Scene 7: None') are silent (%zu of 7)", quiet);
    CHECK_STR(doc->scenes[7].narration, "None of this is silent.", "scene 8 speaks");
    CHECK(doc->n_warnings == 2 && has_warning_at(doc, 27, 1, "no-narration", "line 4") &&
              has_warning_at(doc, 28, 1, "no-narration", "line 16"),
          "the section's words for scenes 1 and 5, silent by their Narration, are warnings "
          "naming that line (got %zu)", doc->n_warnings);
    if (doc->n_warnings != 2)
        print_warnings(doc);
    ex_document_free(doc);
}

/* ------------------------------------------ scene-like lines (issue 17) */

/* In a script of `## SCENE n` headers, other scene-like lines followed by a
 * Narration are warnings with their line; nothing becomes a scene. */
static void test_scene_like_lines(void)
{
    ex_document *doc = load(FIXTURE("scene_like_lines.txt"));
    CHECK(doc && doc->n_scenes == 2 && doc->scenes[0].number == 1 && doc->scenes[1].number == 7,
          "scene_like_lines.txt: only its two '## SCENE' headers are scenes (got %zu)",
          doc ? doc->n_scenes : 0);
    if (!doc || doc->n_scenes != 2) {
        ex_document_free(doc);
        return;
    }
    static const struct {
        long line;
        const char *part;
    } lost[] = {{9, "'**Scene 2: The Moon Pulls (6s)**' looks like scene 2"},
                {13, "'Scene 3: The Far Side Bulges (6s)' looks like scene 3"},
                {16, "'Scene 4 — Spring and Neap' looks like scene 4"},
                {19, "'## Part 5: The Shape of the Coast' looks like scene 5"},
                {22, "'## 6. Reading a Tide Table' looks like scene 6"}};
    size_t right = 0;
    for (size_t i = 0; i < 5; i++) {
        bool ok = has_warning_at(doc, lost[i].line, 1, "scene-header", lost[i].part);
        if (!ok)
            printf("#   no scene-header warning at line %ld\n", lost[i].line);
        right += ok;
    }
    CHECK(right == 5, "'**Scene 2: …**', 'Scene 3: …', 'Scene 4 — …', '## Part 5: …' and "
                      "'## 6. …', each followed by a Narration, are scene-header warnings (%zu of 5)",
          right);
    CHECK(doc->n_warnings == 6 && has_warning_at(doc, 1, 1, "scene-count", "declares 7"),
          "...and no other line warns: notes and NARRATION SCRIPT entries without a Narration "
          "after them are prose (got %zu warnings)", doc->n_warnings);
    if (doc->n_warnings != 6)
        print_warnings(doc);
    CHECK_STR(doc->scenes[0].narration, "Twice a day the sea climbs the beach and slips back.",
              "scene 1 keeps its own narration, not the lost scenes'");
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: A\nNarration: \"a\"\n\n## NARRATION SCRIPT\n"
                     "Scene 1: \"a\"\nScene 2: \"b\"\nNarration: \"not an entry\"\n");
    CHECK(doc && doc->n_scenes == 1 && doc->n_warnings == 1 &&
              has_warning_at(doc, 7, 1, "field-text", "the NARRATION SCRIPT entry"),
          "'Scene 2:' entries of the NARRATION SCRIPT are never scenes nor scene-header "
          "warnings (the line after entry 2's closed quote is not part of it)");
    ex_document_free(doc);
}

/* A script without `## SCENE` headers: a family of numbered headers each followed by a
 * Narration line are its scenes. */
static void test_header_families(void)
{
    ex_document *doc = load(FIXTURE("headers_bold_scene.txt"));
    CHECK(doc && doc->n_scenes == 4, "'**Scene n: Title (6s)**' headers are the scenes (got %zu)",
          doc ? doc->n_scenes : 0);
    if (doc && doc->n_scenes == 4) {
        const ex_scene *s = doc->scenes;
        static const double durations[] = {6, 8, 6, 6};
        static const char *const titles[] = {"Cherry to Bean", "The Roast", "Grind and Brew",
                                             "The Cup"};
        size_t right = 0;
        for (size_t i = 0; i < 4; i++)
            right += s[i].number == (long)i + 1 && s[i].duration == durations[i] &&
                     strcmp(s[i].title, titles[i]) == 0;
        CHECK(right == 4, "numbers, titles and durations read as for '## SCENE' (%zu of 4)", right);
        CHECK(s[0].line == 6 && s[3].line == 24, "each scene's line is its header's");
        CHECK_STR(s[0].narration, "Every coffee bean starts as the seed of a red cherry.",
                  "the inline narration");
        CHECK(s[2].no_narration && !s[2].narration, "'Narration: None' is a silent scene");
        CHECK_STR(ex_scene_field(&s[1], "Image Prompt"), "Beans tumbling in a drum roaster, smoke curling",
                  "fields belong to their scene");
        CHECK_STR(doc->format, "9:16 VERTICAL", "the header before the first scene");
        CHECK(doc->n_warnings == 0, "no warnings: the NARRATION SCRIPT's 'Scene 1:' entries "
                                    "stay entries (got %zu)", doc->n_warnings);
        if (doc->n_warnings)
            print_warnings(doc);
    }
    ex_document_free(doc);

    doc = load(FIXTURE("headers_plain_scene.txt"));
    CHECK(doc && doc->n_scenes == 3 && doc->n_warnings == 0,
          "'Scene 1: …', 'Scene 2 — …', 'Scene 3 - …' headers are the scenes (got %zu, %zu warnings)",
          doc ? doc->n_scenes : 0, doc ? doc->n_warnings : 0);
    if (doc && doc->n_scenes == 3) {
        CHECK_STR(doc->scenes[1].title, "The Waggle", "the title after an em dash");
        CHECK(doc->scenes[2].duration == 7, "'(7 seconds)'");
        CHECK(doc->scenes[0].layout && strstr(doc->scenes[0].layout, "honeycomb"),
              "the layout of scene 1");
    }
    ex_document_free(doc);

    doc = load(FIXTURE("headers_part.txt"));
    CHECK(doc && doc->n_scenes == 3 && doc->n_warnings == 0 && doc->scenes[2].duration == 8 &&
              doc->scenes[2].no_narration && doc->scenes[0].animation_prompt,
          "'## Part n: Title' headers are the scenes; 'Narration: N/A' is silent");
    ex_document_free(doc);

    doc = load(FIXTURE("headers_numbered.txt"));
    CHECK(doc && doc->n_scenes == 3 && doc->scenes[2].no_narration &&
              doc->scenes[1].duration == 6,
          "'## n. Title' headers are the scenes; 'Narration: —' is silent");
    CHECK(doc && doc->n_warnings == 1 &&
              has_warning_at(doc, 12, 1, "scene-header", "no Narration follows"),
          "'## 4) Notes', written like the scenes but without a Narration, is a warning");
    ex_document_free(doc);

    static const struct {
        const char *text, *what;
        size_t scenes;
        long warned; /* the line of the one warning; 0: none */
        const char *part;
    } cases[] = {
        {"**Scene 1: A**\nNarration: \"a\"\n**Scene 2: B**\nNarration: \"b\"\n## Part 3: C\n"
         "Narration: \"c\"\n",
         "another family with a Narration is a warning", 2, 5, "written unlike"},
        {"Scene 1: Intro\nScene 2: Middle\n\n**Scene 1: Intro**\nNarration: \"a\"\n"
         "**Scene 2: Middle**\nNarration: \"b\"\n",
         "a list of the scenes before them is no warning", 2, 0, NULL},
        {"**Scene 1: A**\nImage Prompt: x\n**Scene 2: B**\n",
         "no Narration anywhere: no scenes, and each header says why", 0, 1, "no Narration follows"},
        {"## NARRATION SCRIPT\nScene 1: \"Hello.\"\nScene 2: \"World.\"\n",
         "a NARRATION SCRIPT alone has no scenes and no scene-header warnings", 0, 0, NULL},
        {"SCENE 1: Upper Case\nNarration: \"a\"\n",
         "'SCENE 1: …' without '## ' followed by a Narration is a scene", 1, 0, NULL},
        {"Scene 1: A\nVoiceover: \"a\"\n", "any narration label counts", 1, 0, NULL},
        {"**Scene 1: Title Card - NO NARRATION**\n**Scene 2: B**\nNarration: \"b\"\n",
         "a header marked NO NARRATION needs no Narration line", 2, 0, NULL},
        {"## 2.5 Percent\nNarration: \"a\"\n## 2024 Results\nNarration: \"b\"\n",
         "'## 2.5 …' and '## 2024 …' are no numbered headers", 0, 0, NULL},
        {"Scene 2 (6s): \"entry-like\"\nNarration: \"a\"\n",
         "'Scene 2 (6s): …' without a separator is no header", 0, 0, NULL},
        {"## Part 1: A\nNarration: \"a\"\n## 1. B\nNarration: \"b\"\n## 2. C\nNarration: \"c\"\n",
         "the family with the most narrated headers wins", 2, 1, "written unlike"},
    };
    size_t right = 0, n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) {
        ex_document *d = parse_text(cases[i].text);
        bool ok = d && d->n_scenes == cases[i].scenes;
        size_t header_warnings = 0;
        for (size_t k = 0; d && k < d->n_warnings; k++)
            header_warnings += strcmp(d->warnings[k].rule, "scene-header") == 0;
        if (ok && cases[i].warned)
            ok = has_warning_at(d, cases[i].warned, 1, "scene-header", cases[i].part);
        else if (ok)
            ok = header_warnings == 0;
        if (!ok) {
            printf("#   not so: %s (%zu scenes)\n", cases[i].what, d ? d->n_scenes : 0);
            if (d)
                print_warnings(d);
        }
        right += ok;
        ex_document_free(d);
    }
    CHECK(right == n, "scene-header families, case by case (%zu of %zu)", right, n);
}

/* ------------------------------------------------------------------ warnings */

static void test_warnings(void)
{
    ex_document *doc = load(FIXTURE("duplicates.txt"));
    CHECK(doc != NULL, "duplicates.txt parses: problems are never fatal");
    if (!doc)
        return;
    CHECK(doc->n_scenes == 4, "four well-formed scene headers (got %zu)", doc->n_scenes);
    CHECK(doc->has_duplicates, "duplicate scene numbers are flagged");
    CHECK(doc->n_warnings == 9, "nine warnings (got %zu)", doc->n_warnings);
    if (doc->n_warnings != 9)
        print_warnings(doc);
    CHECK(has_warning(doc, 1, "declares 6 scenes but 4 were found"), "declared count mismatch, line 1");
    CHECK(has_warning(doc, 6, "'## SCENE X: Not A Number (6 seconds)' looks like a scene header"),
          "'## SCENE X:' is a broken scene header on line 6");
    CHECK(has_warning(doc, 9, "no ':' or ' - ' after the scene number"),
          "a header without a colon or dash, line 9");
    CHECK(has_warning(doc, 11, "duplicate scene number 1: lines 3 and 11"),
          "the duplicate names both lines");
    CHECK(has_warning(doc, 16, "scene 3 is marked NO NARRATION but has a Narration"),
          "NO NARRATION with narration, at the Narration line");
    CHECK(has_warning(doc, 18, "level-3 heading"), "a '### SCENE' header at the wrong level");
    CHECK(has_warning(doc, 20, "too large"), "a scene number that does not fit");
    CHECK(has_warning(doc, 22, "lines 3 and 22"), "a third occurrence names the first");
    CHECK(has_warning(doc, 23, "'## SCENE' looks like a scene header"), "'## SCENE' at EOF, no newline");
    bool sorted = true;
    for (size_t i = 1; i < doc->n_warnings; i++)
        sorted = sorted && doc->warnings[i - 1].line <= doc->warnings[i].line;
    CHECK(sorted, "warnings are in line order");
    if (doc->n_scenes == 4) {
        CHECK_STR(doc->scenes[0].narration, "One.", "the orphan narration does not reach scene 1");
        CHECK_STR(doc->scenes[2].narration, NULL, "the NO NARRATION scene's narration is dropped");
        CHECK_STR(ex_scene_field(&doc->scenes[2], "Narration"), "This should be ignored.",
                  "...though the field is still kept");
        CHECK(doc->scenes[3].line == 22, "the last scene ends at the broken '## SCENE' line");
    }
    const ex_scene *first = ex_document_scene(doc, 1);
    CHECK(first && first->line == 3, "ex_document_scene returns the first of duplicates");
    CHECK(ex_document_scene(doc, 2) == NULL, "ex_document_scene: an absent number is NULL");
    CHECK(document_is_clean(doc), "warnings are one clean line each");
    ex_document_free(doc);

    doc = parse_text("## SCENE 0: Quiet - NO NARRATION\nNarration:\n## SCENE 1: A\n## SCENE 2: B\n");
    CHECK(doc && doc->n_warnings == 0 && !doc->has_duplicates,
          "distinct numbers and an empty Narration on a silent scene: no warning");
    ex_document_free(doc);

    char line[200];
    snprintf(line, sizeof line, "## SCENE Z: %0150d\n", 7);
    doc = parse_text(line);
    CHECK(doc && doc->n_warnings == 1 && strlen(doc->warnings[0].message) < 150 &&
              strstr(doc->warnings[0].message, "...'"),
          "a long broken header is quoted shortened");
    ex_document_free(doc);
}

/* -------------------------------------------------------------------- fields */

static void test_fields(void)
{
    ex_document *doc = parse_text(
        "## SCENE 1: Fields\n"
        "Stray text before any field\n"
        "Narration: \"first\"\n"
        "Narration: \"second\"\n"
        "Mood :  calm  \n"
        "---\n"
        "after the separator\n"
        "Props: a lamp\n"
        "### Sub-heading\n"
        "after the sub-heading\n"
        "Colour: \xE2\x80\x9C" "curly quotes\xE2\x80\x9D\n"
        "Wide: \"unterminated quote\n"
        "  continues\n"
        "\n"
        "Tail: keeps \"quotes\" inside\n"
        "Quoted: \"kept\" then trailing text\n"
        "Empty:\n"
        "Blank: \"\"\n"
        "Junk: start\n"
        "\"Quoted label\": not a label\n"
        "He said \"wait\": then left\n"
        "- Bullet: not a label\n"
        "  Indented: not a label\n"
        "Layout Design: \"A single quoted line\"\n"
        "Animation Prompt: \"\"\n");
    const ex_scene *s = doc && doc->n_scenes == 1 ? &doc->scenes[0] : NULL;
    CHECK(s != NULL, "one scene with many fields");
    if (!s) {
        ex_document_free(doc);
        return;
    }
    CHECK(s->n_fields == 13, "thirteen fields (got %zu)", s->n_fields);
    for (size_t i = 0; s->n_fields != 13 && i < s->n_fields; i++)
        printf("#   field %zu: [%s] = [%s]\n", i, s->fields[i].label, s->fields[i].value);
    CHECK_STR(s->narration, "first", "the first Narration wins");
    CHECK(s->n_fields > 1 && strcmp(s->fields[1].value, "second") == 0,
          "the second Narration is still a field");
    CHECK_STR(ex_scene_field(s, "Mood"), "calm", "label trimmed before the colon, value trimmed");
    CHECK_STR(ex_scene_field(s, "Props"), "a lamp", "'---' ends a field; the sub-heading too");
    CHECK_STR(ex_scene_field(s, "Colour"), "curly quotes", "curly quotes are stripped");
    CHECK_STR(ex_scene_field(s, "Wide"), "unterminated quote\n  continues",
              "an unterminated quote runs to the end of the field");
    CHECK_STR(ex_scene_field(s, "Tail"), "keeps \"quotes\" inside",
              "a value not starting with a quote keeps its quotes");
    CHECK_STR(ex_scene_field(s, "Quoted"), "kept", "a quoted value ends at the last quote");
    CHECK_STR(ex_scene_field(s, "Empty"), "",
              "an empty field is \"\" and runs over the non-label lines after it");
    CHECK_STR(ex_scene_field(s, "Blank"), "", "an empty quoted value");
    CHECK_STR(ex_scene_field(s, "Junk"),
              "start\n\"Quoted label\": not a label\nHe said \"wait\": then left\n- Bullet: not a label\n  Indented: not a label",
              "quoted, bulleted and indented labels do not open fields");
    CHECK_STR(s->layout, "A single quoted line", "a one-line quoted layout");
    CHECK(s->animation_prompt == NULL, "an empty known field leaves the member NULL");
    CHECK(ex_scene_field(s, "mood") == NULL, "ex_scene_field matches labels exactly");
    CHECK(ex_scene_field(s, NULL) == NULL && ex_scene_field(NULL, "Mood") == NULL,
          "ex_scene_field tolerates NULL");
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: Case\nNARRATION: \"loud\"\nlayout design:\n- a\n"
                     "ANIMATION PROMPT FOR AI VIDEO MODEL: move\n");
    s = doc && doc->n_scenes == 1 ? &doc->scenes[0] : NULL;
    CHECK(s && s->narration && s->layout && s->animation_prompt,
          "known labels are matched in any case");
    CHECK(s && s->n_fields == 3 && strcmp(s->fields[0].label, "NARRATION") == 0,
          "...and keep their spelling in fields");
    ex_document_free(doc);
}

/* ------------------------------------------------------------------- hostile */

static void test_hostile(void)
{
    ex_document *doc = ex_parse("", 0, NULL, NULL);
    CHECK(doc && doc->n_scenes == 0 && doc->n_warnings == 0 && doc->title == NULL,
          "an empty text is an empty document");
    CHECK_STR(doc ? doc->name : NULL, "script", "a NULL name becomes \"script\"");
    CHECK(doc && doc->path == NULL && doc->declared_scenes == -1 && doc->total_duration == 0,
          "empty document defaults");
    ex_document_free(doc);

    doc = ex_parse(NULL, 5, "n", "p");
    CHECK(doc && doc->n_scenes == 0, "a NULL text is an empty document");
    CHECK_STR(doc ? doc->path : NULL, "p", "the path is copied");
    ex_document_free(doc);
    ex_document_free(NULL);
    CHECK(1, "ex_document_free(NULL) is harmless");

    doc = parse_text("# Only A Header - 12 SCENES\nStyle: s\nFormat: f\nAudience: a\nTotal Duration: 72\n");
    CHECK(doc && doc->n_scenes == 0 && doc->total_duration == 72 && doc->audience,
          "a header without scenes");
    CHECK(doc && doc->n_warnings == 1 && has_warning(doc, 1, "declares 12 scenes but 0"),
          "...warns that the declared scenes are missing");
    ex_document_free(doc);

    doc = parse_text("Just some prose.\nNo headings at all: none.\n");
    CHECK(doc && doc->n_scenes == 0 && doc->n_warnings == 0, "prose without scenes");
    ex_document_free(doc);

    const char *tiny[] = {"#", "##", "## ", "###", "#######", "## SCENE", "## SCENE 1", "## SCENE 1:",
                          "## SCENE 1: (", "## SCENE 1: )", "## SCENE 1: ()", "## SCENE 1: (6",
                          "## SCENE 1: - NO NARRATION", "## SCENE 1: NO NARRATION", "\"", "a:",
                          "## SCENE 1: x\nN: \"", "## NARRATION SCRIPT\nScene 1:", "---", "\r",
                          "\n\n\n", "## **", "## **SCENE 2**", "Scene 1: \"x\""};
    size_t ok = 0;
    for (size_t i = 0; i < sizeof tiny / sizeof *tiny; i++) {
        doc = parse_text(tiny[i]);
        ok += doc && document_is_clean(doc);
        ex_document_free(doc);
    }
    CHECK(ok == sizeof tiny / sizeof *tiny, "tiny and truncated inputs parse (%zu)", ok);

    doc = parse_text("## SCENE 1: (6 seconds)\n## SCENE 2: - NO NARRATION\n");
    CHECK(doc && doc->n_scenes == 2 && doc->scenes[0].title[0] == '\0' && doc->scenes[1].no_narration,
          "titles that are only a duration or only NO NARRATION");
    ex_document_free(doc);

    /* Binary junk with NULs and invalid UTF-8 around a real scene. */
    static const char junk[] = "\x00\x01\xFF\xFE\x80\xC0\xAF\n"
                               "## SCENE 4: Bin\x00" "ary \xC3\x28 title (6 seconds)\n"
                               "Narration: \"nul\x00" "byte \xED\xA0\x80 surrogate \xF4\x90\x80\x80 big\"\n"
                               "\x00\x00\x00\n## SCENE \x00 5: broken\n";
    doc = ex_parse(junk, sizeof junk - 1, "junk", NULL);
    CHECK(doc && doc->n_scenes == 1 && doc->n_warnings == 3 &&
              has_warning_at(doc, 1, 1, "encoding", "7 NUL bytes and 13 invalid UTF-8 bytes") &&
              has_warning_at(doc, 4, 1, "field-text", "Narration") &&
              has_warning_at(doc, 5, 1, "scene-header", "no scene number"),
          "binary bytes around a scene: one scene, a warning for the bytes, one for the "
          "NULs after the closed narration and one for the header");
    if (doc && doc->n_scenes == 1) {
        CHECK_STR(doc->scenes[0].title, "Bin\xEF\xBF\xBD" "ary \xEF\xBF\xBD( title",
                  "NUL and invalid bytes in a title become U+FFFD");
        CHECK(doc->scenes[0].narration && strstr(doc->scenes[0].narration, "nul\xEF\xBF\xBD" "byte") &&
                  !strstr(doc->scenes[0].narration, "\xED\xA0\x80"),
              "a NUL does not cut the narration; a surrogate is replaced");
    }
    CHECK(doc && document_is_clean(doc), "the junk document holds only clean UTF-8");
    ex_document_free(doc);

    /* A 1 MB line: as a title, a narration, a layout bullet and a broken header. */
    size_t big = 1 << 20;
    char *text = malloc(4 * big + 200);
    char *p = text;
    p += sprintf(p, "# ");
    memset(p, 'T', big);
    p += big;
    p += sprintf(p, " - 2 SCENES\n## SCENE 1: Long\nNarration: \"");
    memset(p, 'n', big);
    p += big;
    p += sprintf(p, "\"\nLayout Design:\n- ");
    memset(p, '(', big);
    p += big;
    p += sprintf(p, "\n## SCENE 2 ");
    memset(p, 'x', big);
    p += big;
    *p = '\0';
    doc = ex_parse(text, (size_t)(p - text), "big", NULL);
    CHECK(doc && doc->title && strlen(doc->title) == big && doc->declared_scenes == 2,
          "a 1 MB title keeps every byte");
    CHECK(doc && doc->n_scenes == 1 && doc->scenes[0].narration &&
              strlen(doc->scenes[0].narration) == big,
          "a 1 MB narration keeps every byte");
    CHECK(doc && doc->n_scenes == 1 && doc->scenes[0].layout && strlen(doc->scenes[0].layout) == big + 2,
          "a 1 MB layout bullet");
    CHECK(doc && doc->n_warnings == 2 && has_warning(doc, 6, "no ':'"),
          "a 1 MB broken header is reported (and the count mismatch)");
    ex_document_free(doc);

    /* A 1 MB scene title ending in ')' with no '(' and a 1 MB run of '|' and blanks. */
    p = text;
    p += sprintf(p, "## SCENE 1: ");
    memset(p, ')', big);
    p += big;
    p += sprintf(p, "\nNano Banana Iterative Prompt: \"Initial: a");
    for (size_t i = 0; i < big / 2; i++) {
        *p++ = '|';
        *p++ = i % 3 ? ' ' : '\n';
    }
    p += sprintf(p, "Iteration 1: z\"\n");
    doc = ex_parse(text, (size_t)(p - text), "pipes", NULL);
    CHECK(doc && doc->n_scenes == 1 && strlen(doc->scenes[0].title) == big &&
              doc->scenes[0].n_iterations == 1,
          "a 1 MB run of ')' and of '|' separators");
    ex_document_free(doc);
    free(text);
}

/* Random documents stitched from script-like pieces: never a crash, always clean. */
static void test_random(void)
{
    static const char *const pieces[] = {
        "## SCENE 1: A (6 seconds)\n", "## **SCENE 2: B (7.5 seconds)** - NO NARRATION\n",
        "## SCENE X: bad\n", "Narration: \"", "\"", "Layout Design:\n", "- Text: \"t\"\n",
        "Nano Banana Iterative Prompt:\n\"Initial: ", " | Iteration 1: ", "Iteration 2: ",
        "Image Generation Prompts (2-Step Workflow):\n", "Initial Prompt:\n", "Final Prompt (x):\n",
        "[To be determined]", "---\n", "\n", "\r\n", "\r", "## NARRATION SCRIPT:\n", "Scene 1: \"",
        "# Title - 3 SCENES\n", "Total Duration: 9\n", "Style: s\n", "\xEF\xBB\xBF", "\x00",
        "\xFF", "\xE2\x80\x9C", "### SCENE 3: c\n", "Mood: m\n", "(6s)", "**", "## other\n",
        "99999999999999999999", "text ", ":", "|"};
    const size_t n_pieces = sizeof pieces / sizeof *pieces;
    unsigned long seed = 12345;
    char buf[4096];
    size_t clean = 0, runs = 3000;
    for (size_t r = 0; r < runs; r++) {
        size_t len = 0;
        int count = (int)(seed % 40);
        for (int k = 0; k < count; k++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            const char *piece = pieces[(seed >> 33) % n_pieces];
            size_t pl = piece[0] ? strlen(piece) : 1; /* the "\x00" piece is one NUL byte */
            if (len + pl < sizeof buf) {
                memcpy(buf + len, piece, pl);
                len += pl;
            }
        }
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        ex_document *doc = ex_parse(buf, len, "r", NULL);
        clean += doc && document_is_clean(doc);
        ex_document_free(doc);
    }
    CHECK(clean == runs, "%zu random documents parse into clean documents (%zu)", runs, clean);
}

/* ---------------------------------------------------------------- big input */

static void test_many_scenes(void)
{
    const size_t n = 10000;
    size_t cap = n * 200 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)sprintf(text, "# Many - %zu SCENES\n", n);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "## SCENE %zu: Scene number %zu (%s)\n\nNarration: \"Line %zu.\"\n\n---\n\n",
                                i, i, i % 2 ? "6s" : "3 seconds", i);
    len += (size_t)snprintf(text + len, cap - len, "## NARRATION SCRIPT\nScene 1: \"unused\"\n");
    clock_t t0 = clock();
    ex_document *doc = ex_parse(text, len, "many", NULL);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(doc && doc->n_scenes == n, "ten thousand scenes (got %zu)", doc ? doc->n_scenes : 0);
    CHECK(doc && doc->n_warnings == 0 && !doc->has_duplicates, "...without warnings");
    CHECK(doc && doc->total_duration == 4.5 * (double)n, "...summing to %g seconds",
          doc ? doc->total_duration : -1);
    CHECK_STR(doc && doc->n_scenes == n ? doc->scenes[n - 1].narration : NULL, "Line 9999.",
              "the last scene's narration");
    CHECK(doc && doc->n_scenes == n && doc->scenes[n - 1].line == (long)(1 + 6 * (n - 1) + 1),
          "the last scene's line number");
    /* Generous: the real bound (24 MB in well under a second) is for optimized
     * builds; this only catches a quadratic slip, even under valgrind. */
    CHECK(secs < 20, "%zu scenes (%zu bytes) parse in linear time (%.3f s)", n, len, secs);
    ex_document_free(doc);
    free(text);
}

/* ------------------------------------------------- where a quoted value ends */

/* A quoted value ends with the line of its closing quote: what follows it in the field
 * is a field-text warning, never narration (review of main: a tagline after a quoted
 * narration was spoken with stray quotes). */
static void test_quote_ends(void)
{
    ex_document *doc = load(FIXTURE("quote_ends.txt"));
    CHECK(doc && doc->n_scenes == 6, "quote_ends.txt: six scenes (got %zu)", doc ? doc->n_scenes : 0);
    if (!doc || doc->n_scenes != 6) {
        ex_document_free(doc);
        return;
    }
    const ex_scene *s = doc->scenes;
    CHECK_STR(s[0].narration, "Heating a home burns fuel.",
              "a quoted narration ends with its closing quote, not at a quote paragraphs later");
    CHECK(has_warning_at(doc, 6, 1, "field-text", "'The host says the tagline \"Move heat, don't make it.\"' "
                                                  "is not part of the Narration value, whose quote "
                                                  "closes on line 4"),
          "...and the line after it is a field-text warning naming it and the closing line");
    CHECK_STR(s[1].narration, "A heat pump moves heat.\n\nIt does not make it.",
              "a quoted value of two paragraphs (its first line does not close it) stays whole");
    CHECK_STR(s[2].narration, "Engineers call it \"the ultimate takeout,\" as\nif heat were a meal to deliver.",
              "inner quotes over two lines stay (a word after the last quote: not a closing one)");
    CHECK_STR(ex_scene_field(&s[2], "Mood"), "playful", "the label after a closed value opens");
    CHECK_STR(s[3].narration, "Cold air still holds heat.",
              "a closing quote with a note after it on its line ends the value too");
    CHECK(has_warning_at(doc, 20, 1, "field-text", "closes on line 19"),
          "...and the next line is a field-text warning");
    CHECK(s[4].no_narration && !s[4].narration, "Narration: '' is silent");
    CHECK_STR(s[5].narration, "Entries end with their quote too.",
              "a NARRATION SCRIPT entry ends with its closing quote");
    CHECK(has_warning_at(doc, 29, 1, "field-text", "the NARRATION SCRIPT entry"),
          "...and the line after it is a field-text warning");
    CHECK(doc->n_warnings == 3, "three warnings, no more (got %zu)", doc->n_warnings);
    if (doc->n_warnings != 3)
        print_warnings(doc);
    ex_document_free(doc);

    /* Curly quotes, a closed value before a blank line and a label, an unclosed one. */
    doc = parse_text("## SCENE 1: A\nNarration: \xE2\x80\x9COne.\xE2\x80\x9D\n\xE2\x80\x9CTwo.\xE2\x80\x9D\n"
                     "## SCENE 2: B\nNarration: \"One.\"\n\nMood: calm\n"
                     "## SCENE 3: C\nNarration: \"Open\n\nstill open\n\nMood: tense\n");
    CHECK(doc && doc->n_scenes == 3, "three scenes");
    if (doc && doc->n_scenes == 3) {
        CHECK_STR(doc->scenes[0].narration, "One.", "a curly value ends at its closing quote");
        CHECK(has_warning_at(doc, 3, 1, "field-text", "\xE2\x80\x9CTwo.\xE2\x80\x9D"),
              "...a second quoted line is a field-text warning");
        CHECK_STR(doc->scenes[1].narration, "One.", "a closed value and a label after a blank line");
        CHECK_STR(ex_scene_field(&doc->scenes[1], "Mood"), "calm", "...whose field opens");
        CHECK_STR(doc->scenes[2].narration, "Open\n\nstill open",
                  "an unclosed quote runs to the label after a blank line, as before");
        CHECK(doc->n_warnings == 2 && has_warning_at(doc, 9, 12, "unclosed-quote", "Narration"),
              "...with its unclosed-quote warning (%zu warnings)", doc->n_warnings);
    }
    ex_document_free(doc);
}

/* A scene's narration never holds another scene's header (review of main: in a
 * `**Scene n**` script, scene 2's header was spoken as scene 1's narration). */
static void test_narration_never_holds_header(void)
{
    ex_document *doc = parse_text("**Scene 1: A (6s)**\nNarration: One.\n\n"
                                  "**Scene 2: B (6s)**\nVisual: x\n"
                                  "Spoken: \"Two.\"\n\n"
                                  "**Scene 3: C (6s)**\nNarration: \"Three.\"\n\n"
                                  "**Scene 4: D (6s)**\nVisual: y\n\n"
                                  "**Scene 5: E (6s)**\nNarration: Five.\n");
    CHECK(doc && doc->n_scenes == 3, "scenes 1, 3 and 5 (got %zu)", doc ? doc->n_scenes : 0);
    if (doc && doc->n_scenes == 3) {
        CHECK_STR(doc->scenes[0].narration, "One.",
                  "an unquoted narration ends at the next scene's header, read as one or not");
        CHECK_STR(doc->scenes[1].narration, "Three.", "...and a quoted one");
        CHECK(has_warning_at(doc, 4, 1, "scene-header", "'**Scene 2: B (6s)**'") &&
                  has_warning_at(doc, 11, 1, "scene-header", "'**Scene 4: D (6s)**'"),
              "the headers without a narration are warnings");
    }
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: A\nNarration: One,\nand more.\nScene 2 \xE2\x80\x94 brighter moon\n"
                     "SCENE 3: not a heading\n## SCENE 2: B\nNarration: Two\n**Scene 9: X**\n");
    CHECK(doc && doc->n_scenes == 2, "two '## SCENE' scenes");
    if (doc && doc->n_scenes == 2) {
        CHECK_STR(doc->scenes[0].narration, "One,\nand more.",
                  "in a '## SCENE' script too, a 'Scene 2 — …' line ends the narration");
        CHECK_STR(doc->scenes[1].narration, "Two", "...and a '**Scene 9: …**' line");
    }
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: A\nNarration: \"Open quote\n**Scene 2: Inside (6s)**\nstill it\"\n");
    CHECK(doc && doc->n_scenes == 1 && doc->scenes[0].narration &&
              strcmp(doc->scenes[0].narration, "Open quote\n**Scene 2: Inside (6s)**\nstill it") == 0,
          "inside a quote still open (no blank line), a scene-like line is the value's text");
    ex_document_free(doc);
}

/* `*Label:*` and `*Label*:` are labels, as the bold ones are; a bullet is not. */
static void test_italic_labels(void)
{
    ex_document *doc = parse_text("*Style:* Italic header\n"
                                  "**Scene 1: A (6s)**\n*Narration:* \"Said.\"\n*Mood*: calm\n"
                                  "* Text: a bullet\n*Note:*not a label\n"
                                  "**Scene 2: B (6s)**\n*Narration*: None\n");
    CHECK(doc && doc->n_scenes == 2, "'*Narration:*' makes '**Scene n**' lines scenes (got %zu)",
          doc ? doc->n_scenes : 0);
    if (doc && doc->n_scenes == 2) {
        CHECK_STR(doc->style, "Italic header", "'*Style:*' in the header");
        CHECK_STR(doc->scenes[0].narration, "Said.", "'*Narration:* \"…\"' is the narration");
        CHECK_STR(ex_scene_field(&doc->scenes[0], "Mood"),
                  "calm\n* Text: a bullet\n*Note:*not a label",
                  "'*Mood*:' opens a field; '* Text:' and '*Note:*' without a blank do not");
        CHECK(doc->scenes[1].no_narration, "'*Narration*: None' is silent");
        CHECK(doc->n_warnings == 0, "no warnings (got %zu)", doc->n_warnings);
    }
    ex_document_free(doc);
}

/* `Narration: ''` says there is none, as `""` does (review of main: it was spoken). */
static void test_single_quote_silence(void)
{
    ex_document *doc = parse_text("## SCENE 1: A\nNarration: ''\n"
                                  "## SCENE 2: B\nNarration: \xE2\x80\x98\xE2\x80\x99\n"
                                  "## SCENE 3: C\n"
                                  "## SCENE 4: D - NO NARRATION\n"
                                  "## SCENE 5: E\nNarration: 'Quoted' words\n"
                                  "## NARRATION SCRIPT\nScene 3: ''\nScene 4: ''\n");
    CHECK(doc && doc->n_scenes == 5, "five scenes");
    if (doc && doc->n_scenes == 5) {
        size_t silent = 0;
        for (size_t i = 0; i < 4; i++)
            silent += doc->scenes[i].no_narration && !doc->scenes[i].narration;
        CHECK(silent == 4, "'', ‘’ and a NARRATION SCRIPT entry '' are silent (%zu of 4)", silent);
        CHECK(doc->n_warnings == 0,
              "an entry '' for a NO NARRATION scene is no narration to warn about (got %zu)",
              doc->n_warnings);
        CHECK_STR(doc->scenes[4].narration, "'Quoted' words", "single quotes around words stay");
    }
    ex_document_free(doc);
}

/* A `**Scene n: Title**` script whose narration is all in its NARRATION SCRIPT section
 * (review of main: refused with "no scene header" and nothing else). */
static void test_headers_from_script(void)
{
    ex_document *doc = load(FIXTURE("headers_narration_script.txt"));
    CHECK(doc && doc->n_scenes == 3 && doc->n_warnings == 0,
          "headers whose numbers have NARRATION SCRIPT entries are scenes (got %zu, %zu warnings)",
          doc ? doc->n_scenes : 0, doc ? doc->n_warnings : 0);
    if (doc && doc->n_scenes == 3) {
        CHECK(doc->scenes[0].line == 3 && doc->scenes[2].line == 10, "at their header lines");
        CHECK_STR(doc->scenes[0].narration, "Heating a home burns fuel.", "scene 1 from its entry");
        CHECK_STR(doc->scenes[1].narration, "It moves heat from outside to inside.",
                  "scene 2 from its own '*Narration:*'");
        CHECK_STR(doc->scenes[2].narration, "Move heat, don't make it.", "scene 3 from its entry");
        CHECK_STR(ex_scene_field(&doc->scenes[0], "Visual"), "A snowy house, smoke from the chimney",
                  "fields belong to their scene");
    }
    if (doc && doc->n_warnings)
        print_warnings(doc);
    ex_document_free(doc);

    doc = parse_text("**Scene 1: Opening (6s)**\nVisual: a\n\n**Scene 2: End (6s)**\nVisual: b\n\n"
                     "## NARRATION SCRIPT\nScene 7: \"for no header\"\n");
    CHECK(doc && doc->n_scenes == 0 && doc->n_warnings == 2 &&
              has_warning_at(doc, 1, 1, "scene-header", "the NARRATION SCRIPT has no entry for it") &&
              has_warning_at(doc, 4, 1, "scene-header", "or with an entry in a NARRATION SCRIPT"),
          "without entries for them, each header is a warning saying why");
    ex_document_free(doc);

    doc = parse_text("## SCENE 1: A\nNarration: \"a\"\n**Scene 2: Note (6s)**\nVisual: b\n"
                     "## NARRATION SCRIPT\nScene 2: \"b\"\n");
    CHECK(doc && doc->n_scenes == 1 && doc->n_warnings == 0,
          "in a '## SCENE' script, an entry does not make a '**Scene 2**' line a scene");
    ex_document_free(doc);
}

/* The title is the title whatever it says; a NARRATION SCRIPT named by a line that
 * is not a `#`/`##` heading is a warning, not entries silently lost. */
static void test_script_heading_forms(void)
{
    ex_document *doc = parse_text("# Narration Script Basics - 2 SCENES\nStyle: Flat, teal\n"
                                  "Format: 16:9\n\n## SCENE 1: A (6s)\nNarration: \"One.\"\n\n"
                                  "## SCENE 2: B (6s)\nNarration: \"Two.\"\n");
    CHECK(doc && doc->n_scenes == 2 && doc->n_warnings == 0 && doc->format &&
              strcmp(doc->format, "16:9") == 0 && doc->style,
          "a title that says 'Narration Script' keeps the header's Format and Style (format %s)",
          doc && doc->format ? doc->format : "(none)");
    ex_document_free(doc);

    doc = parse_text("# Sun Narration Script\n\n**Scene 1: Rise (6s)**\nVisual: sun\n\n"
                     "**Scene 2: Set (6s)**\nVisual: moon\n\n## NARRATION SCRIPT\n\n"
                     "Scene 1: \"The sun rises.\"\nScene 2: \"The moon sets.\"\n");
    CHECK(doc && doc->n_scenes == 2 && doc->scenes[0].narration &&
              strcmp(doc->scenes[0].narration, "The sun rises.") == 0,
          "with such a title, the section's entries still make the '**Scene n**' scenes");
    ex_document_free(doc);

    static const char *const loose[] = {"**NARRATION SCRIPT:**", "### Narration Script",
                                        "NARRATION SCRIPT:", "**Voiceover Script**"};
    for (size_t i = 0; i < sizeof loose / sizeof *loose; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "## SCENE 1: Rise (6s)\nVisual: sun\n\n%s\n\nScene 1: \"The sun rises.\"\n",
                 loose[i]);
        doc = parse_text(text);
        CHECK(doc && doc->n_scenes == 1 &&
                  has_warning_at(doc, 4, 1, "scene-header", "the entries under it are not read"),
              "'%s' is a warning naming its line", loose[i]);
        ex_document_free(doc);
    }
    doc = parse_text("## SCENE 1: Rise (6s)\nNarration: \"Up.\"\n\n- [ ] Complete Narration Script\n");
    CHECK(doc && doc->n_scenes == 1 && !has_warning_at(doc, 4, 1, "scene-header", ""),
          "a checklist item naming the narration script is no heading");
    ex_document_free(doc);
}

/* ------------------------------------------------------------------ file API */

static void test_file_api(void)
{
    ex_document *doc = (ex_document *)1;
    char *err = NULL;
    int rc = ex_parse_file("tests/fixtures/no-such-file.txt", &doc, &err);
    CHECK(rc == -1 && doc == NULL, "a missing file fails and sets *out to NULL");
    CHECK_STR(err, "tests/fixtures/no-such-file.txt: No such file or directory",
              "the message names the path and the reason");
    free(err);

    err = NULL;
    rc = ex_parse_file("tests/fixtures", &doc, &err);
    CHECK(rc == -1 && doc == NULL, "a directory fails");
    CHECK_STR(err, "tests/fixtures: is a directory", "...with 'is a directory'");
    free(err);

    rc = ex_parse_file("tests/fixtures/nano_banana.txt", &doc, NULL);
    CHECK(rc == 0 && doc && doc->n_scenes == 4, "errmsg may be NULL on success");
    CHECK_STR(doc ? doc->name : NULL, "nano_banana", "the document's name is the file stem");
    ex_document_free(doc);
    rc = ex_parse_file("tests/fixtures/none.txt", &doc, NULL);
    CHECK(rc == -1, "errmsg may be NULL on failure");

    struct {
        const char *path, *stem;
    } stems[] = {{"examples/sample.txt", "sample"}, {"a/b.c.txt", "b.c"}, {"noext", "noext"},
                 {"/abs/dir/x.txt", "x"},          {"dir/", "dir"},     {".hidden", ".hidden"},
                 {"d.d/file", "file"},             {"", ""},            {"/", ""},
                 {"trailing.", "trailing"}};
    size_t good = 0;
    for (size_t i = 0; i < sizeof stems / sizeof *stems; i++) {
        char *stem = ex_path_stem(stems[i].path);
        bool same = stem && strcmp(stem, stems[i].stem) == 0;
        if (!same)
            printf("#   stem of '%s': got '%s', want '%s'\n", stems[i].path, stem ? stem : "(null)",
                   stems[i].stem);
        good += same;
        free(stem);
    }
    CHECK(good == sizeof stems / sizeof *stems, "ex_path_stem on %zu paths", good);
}

/* -------------------------------------------------------------- out of memory */

static void test_out_of_memory(void)
{
    size_t len;
    char *text = read_all(FIXTURE("duplicates.txt"), &len);
    char *more = read_all("examples/sample.txt", &len);
    CHECK(text && more, "OOM inputs are readable");
    if (!text || !more) {
        free(text);
        free(more);
        return;
    }
    /* Seven inputs between them reach every kind of allocation: UTF-16 decoding, the
     * warnings of the new dialects (an unclosed quote, a duration), scene-like lines
     * of other families, and the second pass over a script of them. */
    size_t wide_len;
    char *wide = to_utf16("## SCENE 1: W (six seconds)\nNarration: \"open\n\nMood: x\n", true,
                          &wide_len);
    char *problems = read_all(FIXTURE("dialect_problems.txt"), &len);
    char *families = read_all(FIXTURE("headers_bold_scene.txt"), &len);
    char *lost = read_all(FIXTURE("scene_like_lines.txt"), &len);
    const char *inputs[] = {text, more, "## SCENE 1: x\nImage Generation Prompts:\nInitial: a\nFinal Prompt: b\n"
                                        "## NARRATION SCRIPT\nScene 1: \"n\"\n", wide, problems,
                            families, lost};
    size_t lens[] = {strlen(text), strlen(more), strlen(inputs[2]), wide_len,
                     problems ? strlen(problems) : 0, families ? strlen(families) : 0,
                     lost ? strlen(lost) : 0};
    size_t failures = 0, bad = 0, successes = 0;
    for (size_t in = 0; in < 7; in++) {
        for (long n = 0; n < 100000; n++) {
            ex_parse_fail_alloc_after(n);
            ex_document *doc = ex_parse(inputs[in], lens[in], "oom", "p");
            ex_parse_fail_alloc_after(-1);
            if (!doc) {
                failures++;
                continue;
            }
            bad += !document_is_clean(doc);
            successes++;
            ex_document_free(doc);
            break;
        }
    }
    CHECK(failures >= 25 && successes == 7 && bad == 0,
          "every failing allocation gives NULL, nothing half-built (%zu failures)", failures);
    free(wide);
    free(problems);
    free(families);
    free(lost);

    ex_document *doc = NULL;
    char *err = NULL;
    ex_parse_fail_alloc_after(0);
    int rc = ex_parse_file("examples/sample.txt", &doc, &err);
    ex_parse_fail_alloc_after(-1);
    CHECK(rc == -1 && doc == NULL && err && strstr(err, "examples/sample.txt: ") == err,
          "ex_parse_file reports running out of memory (%s)", err ? err : "(null)");
    free(err);
    ex_parse_fail_alloc_after(0);
    char *stem = ex_path_stem("a/b.txt");
    ex_parse_fail_alloc_after(-1);
    CHECK(stem == NULL, "ex_path_stem returns NULL when memory runs out");
    free(text);
    free(more);
}

int main(void)
{
    test_sample();
    test_dialects();
    test_scene_headers();
    test_separators();
    test_header();
    test_bold_labels();
    test_two_step();
    test_nano_banana();
    test_crlf_bom();
    test_utf16();
    test_binary_bytes();
    test_dialects_dash();
    test_durations();
    test_duration_typos();
    test_narration_entries();
    test_dialect_problems();
    test_narration_script();
    test_silent_narration();
    test_scene_like_lines();
    test_header_families();
    test_quote_ends();
    test_narration_never_holds_header();
    test_italic_labels();
    test_single_quote_silence();
    test_headers_from_script();
    test_script_heading_forms();
    test_warnings();
    test_fields();
    test_hostile();
    test_random();
    test_many_scenes();
    test_file_api();
    test_out_of_memory();
    return CHECK_DONE();
}
