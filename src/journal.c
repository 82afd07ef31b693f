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
#include <sys/statfs.h>
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

static bool take_field(const char **p, const char *end, const char *name)
{
    size_t n = strlen(name);
    if ((size_t)(end - *p) < n || memcmp(*p, name, n) != 0)
        return false;
    *p += n;
    return true;
}

static bool take_int(const char **p, const char *end, long long *out)
{
    const char *q = *p;
    bool negative = q < end && *q == '-';
    q += negative;
    long long v = 0;
    const char *digits = q;
    while (q < end && *q >= '0' && *q <= '9' && q - digits < 18)
        v = v * 10 + (*q++ - '0');
    if (q == digits)
        return false;
    *out = negative ? -v : v;
    *p = q;
    return true;
}

static bool take_hex(const char **p, const char *end, uint64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;
    while (q < end && q - *p < 16) {
        int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;
        if (d < 0)
            break;
        v = v << 4 | (uint64_t)d;
        q++;
    }
    if (q == *p)
        return false;
    *out = v;
    *p = q;
    return true;
}

/* "S" or "S.mmm" (the journal writes thousandths). */
static bool take_decimal(const char **p, const char *end, double *out)
{
    long long whole;
    if (!take_int(p, end, &whole))
        return false;
    double v = (double)whole, scale = 0.1;
    if (*p < end && **p == '.') {
        (*p)++;
        const char *digits = *p;
        while (*p < end && **p >= '0' && **p <= '9') {
            v += (**p - '0') * scale;
            scale /= 10;
            (*p)++;
        }
        if (*p == digits)
            return false;
    }
    *out = v;
    return true;
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
    /* By hand: sscanf is most of the cost of reading a long journal. */
    const char *p = line, *end = crc_at;
    memset(e, 0, sizeof *e);
    for (int st = EX_JOURNAL_STARTED; st <= EX_JOURNAL_FAILED && !e->state; st++) {
        size_t n = strlen(state_names[st]);
        if ((size_t)(end - p) > n && memcmp(p, state_names[st], n) == 0 && p[n] == ' ') {
            e->state = (ex_journal_state)st;
            p += n;
        }
    }
    long long scene, attempt, pid;
    uint64_t inputs;
    double seconds, when;
    if (!e->state || !take_field(&p, end, " scene=") || !take_int(&p, end, &scene) ||
        !take_field(&p, end, " inputs=") || !take_hex(&p, end, &inputs) ||
        !take_field(&p, end, " attempt=") || !take_int(&p, end, &attempt) ||
        !take_field(&p, end, " seconds=") || !take_decimal(&p, end, &seconds) ||
        !take_field(&p, end, " time=") || !take_decimal(&p, end, &when) ||
        !take_field(&p, end, " pid=") || !take_int(&p, end, &pid) ||
        (p < end && *p != ' '))
        return false;
    e->scene = (long)scene;
    e->inputs = inputs;
    e->attempt = (int)attempt;
    e->seconds = seconds;
    e->time = when;
    e->pid = (long)pid;
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
 * (shared), on a network file system. On a local one O_APPEND alone keeps
 * concurrent records whole; over NFS a client appends where it believes the
 * file ends and reads what it has cached, and taking a lock is what makes it
 * ask the server (releasing one flushes the record): runs on several machines
 * sharing one output folder (docs/cluster.md). Without working locks: none. */
static bool journal_lock(const ex_journal *j, int op)
{
    if (!j->shared)
        return false;
    int rc;
    do
        rc = flock(j->fd, op);
    while (rc != 0 && errno == EINTR);
    return rc == 0;
}

static void journal_unlock(int fd)
{
    int saved = errno;
    flock(fd, LOCK_UN);
    errno = saved;
}

/* Is the file on a file system that other machines share? */
static bool on_network_fs(int fd)
{
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0)
        return true; /* unsure: lock */
    switch ((unsigned long)fs.f_type) {
    case 0x6969:     /* NFS */
    case 0xFF534D42: /* CIFS */
    case 0xFE534D42: /* SMB2 */
    case 0x65735546: /* FUSE (sshfs, ...) */
    case 0x01021997: /* 9P */
    case 0x564c:     /* NCP */
    case 0x73757245: /* Coda */
    case 0x6B414653: /* AFS */
    case 0x00C36400: /* Ceph */
    case 0x47504653: /* GPFS */
    case 0x0BD00BD0: /* Lustre */
        return true;
    default:
        return false;
    }
}

