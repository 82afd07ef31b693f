/*
 * test_corpus.c -- the fuzzer's properties (fuzz/properties.h, fuzz/json_check.h)
 * over the seed corpus (fuzz/corpus/), every input that once crashed or broke a
 * property (tests/fixtures/crashes/), and a few generated extremes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fuzz/properties.h"
#include "../../fuzz/json_check.h"
#include "check.h"
#include "json_out.h"
#include "parse.h"

static const char *all_properties(const char *text, size_t len)
{
    ex_document *doc = ex_parse(text, len, "corpus", "corpus.txt");
    if (!doc)
        return "ex_parse returned NULL";
    const char *bad = ex_check_properties(text, len, doc);
    if (!bad)
        bad = ex_check_json(doc);
    ex_document_free(doc);
    return bad;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    prop_buf b = {0};
    prop_puts(&b, "");
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        prop_put(&b, chunk, got);
    fclose(f);
    *len = b.n;
    return b.p;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of dir, in name order; returns how many were checked. */
static int check_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        size_t sz = strlen(dir) + strlen(e->d_name) + 2;
        char *name = grown ? malloc(sz) : NULL;
        if (!name) {
            fprintf(stderr, "test_corpus: out of memory listing %s\n", dir);
            exit(1);
        }
        names = grown;
        names[n] = name;
        snprintf(names[n++], sz, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *text = slurp(names[i], &len);
        const char *bad = text ? all_properties(text, len) : "cannot read the file";
        CHECK(!bad, "%s parses with every property holding%s%s", names[i], bad ? ": " : "",
              bad ? bad : "");
        free(text);
        free(names[i]);
    }
    free(names);
    return (int)n;
}

/* A text made of `n` copies of `unit`, then `tail`. */
static char *repeat(const char *unit, size_t n, const char *tail, size_t *len)
{
    prop_buf b = {0};
    prop_puts(&b, "");
    for (size_t i = 0; i < n; i++)
        prop_puts(&b, unit);
    prop_puts(&b, tail);
    *len = b.n;
    return b.p;
}

static void check_extremes(void)
{
    size_t len;
    char *text = repeat("x", (size_t)1 << 20, "\n## SCENE 1: After a 1 MB line\n", &len);
    CHECK(!all_properties(text, len), "a 1 MB line holds the properties");
    free(text);

    text = repeat("## SCENE 7: Same number\n", 10000, "", &len);
    CHECK(!all_properties(text, len), "10,000 scene headers with one number hold the properties");
    free(text);

    text = repeat("Label: value\nOther: \"quoted\"\n", 5000, "", &len);
    memcpy(text, "## SCENE 1: Fields", 18); /* the first line becomes the header */
    text[18] = '\n';
    CHECK(!all_properties(text, len), "a scene with 10,000 fields, labels repeated, holds them");
    free(text);

    text = repeat("\r", 100000, "## SCENE 1: After lone CRs\r", &len);
    CHECK(!all_properties(text, len), "100,000 lone CR line ends hold the properties");
    free(text);
}

/* The checks themselves must be able to fail. */
static void check_the_checks(void)
{
    static const char text[] = "# T\n\n## SCENE 1: One (6 seconds)\nNarration: \"Hi\"\n";
    ex_document *doc = ex_parse(text, sizeof text - 1, "t", NULL);
    CHECK(doc && doc->n_scenes == 1 && !ex_check_properties(text, sizeof text - 1, doc),
          "a plain script holds the properties");
    if (!doc)
        return;
    doc->scenes[0].line++;
    CHECK(ex_check_properties(text, sizeof text - 1, doc) != NULL,
          "a scene line that is not its header is caught");
    doc->scenes[0].line--;
    char *saved = doc->scenes[0].title;
    doc->scenes[0].title = (char *)"bad \r title";
    CHECK(ex_check_properties(text, sizeof text - 1, doc) != NULL,
          "a title holding CR is caught");
    doc->scenes[0].title = (char *)"One (6 seconds) - NO NARRATION";
    CHECK(ex_check_properties(text, sizeof text - 1, doc) != NULL,
          "a title that would not read back the same is caught");
    doc->scenes[0].title = saved;
    CHECK(!ex_check_json(doc), "its JSON reads back as the same values");
    ex_document_free(doc);

    static const char broken[] = "## SCENE 1: Fine\n## SCENE 2 has no colon\n";
    doc = ex_parse(broken, sizeof broken - 1, "t", NULL);
    CHECK(doc && doc->n_warnings == 1 && !ex_check_properties(broken, sizeof broken - 1, doc),
          "a broken '## SCENE 2' header with its warning holds the properties");
    if (doc) {
        doc->n_warnings = 0;
        const char *bad = ex_check_properties(broken, sizeof broken - 1, doc);
        CHECK(bad && strstr(bad, "neither a scene nor a warning"),
              "a scene header dropped without a warning is caught");
        ex_document_free(doc);
    }

    static const char wide[] = "\xFF\xFE#\0#\0 \0S\0C\0E\0N\0E\0 \0" "1\0:\0 \0W\0";
    doc = ex_parse(wide, sizeof wide - 1, "t", NULL);
    CHECK(doc && doc->n_scenes == 1 && !ex_check_properties(wide, sizeof wide - 1, doc),
          "UTF-16 text holds the properties");
    if (doc && doc->n_scenes == 1) {
        doc->scenes[0].duration = 7;
        const char *bad = ex_check_properties(wide, sizeof wide - 1, doc);
        CHECK(bad && strstr(bad, "UTF-16"), "a UTF-16 document unlike its decoding is caught");
    }
    ex_document_free(doc);
}

int main(void)
{
    int seeds = check_dir("fuzz/corpus");
    CHECK(seeds >= 8, "the seed corpus has a script for every dialect (%d files)", seeds);
    check_dir("tests/fixtures/crashes");
    check_extremes();
    check_the_checks();
    return CHECK_DONE();
}
