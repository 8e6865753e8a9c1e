/* --device: parsing, the CPU backend, and the CUDA plugin's failure paths,
 * which must be clear messages, never a crash: no plugin file, a library
 * that is not a plugin, and (on a machine without a GPU) the real plugin
 * with no driver.  Where a GPU is usable the CUDA backend must open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scnet/backend.h"
#include "scnet/log.h"

static char desc[1024];

/* stderr of one call, for the notes and warnings the library prints */
static FILE *cap;
static int saved_fd = -1;

static void capture_start(void)
{
    fflush(stderr);
    cap = tmpfile();
    assert_non_null(cap);
    saved_fd = dup(2);
    dup2(fileno(cap), 2);
}

static const char *capture_end(void)
{
    static char buf[4096];
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    rewind(cap);
    size_t n = fread(buf, 1, sizeof buf - 1, cap);
    buf[n] = 0;
    fclose(cap);
    fputs(buf, stderr);
    return buf;
}

static void test_cpu(void **st)
{
    (void)st;
    sn_log_setup("test_backend", SN_LOG_WARN);
    sn_ops *o = NULL;
    assert_int_equal(sn_backend_open("cpu", 0, &o, desc, sizeof desc), 0);
    assert_non_null(o);
    assert_string_equal(o->name, "cpu");
    assert_true(!strncmp(desc, "cpu (", 5) && strstr(desc, " thread"));
    /* the table works: allocation is zeroed */
    float *x = o->alloc(o, 16 * sizeof *x), y[16];
    o->download(o, y, x, sizeof y);
    for (int i = 0; i < 16; i++)
        assert_true(y[i] == 0);
    o->free(o, x);
    sn_backend_close(o);
    sn_backend_close(NULL);
    /* tf32 on the CPU: a warning, then fp32 */
    capture_start();
    assert_int_equal(sn_backend_open("cpu", 1, &o, desc, sizeof desc), 0);
    assert_non_null(strstr(capture_end(), "warning: --precision tf32 needs a CUDA device"));
    assert_string_equal(o->name, "cpu");
    sn_backend_close(o);
}

static void test_bad_device_names(void **st)
{
    (void)st;
    const char *bad[] = {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "cuda:12345", "CPU", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sn_ops *o = (sn_ops *)&desc;
        assert_int_equal(sn_backend_open(bad[i], 0, &o, desc, sizeof desc), SN_EUSAGE);
        assert_null(o);
        assert_non_null(strstr(sn_errmsg(), "expected auto, cpu, cuda or cuda:N"));
    }
}

/* A plugin that cannot be loaded: cuda fails, auto falls back with a note. */
static void test_missing_plugin(void **st)
{
    (void)st;
    sn_ops *o = NULL;
    setenv("SCNET_CUDA_PLUGIN", "/nonexistent/libscnet-cuda.so", 1);
    assert_int_equal(sn_backend_open("cuda", 0, &o, desc, sizeof desc), SN_EINVAL);
    assert_null(o);
    assert_non_null(strstr(sn_errmsg(), "no usable CUDA device: cannot load the CUDA plugin"));
    assert_non_null(strstr(sn_errmsg(), "/nonexistent/libscnet-cuda.so"));
    capture_start();
    assert_int_equal(sn_backend_open("auto", 0, &o, desc, sizeof desc), 0);
    const char *note = capture_end();
    assert_string_equal(o->name, "cpu");
    assert_true(!strncmp(desc, "cpu (", 5));
    assert_non_null(strstr(note, "test_backend: no usable CUDA device (cannot load the CUDA plugin"));
    assert_non_null(strstr(note, "computing on the CPU"));
    sn_backend_close(o);
    /* -q silences the note */
    sn_log_setup("test_backend", SN_LOG_QUIET);
    capture_start();
    assert_int_equal(sn_backend_open("auto", 0, &o, desc, sizeof desc), 0);
    assert_string_equal(capture_end(), "");
    sn_backend_close(o);
    sn_log_setup("test_backend", SN_LOG_WARN);
    assert_true(sn_backend_cuda_devices(desc, sizeof desc) < 0);
    assert_non_null(strstr(desc, "/nonexistent/libscnet-cuda.so"));
    /* a shared library without the entry points */
    setenv("SCNET_CUDA_PLUGIN", "libz.so.1", 1);
    assert_int_equal(sn_backend_open("cuda:0", 0, &o, desc, sizeof desc), SN_EINVAL);
    assert_string_equal(sn_errmsg(), "no usable CUDA device: libz.so.1 is not a scnet CUDA plugin");
    unsetenv("SCNET_CUDA_PLUGIN");
}

