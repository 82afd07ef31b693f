/*
 * journal.c -- append-only scene journal (see journal.h for the format).
 */
#include "journal.h"
#include "util.h"

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

/* The last " crc=" of a line, or NULL. */
static char *find_crc(char *line, size_t len)
{
    for (size_t i = len; i-- > 0;)
        if (line[i] == ' ' && len - i >= 5 && memcmp(line + i, " crc=", 5) == 0)
            return line + i;
    return NULL;
}

/* One line without its '\n' (writable: it is cut at " crc=" while read, then
 * restored). Returns false for anything that is not a whole, intact record. */
static bool parse_line(char *line, size_t len, ex_journal_entry *e)
{
    char *crc_at = find_crc(line, len);
    if (!crc_at || line + len - crc_at != 13)
        return false;
    uint32_t crc = 0;
    for (const char *p = crc_at + 5; p < line + len; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            return false;
        crc = crc << 4 | (uint32_t)d;
    }
    if (crc != line_crc(line, (size_t)(crc_at - line)))
        return false;
    char state[16];
    long scene, pid;
    uint64_t inputs;
    int attempt;
    double seconds, when;
    *crc_at = '\0';
    int got = sscanf(line, "%15s scene=%ld inputs=%" SCNx64 " attempt=%d seconds=%lf time=%lf pid=%ld",
                     state, &scene, &inputs, &attempt, &seconds, &when, &pid);
    *crc_at = ' ';
    if (got != 7)
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
    e->line_len = len;
    return true;
}

/* Parse the whole lines of tail[scan_from..tail_len) and keep the rest. */
static int take_lines(ex_journal *j, size_t scan_from)
{
    off_t tail_at = j->offset - (off_t)j->tail_len;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(j->tail + scan_from, '\n', j->tail_len - scan_from);
        if (!nl)
            break;
        size_t end = (size_t)(nl - j->tail);
        if (j->skipping) {
            j->skipping = false; /* the end of an over-long line: drop it */
        } else if (end > start) {
            ex_journal_entry e;
            if (end - start <= EX_JOURNAL_MAX_LINE &&
                parse_line(j->tail + start, end - start, &e)) {
                e.line_at = tail_at + (off_t)start;
                if (remember(j, &e) != 0)
                    return -1;
            } else {
                j->n_bad++;
            }
        }
        start = scan_from = end + 1;
    }
    size_t rest = j->tail_len - start;
    if (rest > EX_JOURNAL_MAX_LINE || (j->skipping && rest > 0)) {
        /* A line that never ends (garbage, a hostile file): stop keeping it;
         * drop what follows up to its newline. */
        if (!j->skipping)
            j->n_bad++;
        j->skipping = true;
        rest = 0;
        start = j->tail_len;
    }
    memmove(j->tail, j->tail + start, rest);
    j->tail_len = rest;
    return 0;
}

/* The journal's own flock(2), held over one append (exclusive) or one read
 * (shared). On a local file system O_APPEND alone keeps concurrent records
 * whole; over NFS a client appends where it believes the file ends and reads
 * what it has cached, and taking a lock is what makes it ask the server
 * (releasing one flushes the record): runs on several machines sharing one
 * output folder (docs/cluster.md). Without working locks: no lock. */
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
    for (;;) {
        size_t want = 65536;
        if (j->tail_cap - j->tail_len < want) {
            size_t cap = j->tail_len + want;
            char *grown = realloc(j->tail, cap);
            if (!grown)
                return -1;
            j->tail = grown;
            j->tail_cap = cap;
        }
        ssize_t n = pread(j->fd, j->tail + j->tail_len, want, j->offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        size_t scan_from = j->tail_len;
        j->offset += n;
        j->tail_len += (size_t)n;
        if (take_lines(j, scan_from) != 0)
            return -1;
    }
}

int ex_journal_open(ex_journal *j, const char *path, bool writable, bool durable)
{
    memset(j, 0, sizeof *j);
    j->writable = writable;
    j->durable = durable;
    j->fd = open(path, writable ? O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW
                                : O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (j->fd < 0) {
        if (!writable && errno == ENOENT)
            return 0;
        return -1;
    }
    struct stat st;
    if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* A journal that is a device or a FIFO (/dev/zero) would never end. */
        int saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        ex_journal_close(j);
        errno = saved;
        return -1;
    }
    if (writable) {
        /* A crash can leave a torn last line; end it so that the next record
         * starts on a line of its own (the torn one then fails its crc). */
        char last;
        if (st.st_size > 0 && pread(j->fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
            ex_write_all(j->fd, "\n", 1) != 0) {
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
                      uint64_t inputs, int attempt, double seconds,
                      const char *parts)
{
    if (j->fd < 0 || !j->writable) {
        errno = EBADF;
        return -1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ex_buf line = {0};
    ex_buf_printf(&line,
                  "%s scene=%ld inputs=%016" PRIx64 " attempt=%d seconds=%.3f "
                  "time=%lld.%03ld pid=%ld",
                  ex_journal_state_name(state), scene, inputs, attempt, seconds,
                  (long long)now.tv_sec, now.tv_nsec / 1000000, (long)getpid());
    /* Parts that would make the line too long are left out: the record still
     * tells a changed scene, only not what changed in it. */
    if (parts && *parts && line.len + strlen(parts) + 32 < EX_JOURNAL_MAX_LINE)
        ex_buf_printf(&line, " parts=%s", parts);
    if (line.failed) {
        ex_buf_free(&line);
        errno = ENOMEM;
        return -1;
    }
    ex_buf_printf(&line, " crc=%08x\n", line_crc(line.data, line.len));
    if (line.failed) {
        ex_buf_free(&line);
        errno = ENOMEM;
        return -1;
    }
    /* One write: with O_APPEND, records of concurrent runs never mix (and
     * under the journal's lock, not over NFS either). */
    bool locked = journal_lock(j->fd, LOCK_EX);
    int rc = ex_write_all(j->fd, line.data, line.len);
    if (rc == 0 && j->durable && state == EX_JOURNAL_STARTED && fdatasync(j->fd) != 0 &&
        errno != EINVAL)
        rc = -1;
    if (locked)
        journal_unlock(j->fd);
    ex_buf_free(&line);
    if (rc != 0)
        return -1;
    j->dirty = true;
    return 0;
}

char *ex_journal_parts(const ex_journal *j, const ex_journal_entry *e)
{
    if (j->fd < 0 || !e || e->line_len == 0 || e->line_len > EX_JOURNAL_MAX_LINE)
        return NULL;
    char *line = malloc(e->line_len + 1);
    if (!line)
        return NULL;
    ssize_t n = pread(j->fd, line, e->line_len, e->line_at);
    char *parts = NULL;
    if (n == (ssize_t)e->line_len) {
        line[n] = '\0';
        char *at = strstr(line, " parts=");
        char *crc = find_crc(line, (size_t)n);
        if (at && crc && at < crc)
            parts = ex_strndup(at + 7, (size_t)(crc - at - 7));
    }
    free(line);
    return parts;
}

int ex_journal_close(ex_journal *j)
{
    int rc = 0;
    if (j->fd >= 0) {
        if (j->writable && j->dirty && fdatasync(j->fd) != 0 && errno != EINVAL)
            rc = -1;
        int saved = errno;
        close(j->fd);
        errno = saved;
    }
    free(j->tail);
    free(j->entries);
    free(j->slots);
    memset(j, 0, sizeof *j);
    j->fd = -1;
    return rc;
}
