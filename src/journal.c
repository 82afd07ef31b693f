/*
 * journal.c -- append-only scene journal (see journal.h for the format).
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

static const char *const state_names[] = {"none", "started", "done", "failed"};

const char *ex_journal_state_name(ex_journal_state state)
{
    return state_names[state <= EX_JOURNAL_FAILED ? state : 0];
}

static uint32_t line_crc(const char *line, size_t len)
{
    return (uint32_t)ex_hash_bytes(EX_HASH_SEED, line, len);
}

static size_t slot_of(long scene, size_t n_slots)
{
    uint64_t h = (uint64_t)scene * 0x9E3779B97F4A7C15u;
    return (size_t)(h >> 32) & (n_slots - 1);
}

/* The slot holding `scene`, or the free slot where it would go. */
static size_t *find_slot(const ex_journal *j, long scene)
{
    for (size_t i = slot_of(scene, j->n_slots);; i = (i + 1) & (j->n_slots - 1)) {
        size_t *slot = &j->slots[i];
        if (*slot == 0 || j->entries[*slot - 1].scene == scene)
            return slot;
    }
}

static int grow_index(ex_journal *j)
{
    size_t n = j->n_slots ? j->n_slots * 2 : 64;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    free(j->slots);
    j->slots = slots;
    j->n_slots = n;
    for (size_t e = 0; e < j->n_entries; e++)
        *find_slot(j, j->entries[e].scene) = e + 1;
    return 0;
}

/* Keep the last record of each scene; a hash index keeps this linear in the
 * journal's length (10,000 scenes: no quadratic scan). */
static int remember(ex_journal *j, const ex_journal_entry *e)
{
    if ((j->n_entries + 1) * 2 > j->n_slots && grow_index(j) != 0)
        return -1;
    size_t *slot = find_slot(j, e->scene);
    if (*slot) {
        j->entries[*slot - 1] = *e;
        return 0;
    }
    if (j->n_entries == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 32;
        ex_journal_entry *grown = realloc(j->entries, cap * sizeof *grown);
        if (!grown)
            return -1;
        j->entries = grown;
        j->cap = cap;
    }
    j->entries[j->n_entries++] = *e;
    *slot = j->n_entries;
    return 0;
}

/* One line without its '\n'. Returns false for anything that is not a whole,
 * intact record. */
static bool parse_line(const char *line, size_t len, ex_journal_entry *e)
{
    const char *crc_at = NULL;
    for (size_t i = len; i-- > 0;)
        if (len - i >= 5 && memcmp(line + i, " crc=", 5) == 0) {
            crc_at = line + i;
            break;
        }
    if (!crc_at || len > 4096)
        return false;
    char buf[4100];
    memcpy(buf, line, len);
    buf[len] = '\0';
    unsigned crc;
    if (sscanf(buf + (crc_at - line) + 5, "%8x", &crc) != 1 ||
        crc != line_crc(line, (size_t)(crc_at - line)))
        return false;
    char state[16];
    long scene, pid;
    uint64_t inputs;
    int attempt;
    double seconds, when;
    if (sscanf(buf, "%15s scene=%ld inputs=%" SCNx64 " attempt=%d seconds=%lf time=%lf pid=%ld",
               state, &scene, &inputs, &attempt, &seconds, &when, &pid) != 7)
        return false;
    memset(e, 0, sizeof *e);
    for (int s = EX_JOURNAL_STARTED; s <= EX_JOURNAL_FAILED; s++)
        if (strcmp(state, state_names[s]) == 0)
            e->state = (ex_journal_state)s;
    if (e->state == EX_JOURNAL_NONE)
        return false;
    e->scene = scene;
    e->inputs = inputs;
    e->attempt = attempt;
    e->seconds = seconds;
    e->time = when;
    e->pid = pid;
    return true;
}

/* The journal's own flock(2), held over one append (exclusive) or one read
 * (shared). On a local file system O_APPEND alone keeps concurrent records
 * whole; over NFS a client appends where it believes the file ends and reads
 * what it has cached, and taking a lock is what makes it ask the server
 * (releasing one flushes the record): runs on several machines sharing one
 * output folder (docs/cluster.md). Without working locks: no lock, as before. */
