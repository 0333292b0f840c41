# evfdfs: make [all|check|bench|bench-quick|fuzz|install|uninstall|clean|format|lint]
#   V=1 verbose, WERROR=1 warnings are errors, SANITIZE=1 ASan+UBSan build
#   (into build/san, so plain and sanitized objects never mix).

VERSION := 0.1.0
MAJOR := 0

CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
# The preload shim: a private directory, out of the linker's search path.
PRELOADDIR ?= $(LIBDIR)/evfdfs
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/evfdfs
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# mount(8) looks for mount.TYPE helpers in /sbin (and /sbin/fs.d, /sbin/fs)
# only, whatever the prefix; a merged-/usr package may say /usr/sbin.
MOUNTHELPERDIR ?= /sbin
LDCONFIG ?= ldconfig

ifeq ($(origin FUSE_CFLAGS),undefined)
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
endif
ifeq ($(origin FUSE_LIBS),undefined)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
endif
AIO_LIBS ?= -laio
CRITERION_LIBS ?= -lcriterion

override CFLAGS += -std=gnu11 -Wall -Wextra -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -D_GNU_SOURCE \
	-D_FILE_OFFSET_BITS=64 -DEVFDFS_VERSION=\"$(VERSION)\" \
	-Iinclude -MMD -MP
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif

ifeq ($(SANITIZE),1)
B ?= build/san
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
B ?= build
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

DAEMON_SRCS := $(wildcard fused/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/%.o)
# The FUSE-free part of the daemon, linked into the unit tests (named from
# the sources, so that a clean tree builds them before linking).
CORE_OBJS := $(patsubst %.c,$(B)/%.o,fused/counter.c $(wildcard fused/wire*.c))

