/* test_inputs.c -- a scene's key and parts, and what a rerun says changed. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "inputs.h"

static ex_document *doc_of(const char *text)
{
    return ex_parse(text, strlen(text), "t", NULL);
}

int main(void)
{
    const char *a = "# T\n\n## SCENE 1: One (6 seconds)\n\nNarration: \"Hello there.\"\n\n"
                    "Mood: calm\n";
    const char *b = "# T\n\n## SCENE 1: One (6 seconds)\n\nNarration: \"Short.\"\n\n"
                    "Mood: calm\n";
    const char *c = "# T\n\n## SCENE 1: One (6 seconds)\n\nNarration: \"Hello there.\"\n\n"
                    "Mood: tense\n";
    ex_document *da = doc_of(a), *db = doc_of(b), *dc = doc_of(c), *da2 = doc_of(a);
    ex_inputs ia, ib, ic, ia2;
    ex_inputs_of_scene(&da->scenes[0], &ia);
    ex_inputs_of_scene(&db->scenes[0], &ib);
    ex_inputs_of_scene(&dc->scenes[0], &ic);
    ex_inputs_of_scene(&da2->scenes[0], &ia2);
    CHECK(ex_inputs_parts(&ia, &da->scenes[0], NULL, 0) == 0 && ia.parts, "the parts of a scene");
    ex_inputs_parts(&ib, &db->scenes[0], NULL, 0);
    ex_inputs_parts(&ic, &dc->scenes[0], NULL, 0);
    ex_inputs_parts(&ia2, &da2->scenes[0], NULL, 0);
    CHECK(ia.key == ia2.key, "the same scene has the same key");
    CHECK(ia.key != ib.key && ia.key != ic.key, "an edit changes the key");
    char *what = ex_inputs_changed(ia.parts, ib.parts);
    CHECK_STR(what, "narration", "an edited narration is named (not its raw field too)");
    free(what);
    what = ex_inputs_changed(ia.parts, ic.parts);
    CHECK_STR(what, "Mood", "a custom field alone is named by its label");
    free(what);
    what = ex_inputs_changed(ia.parts, ia2.parts);
    CHECK_STR(what, "", "nothing changed: nothing named");
    free(what);
    CHECK(ex_inputs_changed(NULL, ia.parts) == NULL, "an old record without parts names nothing");

    const char *lines1 = "narration.mp3/narration:00000000000000aa\nnarration.mp3/voice:bb000000000000bb\n";
    const char *lines2 = "narration.mp3/narration:00000000000000aa\nnarration.mp3/voice:cc000000000000cc\n";
    ex_inputs l1, l2, raw1, raw2;
    ex_inputs_of_lines(lines1, strlen(lines1), &l1);
    ex_inputs_of_lines(lines2, strlen(lines2), &l2);
    CHECK(ex_inputs_parts(&l1, NULL, lines1, strlen(lines1)) == 0, "parts from canonical lines");
    ex_inputs_parts(&l2, NULL, lines2, strlen(lines2));
    CHECK_STR(l1.parts, "narration.mp3/narration:00000000,narration.mp3/voice:bb000000",
              "the short form keeps names and the high half of each hash");
    CHECK(l1.key != l2.key, "a changed part changes the key");
    ex_inputs_of_lines("free text, v1", 13, &raw1);
    ex_inputs_of_lines("free text, v2", 13, &raw2);
    ex_inputs_parts(&raw1, NULL, "free text, v1", 13);
    CHECK(raw1.key != raw2.key && strncmp(raw1.parts, "inputs:", 7) == 0,
          "text that is not canonical is one part named inputs");
    const char *odd = "a,b:c d:00000000000000aa\n";
    ex_inputs io;
    ex_inputs_of_lines(odd, strlen(odd), &io);
    ex_inputs_parts(&io, NULL, odd, strlen(odd));
    CHECK(strchr(io.parts, ' ') == NULL && strncmp(io.parts, "a_b_c_d:", 8) == 0,
          "names are kept to a journal-safe set (%s)", io.parts);

    what = ex_inputs_changed(l1.parts, l2.parts);
    CHECK_STR(what, "voice", "a nested part is named by its last component");
    free(what);
    const char *s1 = "final.png/backend:aa000000,narration.mp3/backend:bb000000";
    const char *s2 = "final.png/backend:ab000000,narration.mp3/backend:bc000000";
    what = ex_inputs_changed(s1, s2);
    CHECK_STR(what, "final.png/backend, narration.mp3/backend",
              "two changed parts that read the same are named in full");
    free(what);
    what = ex_inputs_changed("a:00000001", "a:00000001,b:00000002");
    CHECK_STR(what, "b", "a new part is named");
    free(what);
    what = ex_inputs_changed("a:00000001,c:00000003", "a:00000001");
    CHECK_STR(what, "c", "a part that went away is named");
    free(what);

    /* A narrated scene takes a silent scene's number (a renumbering): its
     * narration changed; the voice, speed and backend it gains follow. */
    what = ex_inputs_changed(
        "narration.mp3/duration:00000001,narration.mp3/narration:00000002,"
        "narration.mp3/recipe:00000003,final.png:00000009",
        "narration.mp3/backend:00000004,narration.mp3/narration:00000005,"
        "narration.mp3/recipe:00000006,narration.mp3/speed:00000007,"
        "narration.mp3/voice:00000008,final.png:00000009");
    CHECK_STR(what, "narration", "what changed in place is named, not what follows from it");
    free(what);
    what = ex_inputs_changed("recipe:00000001,a:00000002", "recipe:00000003,a:00000002");
    CHECK_STR(what, "recipe", "a new recipe version alone is named");
    free(what);
    what = ex_inputs_changed("recipe:00000001,a:00000002,b:1", "recipe:00000003,a:00000004");
    CHECK_STR(what, "a", "beside another change it is not, nor a part that went away");
    free(what);

    what = ex_inputs_changed("final.png/title:00000001,final.png/size:00000002,clip:00000003",
                             "final.png:0000000a,clip:00000003");
    CHECK_STR(what, "final.png", "a nest replaced by one part of its name is named once");
    free(what);
    what = ex_inputs_changed("final.png:0000000a", "final.png/title:00000001,final.png/size:00000002");
    CHECK_STR(what, "final.png", "and the other way round");
    free(what);

    ex_inputs *all[] = {&ia, &ib, &ic, &ia2, &l1, &l2, &raw1, &raw2, &io};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ex_inputs_free(all[i]);
    ex_document_free(da), ex_document_free(db), ex_document_free(dc), ex_document_free(da2);
    return CHECK_DONE();
}
