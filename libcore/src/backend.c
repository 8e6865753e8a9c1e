/* --device: the CPU backend, or the CUDA plugin found beside the
 * executable and loaded with dlopen.  A plugin stays loaded for the life
 * of the process (unloading the CUDA runtime while it may still hold
 * driver state is not safe). */
#include "scnet/backend.h"

#include <dlfcn.h>
#include <omp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "blas.h"
#include "scnet/cuda_plugin.h"
#include "scnet/log.h"

#define PLUGIN_NAME "libscnet-cuda.so"
#define MAX_PLUGINS 4

typedef struct {
    char path[PATH_MAX];
    void *dl;
    sn_cuda_open_fn open;
    sn_cuda_devices_fn devices;
    sn_cuda_set_tf32_fn set_tf32;
} plugin;

static plugin loaded[MAX_PLUGINS];
static int nloaded;

static void say(char *buf, size_t len, const char *fmt, ...) SN_PRINTF(3, 4);
static void say(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The directory of the running executable. */
static int exe_dir(char *dir, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0)
        return -1;
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = 0;
    return 0;
}

/* The plugin to load: $SCNET_CUDA_PLUGIN, else the first of the build and
 * install locations that exists.  -1 with why set when there is none. */
static int plugin_path(char *path, size_t len, char *why, size_t wlen)
{
    const char *env = getenv("SCNET_CUDA_PLUGIN");
    if (env && *env) {
        snprintf(path, len, "%s", env);
        return 0;
    }
    char dir[PATH_MAX - 64];
    if (exe_dir(dir, sizeof dir) < 0) {
        say(why, wlen, "cannot locate the executable to find %s", PLUGIN_NAME);
        return -1;
    }
    static const char *const rel[] = {"/../lib/" PLUGIN_NAME, "/../lib/scnet/" PLUGIN_NAME};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        snprintf(path, len, "%s%s", dir, rel[i]);
        if (access(path, F_OK) == 0)
            return 0;
    }
    say(why, wlen, "this build has no CUDA backend (%s not found in %s/../lib or ../lib/scnet)", PLUGIN_NAME, dir);
    return -1;
}

/* Loading the plugin maps cuBLAS (hundreds of MB, most of a second), so
 * without a driver, which the CUDA runtime would look for under this same
 * name, it is not loaded at all.  An explicit SCNET_CUDA_PLUGIN is always
 * loaded: it may not need the driver. */
static int driver_present(char *why, size_t wlen)
{
    const char *env = getenv("SCNET_CUDA_PLUGIN");
    if (env && *env)
        return 1;
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        say(why, wlen, "no NVIDIA driver is installed: libcuda.so.1 not found");
        return 0;
    }
    dlclose(h);
    return 1;
}

static plugin *plugin_load(char *why, size_t wlen)
{
    char path[PATH_MAX];
    if (plugin_path(path, sizeof path, why, wlen) < 0 || !driver_present(why, wlen))
        return NULL;
    for (int i = 0; i < nloaded; i++)
        if (!strcmp(loaded[i].path, path))
            return &loaded[i];
    if (nloaded == MAX_PLUGINS) {
        say(why, wlen, "too many CUDA plugins loaded (not loading %s)", path);
        return NULL;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        say(why, wlen, "cannot load the CUDA plugin: %s", e ? e : path);
        return NULL;
    }
    plugin *p = &loaded[nloaded];
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer */
    *(void **)&p->open = dlsym(dl, SN_CUDA_OPEN_SYM);
    *(void **)&p->devices = dlsym(dl, SN_CUDA_DEVICES_SYM);
    *(void **)&p->set_tf32 = dlsym(dl, SN_CUDA_SET_TF32_SYM);
    if (!p->open || !p->devices || !p->set_tf32) {
        dlclose(dl);
        memset(p, 0, sizeof *p);
        say(why, wlen, "%s is not a scnet CUDA plugin", path);
        return NULL;
    }
    snprintf(p->path, sizeof p->path, "%s", path);
    p->dl = dl;
    nloaded++;
    return p;
}

