/*
 * journal.h -- the per-output-folder journal of scene starts and ends.
 *
 * <out>/<name>/.explainer/journal is a text file, one record a line, appended
 * with O_APPEND. A "started" record is synced before the processor runs (so
 * that, even after a power cut, an output it half wrote is known to be
 * unfinished); "done" and "failed" are not: losing one only means the scene is
 * redone, and skipping their fdatasync halves a run's syncs.
 *
 *   started scene=3 inputs=9f0c2a1e5b7d3c44 attempt=1 seconds=0.000 time=1717171717.250 pid=4242 crc=1a2b3c4d
 *
 * crc is XXH3 (low 32 bits) of the line up to " crc=". A line that does not
 * parse or whose crc is wrong (the torn last line of a crashed run) is ignored.
 * The last record of a scene says where it stands: "started" with no later
 * "done" or "failed" means the run that started it died.
 */
#ifndef EXPLAINER_JOURNAL_H
#define EXPLAINER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum ex_journal_state {
    EX_JOURNAL_NONE = 0,
    EX_JOURNAL_STARTED,
    EX_JOURNAL_DONE,
    EX_JOURNAL_FAILED
} ex_journal_state;

typedef struct ex_journal_entry {
    long scene;
    ex_journal_state state;
    uint64_t inputs;
    int attempt;
    double seconds;   /* of the attempt (done/failed) */
    double time;      /* wall clock, seconds since the epoch */
    long pid;
} ex_journal_entry;

typedef struct ex_journal {
    int fd;                      /* -1: no journal file (read-only open) */
    bool writable;
    off_t offset;                /* bytes read so far */
    char *tail;                  /* an incomplete last line, not yet parsed */
    size_t tail_len;
    ex_journal_entry *entries;   /* the last record of each scene */
    size_t n_entries, cap;
    size_t *slots;               /* open-addressing index: entry number + 1, 0 free */
    size_t n_slots;              /* a power of two, at least twice n_entries */
    size_t n_bad;                /* lines ignored */
} ex_journal;

/* Open `path`. writable: create it (and append from now on); otherwise a
 * missing file is an empty journal. Reads what is there. 0, or -1 with errno. */
int ex_journal_open(ex_journal *j, const char *path, bool writable);

/* Read records appended since the last read (by this or another process). */
int ex_journal_refresh(ex_journal *j);

/* The last record of a scene, or NULL. */
const ex_journal_entry *ex_journal_get(const ex_journal *j, long scene);

/* Append one record ("started" ones synced to disk). 0, or -1 with errno. */
int ex_journal_append(ex_journal *j, ex_journal_state state, long scene,
                      uint64_t inputs, int attempt, double seconds);

void ex_journal_close(ex_journal *j);

const char *ex_journal_state_name(ex_journal_state state);

#endif
