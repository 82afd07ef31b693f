/* test_journal_lock.c -- a journal record is appended under the journal's
 * flock(2), so that runs on several machines sharing an output folder over NFS
 * (where O_APPEND alone is not atomic across clients) never write at once: an
 * append waits while another holder (here: another open of the file, as a run
 * on another machine would be) has the lock, and lands after that holder's
 * record. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "journal.h"

/* The state letter of /proc/<pid>/stat: 'S' sleeping (blocked), 'Z' exited. */
static char process_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren[2] : '?';
}

static void pause_briefly(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

int main(void)
{
    char path[] = "/tmp/explainer-journal-lock-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "made a temporary journal");
    close(fd);

    ex_journal j;
    CHECK(ex_journal_open(&j, path, true, false) == 0, "opens for writing");
    /* /tmp is local here: pretend it is NFS, where the journal takes its lock
     * (on a local file system O_APPEND alone keeps records whole). */
    j.shared = true;

    /* The other run's hold on the journal. */
    int other = open(path, O_WRONLY | O_APPEND);
    CHECK(other >= 0 && flock(other, LOCK_EX) == 0, "another open of the journal takes its lock");

    int ready[2];
    CHECK(pipe(ready) == 0, "made a pipe");
    pid_t child = fork();
    if (child == 0) {
        close(other); /* the child's copy of the other run's descriptor */
        if (write(ready[1], "x", 1) != 1)
            _exit(3);
        _exit(ex_journal_append(&j, EX_JOURNAL_DONE, 7, 7, 1, 0.5, NULL) == 0 ? 0 : 2);
    }
    char c;
    CHECK(child > 0 && read(ready[0], &c, 1) == 1, "the appending process is about to append");

    /* Wait (a hang guard, not a timing) until it blocks or finishes. */
    char state = '?';
    for (int i = 0; i < 1000; i++) {
        state = process_state(child);
        if (state == 'S' || state == 'Z')
            break;
        pause_briefly();
    }
    CHECK(state == 'S', "the append waits while the other holder has the lock (state %c)", state);

    const char *mine = "started scene=1 (the other run's record)\n";
    CHECK(write(other, mine, strlen(mine)) == (ssize_t)strlen(mine), "the holder writes");
    flock(other, LOCK_UN);
    close(other);

    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the append succeeds once the lock is free");

    FILE *f = fopen(path, "r");
    char first[256] = "", second[256] = "";
    if (f) {
        if (!fgets(first, sizeof first, f) || !fgets(second, sizeof second, f))
            second[0] = '\0';
        fclose(f);
    }
    CHECK(strcmp(first, mine) == 0, "the holder's record comes first");
    CHECK(strncmp(second, "done scene=7 ", 13) == 0, "the waiting append comes after it");

    /* A reader refreshing while nobody writes is not held up by its own lock. */
    CHECK(ex_journal_refresh(&j) == 0, "refreshes under a shared lock");
    const ex_journal_entry *e = ex_journal_get(&j, 7);
    CHECK(e && e->state == EX_JOURNAL_DONE, "and reads the record back");
    CHECK(flock(j.fd, LOCK_EX | LOCK_NB) == 0, "leaves the journal unlocked after each use");

    ex_journal_close(&j);
    close(ready[0]);
    close(ready[1]);
    unlink(path);
    return CHECK_DONE();
}