/* The plugin of this build (when nvcc built one), loaded explicitly so
 * that its own device query runs even without a driver. */
static void test_build_plugin(void **st)
{
    (void)st;
    char path[4200], exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(path, sizeof path, "%s/../lib/libscnet-cuda.so", exe);
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "no CUDA plugin in this build (%s); its checks skipped\n", path);
        return;
    }
    setenv("SCNET_CUDA_PLUGIN", path, 1);
    char why[1024];
    int ndev = sn_backend_cuda_devices(why, sizeof why);
    fprintf(stderr, "CUDA devices: %d (%s)\n", ndev, why);
    sn_ops *o = NULL;
    int rc = sn_backend_open("cuda", 0, &o, desc, sizeof desc);
    if (ndev > 0) {
        assert_int_equal(rc, 0);
        assert_string_equal(o->name, "cuda");
        assert_true(!strncmp(desc, "cuda:0 (", 8));
        sn_backend_close(o);
        assert_int_equal(sn_backend_open("cuda:0", 1, &o, desc, sizeof desc), 0);
        assert_non_null(strstr(desc, ", tf32"));
        sn_backend_close(o);
    } else {
        char reason[1200];
        snprintf(reason, sizeof reason, "no usable CUDA device: %s", why);
        assert_int_equal(rc, SN_EINVAL);
        assert_null(o);
        assert_string_equal(sn_errmsg(), reason);
        capture_start();
        assert_int_equal(sn_backend_open("auto", 0, &o, desc, sizeof desc), 0);
        snprintf(reason, sizeof reason, "no usable CUDA device (%s); computing on the CPU", why);
        assert_non_null(strstr(capture_end(), reason));
        assert_string_equal(o->name, "cpu");
        sn_backend_close(o);
    }
    unsetenv("SCNET_CUDA_PLUGIN");
}

/* Found beside the executable, without the environment variable: on a
 * machine without a driver the plugin is not even loaded. */
static void test_default_search(void **st)
{
    (void)st;
    unsetenv("SCNET_CUDA_PLUGIN");
    sn_ops *o = NULL;
    char why[1024], want[1200];
    int ndev = sn_backend_cuda_devices(why, sizeof why);
    capture_start();
    assert_int_equal(sn_backend_open("auto", 0, &o, desc, sizeof desc), 0);
    const char *note = capture_end();
    if (ndev > 0) {
        assert_string_equal(o->name, "cuda");
        assert_string_equal(note, "");
    } else {
        snprintf(want, sizeof want, "no usable CUDA device (%s); computing on the CPU", why);
        assert_string_equal(o->name, "cpu");
        assert_non_null(strstr(note, want));
        sn_backend_close(o);
        assert_int_equal(sn_backend_open("cuda", 0, &o, desc, sizeof desc), SN_EINVAL);
        snprintf(want, sizeof want, "no usable CUDA device: %s", why);
        assert_string_equal(sn_errmsg(), want);
    }
    sn_backend_close(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_bad_device_names),
        cmocka_unit_test(test_missing_plugin),
        cmocka_unit_test(test_build_plugin),
        cmocka_unit_test(test_default_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