/* "auto" → -1, "cuda" → 0, "cuda:N" → N; SN_EUSAGE otherwise. */
static int parse_device(const char *device, int *dev)
{
    *dev = 0;
    if (!strcmp(device, "auto")) {
        *dev = -1;
        return SN_OK;
    }
    if (!strcmp(device, "cuda"))
        return SN_OK;
    const char *d = device + 5;
    if (!strncmp(device, "cuda:", 5) && *d && strlen(d) <= 4 && strspn(d, "0123456789") == strlen(d)) {
        *dev = atoi(d);
        return SN_OK;
    }
    return sn_err(SN_EUSAGE, "invalid device '%s' (expected auto, cpu, cuda or cuda:N)", device);
}

/* OpenBLAS picks its kernels by CPU model at start; a model it does not
 * know (a new CPU, or one a virtual machine disguises) gets generic SSE
 * kernels, several times slower, with no word from OpenBLAS. */
static void check_blas_kernels(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const char *const fast[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    const char *core = openblas_get_corename();
    if (!core || !__builtin_cpu_supports("avx2"))
        return;
    for (size_t i = 0; i < sizeof fast / sizeof *fast; i++)
        if (!strcasecmp(core, fast[i]))
            return;
    sn_warn("OpenBLAS uses its %s kernels on a CPU with AVX2: matrix products may run several times slower than "
            "they could (OPENBLAS_CORETYPE=Haswell selects faster ones)", core);
#endif
}

static int open_cpu(int tf32, sn_ops **ops, char *desc, size_t len)
{
    if (tf32)
        sn_warn("--precision tf32 needs a CUDA device; computing in fp32 on the CPU");
    if (!(*ops = sn_ops_cpu_new_f32()))
        return SN_ENOMEM;
    check_blas_kernels();
    int n = omp_get_max_threads();
    say(desc, len, "cpu (%d thread%s, OpenBLAS %s kernels)", n, n == 1 ? "" : "s", openblas_get_corename());
    return SN_OK;
}

/* The plugin's own table, or -1 with the reason in why. */
static int open_cuda(int dev, int tf32, sn_ops **ops, char *why, size_t wlen)
{
    plugin *p = plugin_load(why, wlen);
    if (!p)
        return -1;
    sn_cuda_host host = {SN_CUDA_ABI, sizeof(sn_ops), sn_err};
    if (p->open(&host, dev, ops, why, wlen) < 0) {
        *ops = NULL;
        return -1;
    }
    if (tf32 && p->set_tf32(*ops, 1) != 0) {
        snprintf(why, wlen, "%s", sn_errmsg());
        (*ops)->destroy(*ops);
        *ops = NULL;
        return -1;
    }
    return 0;
}

int sn_backend_open(const char *device, int tf32, sn_ops **ops, char *desc, size_t len)
{
    *ops = NULL;
    if (!device || !strcmp(device, "cpu"))
        return open_cpu(tf32, ops, desc, len);
    int dev;
    SN_TRY(parse_device(device, &dev));
    char why[1024];
    if (open_cuda(dev < 0 ? 0 : dev, tf32, ops, why, sizeof why) == 0) {
        say(desc, len, "%s%s", why, tf32 ? ", tf32" : "");
        return SN_OK;
    }
    if (dev >= 0)
        return sn_err(SN_EINVAL, "no usable CUDA device: %s", why);
    sn_note("no usable CUDA device (%s); computing on the CPU", why);
    return open_cpu(tf32, ops, desc, len);
}

void sn_backend_close(sn_ops *ops)
{
    if (ops)
        ops->destroy(ops);
}

int sn_backend_cuda_devices(char *desc, size_t len)
{
    char why[1024];
    plugin *p = plugin_load(why, sizeof why);
    if (!p) {
        say(desc, len, "%s", why);
        return -1;
    }
    return p->devices(desc, len);
}
