/* test_journal.c -- the journal keeps the last record of each scene, over
 * many scenes and across reopening, and ignores a torn last line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "journal.h"

int main(void)
{
    char path[] = "/tmp/explainer-journal-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "made a temporary journal");
    close(fd);

    ex_journal j;
    CHECK(ex_journal_open(&j, path, true, false) == 0, "opens for writing");
    const long scenes = 3000;
    int appended = 0;
    for (long n = 0; n < scenes; n++) {
        appended += ex_journal_append(&j, EX_JOURNAL_STARTED, n * 7, (uint64_t)n, 1, 0, NULL) == 0;
        /* every third scene never finishes (a crash), every fifth fails */
        if (n % 3 != 0)
            appended += ex_journal_append(&j, n % 5 == 0 ? EX_JOURNAL_FAILED : EX_JOURNAL_DONE,
                                          n * 7, (uint64_t)n, 1, 0.5, "title:0a0b0c0d") == 0;
    }
    /* scene 0 is finished by the later run below */
    CHECK(appended == scenes + scenes - (scenes + 2) / 3, "every record appended (%d)", appended);
    ex_journal_close(&j);

    /* A crash mid-write: a torn record at the end. */
    FILE *f = fopen(path, "a");
    fputs("done scene=14 inputs=00000000000000", f);
    fclose(f);

    /* The next run ends the torn line so that its own records start afresh. */
    CHECK(ex_journal_open(&j, path, true, false) == 0, "reopens for writing after a crash");
    CHECK(ex_journal_append(&j, EX_JOURNAL_DONE, 0, 0, 2, 0.1, "title:01020304,narration:aabbccdd") == 0, "appends after the torn line");
    ex_journal_close(&j);

    CHECK(ex_journal_open(&j, path, false, false) == 0, "reopens read-only");
    CHECK(j.n_entries == (size_t)scenes, "one entry per scene (%zu)", j.n_entries);
    CHECK(j.n_bad == 1, "the torn line is ignored (%zu bad)", j.n_bad);
    int right = 0;
    for (long n = 0; n < scenes; n++) {
        const ex_journal_entry *e = ex_journal_get(&j, n * 7);
        ex_journal_state want = n == 0       ? EX_JOURNAL_DONE
                                : n % 3 == 0 ? EX_JOURNAL_STARTED
                                : n % 5 == 0 ? EX_JOURNAL_FAILED
                                             : EX_JOURNAL_DONE;
        right += e && e->state == want && e->inputs == (uint64_t)n;
        if (e && e->state != want && right == n)
            printf("# scene %ld: state %d, want %d\n", n * 7, e->state, want);
    }
    CHECK(right == scenes, "the last record of every scene is found (%d of %ld)", right, scenes);
    CHECK(ex_journal_get(&j, 1) == NULL, "a scene with no record has none");
    CHECK(ex_journal_get(&j, -7) == NULL, "nor has a negative number");
    ex_journal_close(&j);

    CHECK(ex_journal_open(&j, "/tmp/explainer-no-such-journal", false, false) == 0,
          "a missing journal opens read-only as empty");
    CHECK(ex_journal_get(&j, 0) == NULL, "and holds nothing");
    ex_journal_close(&j);

    /* A record's parts are read back from its line. */
    CHECK(ex_journal_open(&j, path, false, false) == 0, "reopens read-only again");
    char *parts = ex_journal_parts(&j, ex_journal_get(&j, 0));
    CHECK_STR(parts, "title:01020304,narration:aabbccdd", "the parts of scene 0's last record");
    free(parts);
    CHECK(ex_journal_parts(&j, ex_journal_get(&j, 3)) == NULL,
          "a started record has no parts");
    ex_journal_close(&j);
    unlink(path);

    /* A hostile journal: 64 MB with no newline, then a good record. Read in
     * linear time (the over-long line is dropped), never kept whole. */
    char big[] = "/tmp/explainer-journal-big-XXXXXX";
    fd = mkstemp(big);
    CHECK(fd >= 0, "made a big journal");
    char *junk = malloc(1 << 20);
    memset(junk, 'x', 1 << 20);
    int wrote = 0;
    for (int i = 0; i < 64; i++)
        wrote += write(fd, junk, 1 << 20) == 1 << 20;
    free(junk);
    close(fd);
    CHECK(wrote == 64, "wrote 64 MB of one line");
    CHECK(ex_journal_open(&j, big, true, false) == 0, "opens a journal with a 64 MB line");
    CHECK(j.n_bad == 1 && j.n_entries == 0, "the line is one bad record (%zu)", j.n_bad);
    CHECK(j.tail_cap < (4u << 20), "without holding it in memory (%zu bytes)", j.tail_cap);
    CHECK(ex_journal_append(&j, EX_JOURNAL_DONE, 5, 42, 1, 0, NULL) == 0, "appends after it");
    CHECK(ex_journal_close(&j) == 0, "closes (and syncs) cleanly");
    CHECK(ex_journal_open(&j, big, false, false) == 0, "reopens it");
    const ex_journal_entry *e5 = ex_journal_get(&j, 5);
    CHECK(e5 && e5->inputs == 42, "and the record after the long line is read");
    ex_journal_close(&j);
    unlink(big);

    /* A journal that is not a regular file is refused, not read forever. */
    CHECK(ex_journal_open(&j, "/dev/zero", false, false) != 0, "/dev/zero is refused");
    CHECK(symlink("/dev/zero", big) == 0, "made a symlink to /dev/zero");
    CHECK(ex_journal_open(&j, big, true, false) != 0, "a symlinked journal is refused");
    unlink(big);
    return CHECK_DONE();
}
