/*
 * peak.c -- run a command and write its peak resident memory (KiB) to a file.
 * usage: peak OUT_FILE COMMAND ARG...   exit status: the command's
 *
 * bench/measure.py runs every command through this small program because Linux
 * counts a child's peak RSS from the moment it forks: spawned straight from
 * Python, every command would seem to use at least the interpreter's 14 MB.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: peak OUT_FILE COMMAND ARG...\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("peak: wait4");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out || fprintf(out, "%ld\n", usage.ru_maxrss) < 0 || fclose(out) != 0) {
        perror(argv[1]);
        return 2;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