CLIENT_LIB_SRCS := $(filter-out client/preload%.c,$(wildcard client/*.c))
CLIENT_LIB_OBJS := $(CLIENT_LIB_SRCS:%.c=$(B)/pic/%.o)
PRELOAD_SRCS := $(wildcard client/preload*.c)

TEST_LIB_SRCS := $(wildcard tests/lib/*.c)
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(B)/%.o)
TEST_SUITES := $(notdir $(patsubst %/,%,$(dir $(wildcard tests/*/*.c))))
TEST_SUITES := $(filter-out lib shim-prog helper-prog,$(sort $(TEST_SUITES)))
TEST_BINS := $(TEST_SUITES:%=$(B)/test-%)
# Programs that tests/shim runs natively and under the preload shim: plain
# glibc and libaio, never libevfdfs, like the programs the shim is for.
SHIM_PROG_SRCS := $(wildcard tests/shim-prog/*.c)
SHIM_PROG_BINS := $(SHIM_PROG_SRCS:tests/shim-prog/%.c=$(B)/shim-%)
# Programs the integration tests run as they are (a set-user-ID writer...).
HELPER_PROG_SRCS := $(wildcard tests/helper-prog/*.c)
HELPER_PROG_BINS := $(HELPER_PROG_SRCS:tests/helper-prog/%.c=$(B)/helper-%)

EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(B)/examples/%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%)
# bench/lib/*.c: an archive that every benchmark binary links (as tests/lib).
BENCH_LIB_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard bench/lib/*.c))
BENCH_LIB := $(if $(BENCH_LIB_OBJS),$(B)/bench/libbench.a)

# libevfdfs.so.VERSION is the library, its SONAME libevfdfs.so.MAJOR (the
# runtime link, as ldconfig makes it), libevfdfs.so the link for -levfdfs.
LIBS_OUT := $(if $(CLIENT_LIB_SRCS),$(B)/libevfdfs.so.$(VERSION) \
	$(B)/libevfdfs.so.$(MAJOR) $(B)/libevfdfs.so $(B)/libevfdfs.a)
PRELOAD_OUT := $(if $(PRELOAD_SRCS),$(B)/libevfdfs-preload.so)

# tools/: programs for people watching a mount (evfdfs-top, evfdfs-trace2svg).
TOOL_BINS := $(B)/evfdfs-top $(B)/evfdfs-trace2svg

all: $(B)/evfdfs $(LIBS_OUT) $(PRELOAD_OUT) $(EXAMPLE_BINS) $(BENCH_BINS) \
	$(TOOL_BINS)

tests: all $(TEST_BINS) $(SHIM_PROG_BINS) $(HELPER_PROG_BINS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(FUSE_CFLAGS) -c -o $@ $<

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [pic] $<")
	$(Q)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(B)/evfdfs: $(DAEMON_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(FUSE_LIBS) $(AIO_LIBS) -lpthread

$(B)/evfdfs-top: $(B)/tools/top.o $(B)/tools/top_draw.o $(B)/tools/tparse.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(B)/evfdfs-trace2svg: $(B)/tools/trace2svg.o $(B)/tools/tparse.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(B)/libevfdfs.so.$(VERSION): $(CLIENT_LIB_OBJS) client/libevfdfs.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libevfdfs.so.$(MAJOR) \
		-Wl,--version-script=client/libevfdfs.map -Wl,-z,defs \
		-o $@ $(CLIENT_LIB_OBJS) $(AIO_LIBS) -lpthread

$(B)/libevfdfs.so.$(MAJOR): $(B)/libevfdfs.so.$(VERSION)
	$(Q)ln -sf libevfdfs.so.$(VERSION) $@

$(B)/libevfdfs.so: $(B)/libevfdfs.so.$(MAJOR)
	$(Q)ln -sf libevfdfs.so.$(MAJOR) $@

$(B)/libevfdfs.a: $(CLIENT_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libevfdfs-preload.so: $(PRELOAD_SRCS:%.c=$(B)/pic/%.o) $(CLIENT_LIB_OBJS) \
		client/preload.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,--version-script=client/preload.map \
		-o $@ $(filter %.o,$^) -ldl -lpthread

$(B)/examples/%: examples/%.c $(LIBS_OUT)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(B) -l:libevfdfs.a $(AIO_LIBS) -lpthread

$(B)/shim-%: tests/shim-prog/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(AIO_LIBS) -lpthread

# Without sanitizers: they do not run set-user-ID (LeakSanitizer needs to
# ptrace a process that is not dumpable).
$(B)/helper-%: tests/helper-prog/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) \
		$(filter-out -fsanitize%,$(LDFLAGS)) -o $@ $<

$(B)/bench/libbench.a: $(BENCH_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/bench/%: bench/%.c $(BENCH_LIB) $(LIBS_OUT)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(FUSE_CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_LIB) \
		$(if $(LIBS_OUT),-L$(B) -l:libevfdfs.a) $(FUSE_LIBS) $(AIO_LIBS) -lpthread -lm

# One Criterion binary per tests/ subdirectory; tests/lib is linked into all.
.SECONDEXPANSION:
test_objs = $(patsubst %.c,$(B)/%.o,$(wildcard tests/$(1)/*.c))
$(TEST_BINS): $(B)/test-%: $$(call test_objs,$$*) $(TEST_LIB_OBJS) $(CORE_OBJS) $(LIBS_OUT)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) \
		$(if $(LIBS_OUT),-L$(B) -l:libevfdfs.a) $(CRITERION_LIBS) \
		$(AIO_LIBS) -lpthread -lutil

# make check: install what is missing (scripts/deps.sh), then in a fresh make
# (so pkg-config sees it) check the daemon's layers (fused/LAYERS), then run
# unit, then conformance, then integration and any other suites, each with
# its own timeout; non-zero on any failure.
check:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory check-run

check-run: tests
	$(Q)B=$(B) scripts/check-layers.sh
	$(Q)B=$(B) tests/run-all.sh $(TEST_SUITES)

# The daemon's files call only downward (fused/LAYERS); also in make check.
check-layers: $(B)/evfdfs
	$(Q)B=$(B) scripts/check-layers.sh

bench: all
	$(Q)B=$(B) bench/run.sh full

bench-quick: all
	$(Q)B=$(B) bench/run.sh quick

# evfdfs-mount-helper and mount.evfdfs name the installed daemon by its
# final path (never DESTDIR). ldconfig: run when installing into the real
# root as root, else said.
INSTALL_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/evfdfs $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 755 $(B)/evfdfs $(DESTDIR)$(BINDIR)/evfdfs
	$(INSTALL_SUBST) -e 's|^installed_daemon=.*|installed_daemon=$(BINDIR)/evfdfs|' \
		mount-helper.sh > $(DESTDIR)$(BINDIR)/evfdfs-mount-helper
	chmod 755 $(DESTDIR)$(BINDIR)/evfdfs-mount-helper
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/evfdfs-top.1 man/evfdfs-trace2svg.1 $(DESTDIR)$(MANDIR)/man1/
	@# A user's own prefix (PREFIX=$$HOME/.local) cannot reach /sbin: say so.
	@if [ -z "$(DESTDIR)" ] && [ -d $(MOUNTHELPERDIR) ] && \
	    [ ! -w $(MOUNTHELPERDIR) ]; then \
		echo "make: $(MOUNTHELPERDIR) is not writable: mount.evfdfs not installed (mount -t evfdfs needs it; MOUNTHELPERDIR=DIR to choose)"; \
	else \
		echo "install mount.evfdfs mount.fuse.evfdfs -> $(DESTDIR)$(MOUNTHELPERDIR)"; \
		install -d $(DESTDIR)$(MOUNTHELPERDIR) && \
		$(INSTALL_SUBST) scripts/mount.evfdfs.in > $(DESTDIR)$(MOUNTHELPERDIR)/mount.evfdfs && \
		chmod 755 $(DESTDIR)$(MOUNTHELPERDIR)/mount.evfdfs && \
		ln -sf mount.evfdfs $(DESTDIR)$(MOUNTHELPERDIR)/mount.fuse.evfdfs; \
	fi
	$(if $(LIBS_OUT),install -m 755 $(B)/libevfdfs.so.$(VERSION) $(DESTDIR)$(LIBDIR)/)
	$(if $(LIBS_OUT),ln -sf libevfdfs.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libevfdfs.so.$(MAJOR))
	$(if $(LIBS_OUT),ln -sf libevfdfs.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libevfdfs.so)
	$(if $(LIBS_OUT),install -m 644 $(B)/libevfdfs.a $(DESTDIR)$(LIBDIR)/)
	$(if $(PRELOAD_OUT),install -d $(DESTDIR)$(PRELOADDIR))
	$(if $(PRELOAD_OUT),install -m 755 $(PRELOAD_OUT) $(DESTDIR)$(PRELOADDIR)/)
	install -m 644 include/evfdfs/*.h $(DESTDIR)$(INCLUDEDIR)/evfdfs/
	$(if $(wildcard include/evfdfs.h),install -m 644 include/evfdfs.h $(DESTDIR)$(INCLUDEDIR)/)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@PRELOADDIR@|$(PRELOADDIR)|g' \
		client/evfdfs.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/evfdfs.pc
	install -m 644 examples/*.c $(DESTDIR)$(DOCDIR)/examples/
	install -m 755 examples/*.sh $(DESTDIR)$(DOCDIR)/examples/
	for s in 3 7 8; do \
		ls man/*.$$s >/dev/null 2>&1 || continue; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		cp -P man/*.$$s $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	@$(MAKE) --no-print-directory ldconfig-step

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/evfdfs $(DESTDIR)$(BINDIR)/evfdfs-mount-helper \
		$(DESTDIR)$(MOUNTHELPERDIR)/mount.evfdfs \
		$(DESTDIR)$(MOUNTHELPERDIR)/mount.fuse.evfdfs \
		$(DESTDIR)$(LIBDIR)/libevfdfs.so* $(DESTDIR)$(LIBDIR)/libevfdfs.a \
		$(DESTDIR)$(PRELOADDIR)/libevfdfs-preload.so \
		$(DESTDIR)$(PKGCONFIGDIR)/evfdfs.pc $(DESTDIR)$(INCLUDEDIR)/evfdfs.h
	rm -rf $(DESTDIR)$(INCLUDEDIR)/evfdfs $(DESTDIR)$(DOCDIR)
	rmdir $(DESTDIR)$(PRELOADDIR) 2>/dev/null || true
	rm -f $(DESTDIR)$(BINDIR)/evfdfs-top $(DESTDIR)$(BINDIR)/evfdfs-trace2svg \
		$(DESTDIR)$(MANDIR)/man1/evfdfs-top.1 \
		$(DESTDIR)$(MANDIR)/man1/evfdfs-trace2svg.1
	for f in man/*.[378]; do [ -e "$$f" ] || continue; \
		s=$${f##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}; done
	@# staged: nothing to say (the package's removal runs ldconfig)
	@[ -n "$(DESTDIR)" ] || $(MAKE) --no-print-directory ldconfig-step

# The dynamic linker's cache: only the real root's, and only root may.
ldconfig-step:
	@if [ -n "$(DESTDIR)" ]; then \
		echo "make: staged in $(DESTDIR): run ldconfig once installed on the target"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "make: not root: run ldconfig as root (or point LD_LIBRARY_PATH at $(LIBDIR))"; \
	else \
		echo "$(LDCONFIG)"; $(LDCONFIG) || exit 1; \
		if [ -e $(LIBDIR)/libevfdfs.so.$(MAJOR) ] && \
		   ! $(LDCONFIG) -p | grep -q " => $(LIBDIR)/libevfdfs.so.$(MAJOR)\$$"; then \
			echo "make: $(LIBDIR) is not in the dynamic linker's path: add it to /etc/ld.so.conf.d/ and run ldconfig, or link with -Wl,-rpath,$(LIBDIR)"; \
		fi; \
	fi

fuzz:
	$(Q)tests/fuzz/run.sh

format:
	clang-format -i fused/*.[ch] client/*.[ch] include/*.h include/evfdfs/*.h \
		tests/*/*.[ch] bench/*.[ch] bench/lib/*.c examples/*.c \
		tools/*.[ch] 2>/dev/null || true

lint:
	clang-format --dry-run -Werror fused/*.[ch] client/*.[ch] include/evfdfs/*.h
	for f in man/*.[378]; do [ -L "$$f" ] || groff -man -ww -z "$$f"; done

clean:
	rm -rf build

.PHONY: all tests check check-run check-layers bench bench-quick install uninstall ldconfig-step fuzz format lint clean

-include $(shell find build -name '*.d' 2>/dev/null)
