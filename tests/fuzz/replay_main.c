/* Replays a fuzzer's seed corpus without libFuzzer: linked with one
 * fuzz_*.c into fuzz_<name>_replay, it feeds LLVMFuzzerTestOneInput the
 * empty input and then every file of the directories given (in name order,
 * each in a buffer of its exact size, as libFuzzer does), so CTest's
 * ordinary build (gcc, ASan, UBSan) runs every seed and a regression shows
 * in the normal test run. A crash, a sanitizer report or a leak fails the
 * run; so does a directory without inputs, so that a corpus that went
 * missing does not pass unnoticed.
 *
 *   fuzz_wal_replay tests/fuzz/seeds/fuzz_wal */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir but dot files, sorted, in *out (malloc'd); -1 (errno
 * set) when dir cannot be read. */
static int list_dir(const char *dir, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = realloc(*out, cap * sizeof(**out));
        }
        if (!*out || !((*out)[*n] = strdup(e->d_name)))
            abort();
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(**out), by_name);
    return 0;
}

/* The whole file in a malloc'd buffer of its exact size; NULL on error. */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *p = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc(n > 0 ? (size_t)n : 1);
        if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        }
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int replay_dir(const char *dir)
{
    size_t n;
    char **names;
    if (list_dir(dir, &names, &n) != 0) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (n == 0) {
        fprintf(stderr, "%s: no inputs\n", dir);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        size_t len;
        uint8_t *data = read_all(path, &len);
        if (!data) {
            fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
            rc = -1;
        } else {
            fprintf(stderr, "%s (%zu bytes)\n", path, len);
            LLVMFuzzerTestOneInput(data, len);
            free(data);
        }
        free(names[i]);
    }
    free(names);
    printf("%s: %zu inputs\n", dir, n);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SEED_DIR...\n", argv[0]);
        return 2;
    }
    uint8_t *empty = calloc(1, 1);
    if (!empty)
        abort();
    LLVMFuzzerTestOneInput(empty, 0);
    free(empty);
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (replay_dir(argv[i]) != 0)
            rc = 1;
    return rc;
}
