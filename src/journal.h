/*
 * journal.h -- a workflow's journal of scene starts and ends.
 *
 * <out>/<name>/.explainer/<workflow>/journal is a text file, one record a
 * line, appended with O_APPEND in one write(2) each:
 *
 *   started scene=3 inputs=9f0c2a1e5b7d3c44 attempt=1 seconds=0.000 time=1717171717.250 pid=4242 crc=1a2b3c4d
 *   done scene=3 inputs=9f0c2a1e5b7d3c44 attempt=1 seconds=1.204 time=… pid=4242 parts=title:1a2b3c4d,narration:… crc=…
 *
 * `inputs` is the scene's key (a hash of everything its output depends on);
 * `parts` names the pieces that key was made of, each with a short hash of its
 * own, so that a later run can say what changed ("changed: narration").
 * crc is XXH3 (low 32 bits) of the line up to " crc=". A line that does not
 * parse, is longer than EX_JOURNAL_MAX_LINE, or whose crc is wrong (the torn
 * last line of a crashed run) is ignored. The last record of a scene says
 * where it stands: "started" with no later "done" or "failed" means the run
 * that started it died.
 *
 * Durability (docs/guarantees.md): records reach the page cache at once, so a
 * kill -9 loses nothing; the journal is synced once when a run closes it, and
 * with `durable` every "started" record is synced before its processor runs.
 */
#ifndef EXPLAINER_JOURNAL_H
#define EXPLAINER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EX_JOURNAL_MAX_LINE 8192

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
    off_t line_at;    /* where the record's line starts in the file */
    size_t line_len;
} ex_journal_entry;

typedef struct ex_journal {
    int fd;                      /* -1: no journal file (read-only open) */
    bool writable, durable, dirty;
    bool shared;                 /* on a network file system: flock each access */
    long pid;                    /* this process, in its records */
    off_t own_bytes;             /* bytes this process appended */
    off_t offset;                /* bytes read so far */
    char *tail;                  /* an incomplete last line, not yet parsed */
    size_t tail_len, tail_cap;
    bool skipping;               /* inside an over-long line: drop to its end */
    ex_journal_entry *entries;   /* the last record of each scene */
    size_t n_entries, cap;
    size_t *slots;               /* open-addressing index: entry number + 1, 0 free */
    size_t n_slots;              /* a power of two, at least twice n_entries */
    size_t n_bad;                /* lines ignored */
} ex_journal;

/* Open `path`. writable: create it (and append from now on); otherwise a
 * missing file is an empty journal. Reads what is there. Refuses a symlink.
 * 0, or -1 with errno. */
int ex_journal_open(ex_journal *j, const char *path, bool writable, bool durable);

/* Read records appended since the last read (by this or another process).
 * Linear in what was appended, whatever its shape. 0, or -1 with errno. */
int ex_journal_refresh(ex_journal *j);

/* The last record of a scene, or NULL. */
const ex_journal_entry *ex_journal_get(const ex_journal *j, long scene);

/* Append one record; `parts` (for done records, may be NULL) is a
 * comma-separated list of name:hash8. 0, or -1 with errno. */
int ex_journal_append(ex_journal *j, ex_journal_state state, long scene,
                      uint64_t inputs, int attempt, double seconds,
                      const char *parts);

/* The parts list of a record (read back from the file), malloc'd; NULL when
 * it has none. */
char *ex_journal_parts(const ex_journal *j, const ex_journal_entry *e);

/* Close; a writable journal that was appended to is synced first (one
 * fdatasync a run). 0, or -1 with errno when that sync failed. */
int ex_journal_close(ex_journal *j);

const char *ex_journal_state_name(ex_journal_state state);

#endif