static bool journal_lock(int fd, int op)
{
    int rc;
    do
        rc = flock(fd, op);
    while (rc != 0 && errno == EINTR);
    return rc == 0;
}

static void journal_unlock(int fd)
{
    int saved = errno;
    flock(fd, LOCK_UN);
    errno = saved;
}

static int refresh_locked(ex_journal *j);

int ex_journal_refresh(ex_journal *j)
{
    if (j->fd < 0)
        return 0;
    bool locked = journal_lock(j->fd, LOCK_SH);
    int rc = refresh_locked(j);
    if (locked)
        journal_unlock(j->fd);
    return rc;
}

static int refresh_locked(ex_journal *j)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = pread(j->fd, chunk, sizeof chunk, j->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        j->offset += n;
        char *grown = realloc(j->tail, j->tail_len + (size_t)n);
        if (!grown)
            return -1;
        j->tail = grown;
        memcpy(j->tail + j->tail_len, chunk, (size_t)n);
        j->tail_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < j->tail_len; i++) {
            if (j->tail[i] != '\n')
                continue;
            ex_journal_entry e;
            if (i > start) {
                if (parse_line(j->tail + start, i - start, &e)) {
                    if (remember(j, &e) != 0)
                        return -1;
                } else {
                    j->n_bad++;
                }
            }
            start = i + 1;
        }
        memmove(j->tail, j->tail + start, j->tail_len - start);
        j->tail_len -= start;
    }
}

int ex_journal_open(ex_journal *j, const char *path, bool writable)
{
    memset(j, 0, sizeof *j);
    j->writable = writable;
    j->fd = open(path, writable ? O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC
                                : O_RDONLY | O_CLOEXEC, 0666);
    if (j->fd < 0) {
        if (!writable && errno == ENOENT)
            return 0;
        return -1;
    }
    if (writable) {
        /* A crash can leave a torn last line; end it so that the next record
         * starts on a line of its own (the torn one then fails its crc). */
        struct stat st;
        char last;
        if (fstat(j->fd, &st) == 0 && st.st_size > 0 &&
            pread(j->fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
            write(j->fd, "\n", 1) != 1) {
            int saved = errno;
            ex_journal_close(j);
            errno = saved;
            return -1;
        }
    }
    if (ex_journal_refresh(j) != 0) {
        int saved = errno;
        ex_journal_close(j);
        errno = saved;
        return -1;
    }
    return 0;
}

const ex_journal_entry *ex_journal_get(const ex_journal *j, long scene)
{
    if (j->n_slots == 0)
        return NULL;
    size_t *slot = find_slot(j, scene);
    return *slot ? &j->entries[*slot - 1] : NULL;
}

int ex_journal_append(ex_journal *j, ex_journal_state state, long scene,
                      uint64_t inputs, int attempt, double seconds)
{
    if (j->fd < 0 || !j->writable) {
        errno = EBADF;
        return -1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%s scene=%ld inputs=%016" PRIx64 " attempt=%d seconds=%.3f "
                     "time=%lld.%03ld pid=%ld",
                     ex_journal_state_name(state), scene, inputs, attempt, seconds,
                     (long long)now.tv_sec, now.tv_nsec / 1000000, (long)getpid());
    if (n < 0 || (size_t)n + 16 > sizeof line) {
        errno = EOVERFLOW;
        return -1;
    }
    n += snprintf(line + n, sizeof line - (size_t)n, " crc=%08x\n",
                  line_crc(line, (size_t)n));
    /* One write: with O_APPEND, records of concurrent runs never mix (and
     * under the journal's lock, not over NFS either). */
    bool locked = journal_lock(j->fd, LOCK_EX);
    ssize_t w;
    do
        w = write(j->fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
    int rc = 0;
    if (w != n)
        rc = -1;
    else if (state == EX_JOURNAL_STARTED && fdatasync(j->fd) != 0 && errno != EINVAL)
        rc = -1;
    if (locked)
        journal_unlock(j->fd);
    if (rc != 0)
        return -1;
    /* Our own record is read back by the next refresh; nothing else to do. */
    return 0;
}

void ex_journal_close(ex_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    free(j->tail);
    free(j->entries);
    free(j->slots);
    memset(j, 0, sizeof *j);
    j->fd = -1;
}
