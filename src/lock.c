/*
 * lock.c -- per-scene byte-range locks in one file (see lock.h).
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static struct flock byte_of(short type, long number)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = number < 0 ? 0 : (off_t)number;
    fl.l_len = 1;
    return fl;
}

int ex_lockfile_open(const char *path)
{
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
}

int ex_lock_scene(int fd, long number)
{
    struct flock fl = byte_of(F_WRLCK, number);
    int rc;
    do
        rc = fcntl(fd, F_OFD_SETLK, &fl);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 && (errno == EAGAIN || errno == EACCES))
        errno = EWOULDBLOCK;
    return rc == 0 ? 0 : -1;
}

void ex_unlock_scene(int fd, long number)
{
    struct flock fl = byte_of(F_UNLCK, number);
    while (fcntl(fd, F_OFD_SETLK, &fl) != 0 && errno == EINTR) {
    }
}

bool ex_lock_scene_held(const char *path, long number)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    /* F_OFD_GETLK with a write lock asks: would anyone's lock conflict? */
    struct flock fl = byte_of(F_WRLCK, number);
    bool held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}
