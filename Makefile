# scnet — plain GNU make.  `make` builds everything into build/;
# `make check` and `make demo` first install missing Debian packages.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
SANITIZE  ?= 0
SHARED    ?= $(abspath ../shared)
CC        ?= gcc
ifeq ($(origin CC),default)
CC        := gcc
endif
# -march=native without AVX-512: valgrind (3.19 in Debian 12, `make valgrind`
# and the memcheck test) stops at the first AVX-512 instruction, the
# hand-written kernels are AVX2, and GCC keeps to 256-bit vectors on these
# cores by default anyway.  Compilers or targets without the flag get
# plain -march=native.
NO512     := $(shell $(CC) -march=native -mno-avx512f -E -x c /dev/null >/dev/null 2>&1 && echo -mno-avx512f)
ARCH      ?= -march=native $(NO512)
# The loop vectoriser's full cost model: at -O2 GCC 12 vectorises only
# loops that need no runtime checks or remainder, which leaves scalar the
# value scans, filters and per-gene sums of scnet-prep (3 % of its time at
# 10,000 cells; the same output bytes: without -ffast-math nothing is
# reordered or contracted).  -O3 gains no more and warns falsely.
OPT       ?= -O2 -fvect-cost-model=dynamic
V         ?= 0
ifeq ($(V),0)
Q = @
else
Q =
endif

# Library flags come from pkg-config, evaluated lazily so that `make deps`
# can run before the packages it installs are known to pkg-config.
PKGS       = hdf5 igraph gsl zlib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I$(BLAS_INC)
# OpenBLAS built on OpenMP: the model mixes BLAS calls with OpenMP loops,
# and one shared thread pool avoids two pools spinning against each other.
BLAS_DIR   = /usr/lib/x86_64-linux-gnu/openblas-openmp
BLAS_INC   = /usr/include/x86_64-linux-gnu/openblas-openmp
HDF5_LIBS_L = $(shell pkg-config --libs-only-L hdf5 2>/dev/null)
# gsl's own CBLAS is left out on purpose: OpenBLAS provides cblas_* symbols.
LDLIBS     = $(HDF5_LIBS_L) -lhdf5_hl -lhdf5 -ligraph -lgsl -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas \
             -llzf -lz -lm -lpthread

WARN      = -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS  = -Ilibcore/include -Ikernels/include -D_GNU_SOURCE -DSN_VERSION=\"$(VERSION)\"
# -fno-math-errno: nothing reads errno after maths, and without it sqrtf
# keeps element loops (Adam) from vectorising.  -fno-trapping-math: nothing
# reads the floating-point exception flags, and without it a select such as
# the leaky ReLU's keeps the activation loops scalar and branchy.  Neither
# reorders arithmetic: results are unchanged, bit for bit.
CFLAGS    = -std=c11 $(OPT) -g $(ARCH) -fopenmp -fno-math-errno -fno-trapping-math $(WARN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS   = -fopenmp

# FUZZ=1: the library and the libFuzzer harnesses (tests/fuzz) built with
# clang, coverage and ASan/UBSan, into build/fuzz (see tests/fuzz/run.sh).
# OpenMP through gcc's runtime, the one OpenBLAS uses.
FUZZ      ?= 0
# (override: a BUILD given on the command line is the base these append to,
# so that its objects never mix with the plain build's)
ifeq ($(FUZZ),1)
override BUILD := $(BUILD)/fuzz
CC       := clang
OPT      := -O1
CFLAGS   := $(filter-out -fopenmp,$(CFLAGS)) -fopenmp=libgomp \
            -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  := -fopenmp=libgomp -fsanitize=fuzzer,address,undefined
endif

ifeq ($(SANITIZE),1)
override BUILD := $(BUILD)/asan
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

NVCC      ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]

