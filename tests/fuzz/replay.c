/* A plain main() for a fuzz harness: run LLVMFuzzerTestOneInput once on
 * each file named (directories: each file in them, in name order).  Lets
 * `make check` replay the seeds and every saved crash input with gcc, under
 * ASan/UBSan in SANITIZE=1 builds, without clang or libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scnet/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    unsigned char *buf;
    size_t len;
    if (sn_read_all(path, &buf, &len) < 0) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_dir(const char *dir, int *count)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, NULL), rc = 0;
    if (n < 0) {
        fprintf(stderr, "replay: %s: cannot list\n", dir);
        return -1;
    }
    char **names = malloc(sizeof *names * (size_t)(n ? n : 1));
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.' && names)
            names[k++] = strdup(ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    if (!names)
        return -1;
    qsort(names, (size_t)k, sizeof *names, cmp);
    for (int i = 0; i < k; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            rc |= run_file(p);
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, count = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            rc |= run_dir(argv[i], &count);
        } else {
            rc |= run_file(argv[i]);
            count++;
        }
    }
    fprintf(stderr, "replay: %d inputs, %s\n", count, rc ? "some unreadable" : "no crash");
    return rc ? 1 : 0;
}