static int refresh_locked(ex_journal *j);

int ex_journal_refresh(ex_journal *j)
{
    if (j->fd < 0)
        return 0;
    bool locked = journal_lock(j, LOCK_SH);
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
    j->shared = on_network_fs(j->fd);
    j->pid = (long)getpid();
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

static void put_str(ex_buf *b, const char *s)
{
    ex_buf_put(b, s, strlen(s));
}

static void put_long(ex_buf *b, long long v)
{
    char digits[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        digits[n++] = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (v < 0)
        digits[n++] = '-';
    while (n > 0)
        ex_buf_put(b, &digits[--n], 1);
}

static void put_hex(ex_buf *b, uint64_t v, int width)
{
    static const char hex[] = "0123456789abcdef";
    char out[16];
    for (int i = 0; i < width; i++)
        out[i] = hex[(v >> (4 * (width - 1 - i))) & 15];
    ex_buf_put(b, out, (size_t)width);
}

/* Thousandths as "S.mmm". */
static void put_millis(ex_buf *b, long long millis)
{
    if (millis < 0)
        millis = 0;
    put_long(b, millis / 1000);
    char frac[4] = {'.', (char)('0' + millis / 100 % 10), (char)('0' + millis / 10 % 10),
                    (char)('0' + millis % 10)};
    ex_buf_put(b, frac, 4);
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
    /* Formatted by hand: a run of many cheap scenes writes two records each. */
    ex_buf line = {0};
    ex_buf_reserve(&line, 160 + (parts ? strlen(parts) : 0));
    put_str(&line, ex_journal_state_name(state));
    put_str(&line, " scene=");
    put_long(&line, scene);
    put_str(&line, " inputs=");
    put_hex(&line, inputs, 16);
    put_str(&line, " attempt=");
    put_long(&line, attempt);
    put_str(&line, " seconds=");
    put_millis(&line, (long long)(seconds * 1000 + 0.5));
    put_str(&line, " time=");
    put_millis(&line, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    put_str(&line, " pid=");
    put_long(&line, j->pid);
    /* Parts that would make the line too long are left out: the record still
     * tells a changed scene, only not what changed in it. */
    if (parts && *parts && line.len + strlen(parts) + 32 < EX_JOURNAL_MAX_LINE) {
        put_str(&line, " parts=");
        put_str(&line, parts);
    }
    uint32_t crc = line.failed ? 0 : line_crc(line.data, line.len);
    put_str(&line, " crc=");
    put_hex(&line, crc, 8);
    put_str(&line, "\n");
    if (line.failed) {
        ex_buf_free(&line);
        errno = ENOMEM;
        return -1;
    }
    /* One write: with O_APPEND, records of concurrent runs never mix (and
     * under the journal's lock, not over NFS either). */
    bool locked = journal_lock(j, LOCK_EX);
    int rc = ex_write_all(j->fd, line.data, line.len);
    if (rc == 0 && j->durable && state == EX_JOURNAL_STARTED && fdatasync(j->fd) != 0 &&
        errno != EINVAL)
        rc = -1;
    if (locked)
        journal_unlock(j->fd);
    size_t len = line.len;
    ex_buf_free(&line);
    if (rc != 0)
        return -1;
    j->dirty = true;
    j->own_bytes += (off_t)len;
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