# *.tmpl.c sources are compiled twice: float32 (the programs) and float64
# (gradient checks), selected by SN_REAL_F64.
LIB_SRC    = $(filter-out %.tmpl.c,$(wildcard libcore/src/*.c))
KERN_SRC   = $(filter-out %.tmpl.c,$(wildcard kernels/cpu/*.c))
TMPL_SRC   = $(wildcard libcore/src/*.tmpl.c kernels/cpu/*.tmpl.c)
TOOL_SRC   = $(wildcard tools/scnet-*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
TTOOL_SRC  = $(wildcard tests/tools/*.c)
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
CUDA_SRC   = $(wildcard kernels/cuda/*.cu)

LIB        = $(BUILD)/lib/libscnet.a
KLIB       = $(BUILD)/lib/libscnet-kernels.a
CUDA_LIB   = $(BUILD)/lib/libscnet-cuda.so
TOOLS      = $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_SRC))
UNITS      = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TTOOLS     = $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TTOOL_SRC))
# Fuzz harnesses: libFuzzer programs (FUZZ=1), and everywhere the same
# harnesses as plain programs that replay saved inputs (tests/fuzz/replay.c).
FUZZERS    = $(patsubst tests/fuzz/%.c,$(BUILD)/bin/%,$(FUZZ_SRC))
REPLAYS    = $(patsubst tests/fuzz/%.c,$(BUILD)/tests/replay/%,$(FUZZ_SRC))
TMPL_OBJ   = $(foreach r,f32 f64,$(patsubst %.tmpl.c,$(BUILD)/obj/%.$(r).o,$(TMPL_SRC)))
LIB_OBJ    = $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(filter $(BUILD)/obj/libcore/%,$(TMPL_OBJ))
KERN_OBJ   = $(patsubst %.c,$(BUILD)/obj/%.o,$(KERN_SRC)) $(filter $(BUILD)/obj/kernels/%,$(TMPL_OBJ))
TOOL_OBJ   = $(patsubst %.c,$(BUILD)/obj/%.o,$(TOOL_SRC))

ALL_TARGETS = $(TOOLS)
ifneq ($(NVCC),)
ifneq ($(CUDA_SRC),)
ALL_TARGETS += $(CUDA_LIB)
endif
endif

.PHONY: all deps check check-run unit tests venv demo bench fuzz fuzzers install uninstall \
        clean check-cuda bench-cuda check-reference man-lint valgrind
.DEFAULT_GOAL := all

all: $(ALL_TARGETS)

# One clear line instead of a compiler error when the libraries are missing
# (a fresh machine where `make` runs before `make deps`).
DEPS_OK = $(BUILD)/.deps-ok
$(DEPS_OK):
	@pkg-config --exists $(PKGS) && [ -f $(BLAS_INC)/cblas.h ] && [ -f /usr/include/liblzf/lzf.h ] || \
	    { echo "scnet: build libraries missing (HDF5, igraph, GSL, zlib, OpenBLAS, liblzf): run 'make deps' (apt-get, as root) first" >&2; exit 1; }
	@mkdir -p $(dir $@) && touch $@

# Objects are rebuilt when the compile flags change (OPT, ARCH, ...): the
# stamp is rewritten only when its text differs.
FLAGS_STAMP = $(BUILD)/.cflags
FLAGS_TEXT  = $(CC) $(CPPFLAGS) $(CFLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(FLAGS_TEXT))' | cmp -s - $@ || printf '%s\n' '$(subst ','\'',$(FLAGS_TEXT))' >$@
FORCE:

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.f32.o: %.tmpl.c $(FLAGS_STAMP) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (f32)")
	$(Q)$(CC) $(CPPFLAGS) -DSN_REAL_F64=0 $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.f64.o: %.tmpl.c $(FLAGS_STAMP) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (f64)")
	$(Q)$(CC) $(CPPFLAGS) -DSN_REAL_F64=1 $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(KLIB): $(KERN_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(LIB) $(KLIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIB) $(KLIB) -Wl,--end-group $(LDLIBS) -ldl

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB) $(KLIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIB) $(KLIB) -Wl,--end-group $(LDLIBS) -lcmocka -ldl

# The CUDA backend is a plugin loaded with dlopen, so the programs start on
# machines without an NVIDIA driver.
$(CUDA_LIB): $(CUDA_SRC) $(wildcard kernels/include/scnet/*.h kernels/cuda/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NVCC    $@")
	$(Q)$(NVCC) -O3 -std=c++17 $(CUDA_ARCH) -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra,-Werror \
	  -Werror all-warnings -Ilibcore/include -Ikernels/include -shared -o $@ $(CUDA_SRC) \
	  -Xlinker --no-undefined,-rpath,$(CUDA_HOME)/lib64 -lcublas

# Test-only programs (tests/tools/*.c): helpers the test scripts call.
# test_ops_cuda also links the model runs of tests/tools/part, at both precisions.
$(BUILD)/tests/tools/test_ops_cuda: $(foreach r,f32 f64,$(BUILD)/obj/tests/tools/part/model_run.$(r).o)
$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB) $(KLIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(LIB) $(KLIB) -Wl,--end-group $(LDLIBS) -ldl

unit: $(UNITS) $(TTOOLS) $(REPLAYS)

$(BUILD)/tests/replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay.o $(LIB) $(KLIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/replay.o -Wl,--start-group $(LIB) $(KLIB) -Wl,--end-group $(LDLIBS) -ldl

ifeq ($(FUZZ),1)
fuzzers: $(FUZZERS)
$(BUILD)/bin/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB) $(KLIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIB) $(KLIB) -Wl,--end-group $(LDLIBS) -ldl
endif

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Set-up: Debian packages and the Python test environment.

DEB_PKGS = build-essential pkg-config libhdf5-dev libigraph-dev libgsl-dev libcmocka-dev \
           libopenblas-dev libopenblas-openmp-dev zlib1g-dev liblzf-dev hdf5-plugin-lzf hdf5-tools python3-venv \
           mandoc groff-base man-db clang libclang-rt-14-dev valgrind strace
deps:
	@sh tools/deps.sh $(DEB_PKGS)

VENV_HASH = $(shell cat tests/requirements.txt | sha256sum | cut -c1-16)
VENV_DIR  = $(HOME)/.cache/scnet/venv-$(VENV_HASH)
venv: $(BUILD)/venv/.ok
$(BUILD)/venv/.ok: tests/requirements.txt
	@mkdir -p $(BUILD)
	@sh tests/mkvenv.sh $(VENV_DIR) tests/requirements.txt
	@rm -rf $(BUILD)/venv && ln -s $(VENV_DIR) $(BUILD)/venv
	@touch $@

# ---------------------------------------------------------------------------
# Tests, demo, benchmarks.

check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all unit venv
	@BUILD=$(BUILD) SHARED=$(SHARED) SANITIZE=$(SANITIZE) bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) SHARED=$(SHARED) bash examples/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all venv
	@BUILD=$(BUILD) SHARED=$(SHARED) bash bench/run.sh

fuzz: all
	@BUILD=$(BUILD) SHARED=$(SHARED) FUZZ_SECONDS=$${FUZZ_SECONDS:-300} bash tests/fuzz/run.sh

valgrind: all
	@BUILD=$(BUILD) SHARED=$(SHARED) SANITIZE=$(SANITIZE) bash tests/valgrind.sh

check-cuda: all unit
	@BUILD=$(BUILD) SHARED=$(SHARED) bash tests/cuda/run.sh

bench-cuda: all unit
	@BUILD=$(BUILD) SHARED=$(SHARED) bash bench/cuda.sh

check-reference: all
	@BUILD=$(BUILD) SHARED=$(SHARED) bash tests/reference/run.sh

man-lint:
	@for f in man/man*/*.[157]; do mandoc -Tlint -Wwarning $$f || exit 1; \
	    w=$$(groff -man -ww -z $$f 2>&1); [ -z "$$w" ] || { echo "$$w"; exit 1; }; done

# ---------------------------------------------------------------------------
# Install.

BINDIR  = $(DESTDIR)$(PREFIX)/bin
LIBDIR  = $(DESTDIR)$(PREFIX)/lib/scnet
MANDIR  = $(DESTDIR)$(PREFIX)/share/man
SHAREDIR= $(DESTDIR)$(PREFIX)/share/scnet

install: all
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(MANDIR)/man7 $(SHAREDIR)
	install -m 755 $(TOOLS) $(BINDIR)/
	if [ -f $(CUDA_LIB) ]; then install -d $(LIBDIR) && install -m 644 $(CUDA_LIB) $(LIBDIR)/; fi
	install -m 644 $(wildcard man/man1/*.1) $(MANDIR)/man1/
	install -m 644 $(wildcard man/man5/*.5) $(MANDIR)/man5/
	install -m 644 $(wildcard man/man7/*.7) $(MANDIR)/man7/
	cp -R share/. $(SHAREDIR)/

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(notdir $(TOOLS)))
	rm -f $(addprefix $(MANDIR)/man1/,$(notdir $(wildcard man/man1/*.1)))
	rm -f $(addprefix $(MANDIR)/man5/,$(notdir $(wildcard man/man5/*.5)))
	rm -f $(addprefix $(MANDIR)/man7/,$(notdir $(wildcard man/man7/*.7)))
	rm -rf $(LIBDIR) $(SHAREDIR)

clean:
	rm -rf $(BUILD)
