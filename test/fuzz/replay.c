/*
 * replay.c - runs a libFuzzer target without libFuzzer, over a corpus directory.
 *
 *   replay_<name> DIR
 *
 * Feeds every regular file of DIR (dot files skipped) to LLVMFuzzerTestOneInput,
 * in sorted name order so every run is the same, and prints one harness line that
 * test/run.sh counts:
 *
 *   ok   fuzz_replay_<name> (<N> inputs)     or     FAIL fuzz_replay_<name> (...)
 *
 * <name> is the corpus directory's base name. An empty or missing corpus is a
 * failure: a replay that runs nothing must not pass. A target that abort()s on
 * a violation is caught by a signal handler that names the input first.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char name[256];
/* The FAIL line for the input being run, ready before the call: a signal handler
 * may only write() what is already formatted. */
static char crash_line[1024];
static size_t crash_len;

static void on_crash(int sig)
{
    if (write(STDOUT_FILENO, crash_line, crash_len) < 0) {
        /* nothing more can be done inside a signal handler */
    }
    signal(sig, SIG_DFL);
    raise(sig); /* keep the crash status for run.sh and for a debugger */
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file; NULL on error. *size receives its length. */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

static int fail(const char *why, const char *detail)
{
    printf("FAIL fuzz_replay_%s (%s%s%s)\n", name, why, detail ? ": " : "", detail ? detail : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    /* The test name is the directory's base name, trailing slashes ignored. */
    const char *dir = argv[1];
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    snprintf(name, sizeof name, "%.*s", (int)(end - start), dir + start);

    DIR *d = opendir(dir);
    if (!d)
        return fail("cannot open corpus directory", dir);
    size_t count = 0, cap = 0;
    char **files = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **more = realloc(files, cap * sizeof *files);
            if (!more)
                return fail("out of memory", NULL);
            files = more;
        }
        if (!(files[count++] = strdup(e->d_name)))
            return fail("out of memory", NULL);
    }
    closedir(d);
    qsort(files, count, sizeof *files, by_name);

    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);

    size_t inputs = 0;
    int rc = 0;
    char path[4096];
    for (size_t i = 0; i < count && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue; /* subdirectories and the like are not inputs */
        size_t size = 0;
        uint8_t *data = read_file(path, &size);
        if (!data) {
            rc = fail("cannot read", path);
            break;
        }
        int n = snprintf(crash_line, sizeof crash_line,
                         "FAIL fuzz_replay_%s (crashed on input %s)\n", name, files[i]);
        crash_len = n < 0 ? 0 : (size_t)n < sizeof crash_line ? (size_t)n : sizeof crash_line - 1;
        fflush(stdout);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        inputs++;
    }
    for (size_t i = 0; i < count; i++)
        free(files[i]);
    free(files);
    if (rc)
        return rc;
    if (inputs == 0)
        return fail("no inputs in", dir);
    printf("ok   fuzz_replay_%s (%zu inputs)\n", name, inputs);
    return 0;
}
