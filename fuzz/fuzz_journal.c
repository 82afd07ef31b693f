/*
 * fuzz_journal.c -- libFuzzer harness for the journal reader (make fuzz).
 *
 * A journal is read back by every run, and after a crash or on a shared
 * folder it may hold anything: torn lines, garbage, lines without an end. Each
 * input is written as a journal file, then read: nothing may crash, hang or
 * grow without bound, and what is read must be consistent. Properties:
 *   - every entry found is a record whose line, read back, is a whole line of
 *     the input that ends in a valid crc (so nothing is made up);
 *   - a record appended after the input is found, with its parts;
 *   - the reader never keeps more than one line's worth of tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "property violated: %s\n", what);
    abort();
}

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/fuzz-journal-%ld", dir, (long)getpid());
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    close(fd);

    ex_journal j;
    if (ex_journal_open(&j, path, false, false) != 0)
        fail("a regular journal file could not be read");
    if (j.tail_cap > EX_JOURNAL_MAX_LINE + 65536 + 1)
        fail("the reader kept more than a line of tail");
    for (size_t i = 0; i < j.n_entries; i++) {
        const ex_journal_entry *e = &j.entries[i];
        if (e->line_at < 0 || (size_t)e->line_at + e->line_len > size)
            fail("an entry points outside the input");
        const char *line = (const char *)data + e->line_at;
        if ((size_t)e->line_at + e->line_len < size && line[e->line_len] != '\n')
            fail("an entry's line does not end at a newline");
        if (e->line_at > 0 && line[-1] != '\n')
            fail("an entry's line does not start a line");
        if (ex_journal_get(&j, e->scene) != e)
            fail("the index does not find an entry");
        free(ex_journal_parts(&j, e));
    }
    ex_journal_close(&j);

    /* Appending after whatever was there: the record is read back. */
    if (ex_journal_open(&j, path, true, false) != 0)
        fail("the journal could not be opened for appending");
    if (ex_journal_append(&j, EX_JOURNAL_DONE, 424242, 0xfeed, 1, 0.5, "title:0a0b0c0d") != 0)
        fail("a record could not be appended");
    ex_journal_close(&j);
    if (ex_journal_open(&j, path, false, false) != 0)
        fail("the journal could not be read again");
    const ex_journal_entry *mine = ex_journal_get(&j, 424242);
    if (!mine || mine->inputs != 0xfeed || mine->state != EX_JOURNAL_DONE)
        fail("the appended record is not found after the input");
    char *parts = ex_journal_parts(&j, mine);
    if (!parts || strcmp(parts, "title:0a0b0c0d") != 0)
        fail("the appended record's parts do not read back");
    free(parts);
    ex_journal_close(&j);
    return 0;
}
