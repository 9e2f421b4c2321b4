# libopg - the one build file: library, tests, sanitizers, benches, install.
#
#   make              libopg.a and libopg.so in $(B)/ (default build/)
#   make test         install missing Debian packages (make deps), build, run every test
#   make asan | ubsan the same suite under AddressSanitizer / UndefinedBehaviorSanitizer
#   make bench        build and run the benchmarks (prints `result <name> <value> <unit>`)
#   make demo         the workbench's baseline scenario, a simulated year, into demo-out/
#   make workbench-test | report-check | workbench-scale | sweep-speed   the workbench's checks
#   make bench-state-10m   the Merkle tree bench at 10,000,000 records (not in `make bench`)
#   make python-test  the Python binding's tests alone (make test runs them too)
#   make fuzz         libFuzzer run of every fuzz target (clang), FUZZ_SECONDS each
#   make corpus       regenerate the generated seeds of the fuzz corpora (gen_*)
#   make crash-test   the LMDB node (examples/node) killed with SIGKILL at random points
#                     and restarted: its roots must equal an uninterrupted run's; and a
#                     truncated or corrupted database must give exit code 3
#   make bench-node   the LMDB node at 100,000 delegations: result state.node_blocks_per_s
#   make determinism  same seeded scenario built with gcc -O0/-O3, clang -O2, gcc -m32:
#                     every build must print the same state hashes
#   make abi-check    fail if the shared library exports anything outside opg_
#   make install | uninstall   honour PREFIX, DESTDIR, LIBDIR, INCLUDEDIR, PKGCONFIGDIR
#   make install-check   install into a scratch DESTDIR, build a program with pkg-config

# The version lives in include/opg_core.h only.
version_part = $(shell sed -n 's/^\#define OPG_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' include/opg_core.h)
MAJOR := $(call version_part,MAJOR)
MINOR := $(call version_part,MINOR)
PATCH := $(call version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
B ?= build
STD := -std=c11
WARN := -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla
LDLIBS := -lgmp -lsodium
# -DOPGI_DEBUG: the library's internal assertions abort (lib/internal.h). make test,
# asan, ubsan and fuzz build with it; `make` (the library a host links) without.
LIB_DEFS ?=

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
LIB_HDR := $(wildcard lib/*.h) $(wildcard include/*.h)
SO_NAME := libopg.so.$(MAJOR)
SO_FILE := libopg.so.$(VERSION)

TEST_SRC := $(sort $(wildcard test/test_*.c))
TEST_BIN := $(TEST_SRC:test/%.c=$(B)/test/%)
FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:test/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(B)/fuzz/replay_%)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(B)/examples/%)

# Debian packages the build and the tests need (liblmdb-dev: the node example's store).
DEB_PACKAGES := gcc libc6-dev make libgmp-dev libsodium-dev pkg-config liblmdb-dev

.PHONY: all lib test check asan ubsan bench fuzz abi-check install uninstall deps \
        examples demo clean corpus determinism crash-test bench-node

all: lib
lib: $(B)/libopg.a $(B)/$(SO_FILE)

$(B)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(LIB_DEFS) -Iinclude -fPIC -fvisibility=hidden -c $< -o $@

$(B)/libopg.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/$(SO_FILE): $(LIB_OBJ) lib/libopg.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SO_NAME) \
	    -Wl,--version-script=lib/libopg.map -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf $(SO_FILE) $(B)/$(SO_NAME)
	ln -sf $(SO_FILE) $(B)/libopg.so

# Tests, benches and examples link the static library (every internal symbol visible
# to white-box tests would need it too; opg_* is all they use).
PROG_CFLAGS = $(STD) -Wall -Wextra -Wno-unused-function $(CFLAGS) -Iinclude -Ilib -Itest

$(B)/test/%: test/%.c test/harness.h test/failalloc.h $(B)/libopg.a
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libopg.a $(LDLIBS) -lgmp

$(B)/fuzz/replay_%: test/fuzz/fuzz_%.c test/fuzz/replay.c $(wildcard test/fuzz/*.h) test/failalloc.h \
                   $(B)/libopg.a
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) test/fuzz/replay.c $< -o $@ $(LDFLAGS) $(B)/libopg.a $(LDLIBS)

$(B)/bench/%: bench/%.c bench/bench.h $(B)/libopg.a
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -Ibench $< -o $@ $(LDFLAGS) $(B)/libopg.a $(LDLIBS)

$(B)/examples/%: examples/%.c $(B)/libopg.a
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libopg.a $(LDLIBS) -lm

# The node on LMDB (examples/node), and the crash test's tool that damages its store.
NODE_BIN := $(B)/examples/node/node
$(NODE_BIN): examples/node/node.c $(B)/libopg.a
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libopg.a -llmdb $(LDLIBS)

$(B)/test/node_damage: test/node_damage.c
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) $< -o $@ $(LDFLAGS) -llmdb

# `make examples` first installs what is missing (the node needs liblmdb-dev).
examples: deps
	@$(MAKE) --no-print-directory build-examples
.PHONY: build-examples
build-examples: $(EXAMPLE_BIN) $(NODE_BIN)

# Kills the node at random points (CRASH_KILLS times over CRASH_BLOCKS blocks, the
# kill points drawn from CRASH_SEED), then damages its store: test/crash_test.sh.
CRASH_BLOCKS ?= 800
CRASH_KILLS ?= 30
CRASH_SEED ?= 1
crash-test: deps
	@$(MAKE) --no-print-directory B=build/crash LIB_DEFS=-DOPGI_DEBUG lib \
	    build/crash/examples/node/node build/crash/test/node_damage
	@bash test/crash_test.sh build/crash $(CRASH_BLOCKS) $(CRASH_KILLS) $(CRASH_SEED)

# The node at 100,000 delegations: genesis (not timed), then BENCH_NODE_BLOCKS blocks,
# each committed to LMDB with fsync.
BENCH_NODE_BLOCKS ?= 300
bench-node: deps
	@$(MAKE) --no-print-directory lib $(NODE_BIN)
	@rm -rf $(B)/bench-node-db $(B)/bench-node-db.new
	@$(NODE_BIN) --db $(B)/bench-node-db --delegators 100000 --nodes 150 --blocks 1
	@$(NODE_BIN) --db $(B)/bench-node-db --delegators 100000 --nodes 150 \
	    --blocks $$(($(BENCH_NODE_BLOCKS) + 1)) --bench
	@rm -rf $(B)/bench-node-db

# The economist's workbench (examples/workbench.c): `make demo` runs the baseline
# scenario, a year of an OpenGradient-like network, into demo-out/ (report.html).
DEMO_ARGS ?=
WORKBENCH := $(B)/examples/workbench
demo: deps
	@$(MAKE) --no-print-directory lib $(WORKBENCH)
	$(WORKBENCH) --scenario examples/scenarios/baseline.conf --out demo-out $(DEMO_ARGS)

# The workbench's own checks (short runs; test/run.sh runs them in `make test` too):
# byte-identical output, the supply identity in every scenario, a sweep, bad keys.
.PHONY: workbench-test report-check workbench-scale sweep-speed
workbench-test: deps
	@$(MAKE) --no-print-directory lib $(WORKBENCH)
	@bash test/workbench.sh $(WORKBENCH)

# Renders a report in headless Chromium (Debian `chromium`), screenshots it and
# checks that the charts drew (test/report_check.py reads the PNG).
report-check: deps
	@$(MAKE) --no-print-directory lib $(WORKBENCH)
	@bash test/report_check.sh $(WORKBENCH)

# A year with 150 nodes and 1,000,000 delegators, with a progress bar.
workbench-scale: deps
	@$(MAKE) --no-print-directory lib $(WORKBENCH)
	$(WORKBENCH) --scenario examples/scenarios/baseline.conf --set world.delegators=1000000 \
	    --out build/workbench-scale $(DEMO_ARGS)
	@cat build/workbench-scale/timing.txt

# One point, then a sweep of 8 such points, timed back to back (SWEEP_DAYS days each).
SWEEP_DAYS ?= 90
sweep-speed: deps
	@$(MAKE) --no-print-directory lib $(WORKBENCH)
	@bash test/sweep_speed.sh $(WORKBENCH) $(SWEEP_DAYS)

# `make test` first makes sure the packages are there, so a fresh machine needs nothing else.
test: deps
	@$(MAKE) --no-print-directory run-tests B=build/test LIB_DEFS=-DOPGI_DEBUG

check: test

.PHONY: run-tests
# Examples that `make test` runs (the workbench: test/workbench.sh, through run.sh).
TEST_EXAMPLES := $(B)/examples/quickstart
SHORT_B = $(B)/short-bound

run-tests: lib $(TEST_BIN) $(SHORT_B)/short_bound $(REPLAY_BIN) $(TEST_EXAMPLES) $(B)/examples/workbench
	@WORKBENCH=$(B)/examples/workbench bash test/run.sh $(B) $(TEST_BIN) $(SHORT_B)/short_bound -- $(FUZZ_NAMES) -- $(TEST_EXAMPLES)

# The library again with every event reservation two short (lib/registry.c), and
# test/short_bound.c linked to it: a push past the reservation must abort, not drop.
$(SHORT_B)/short_bound: test/short_bound.c test/harness.h $(LIB_SRC) $(LIB_HDR)
	@$(MAKE) --no-print-directory $(SHORT_B)/libopg.a B=$(SHORT_B) \
	    LIB_DEFS="-DOPGI_DEBUG -DOPGI_TEST_EVENT_SHORTFALL=2"
	$(CC) $(PROG_CFLAGS) $< -o $@ $(LDFLAGS) $(SHORT_B)/libopg.a $(LDLIBS)

# The Python binding's tests alone; test/run.sh runs the same script in `make test`.
.PHONY: python-test
python-test: lib
	@sh examples/python/run_tests.sh $(B)

asan: deps
	@$(MAKE) --no-print-directory run-tests B=build/asan LIB_DEFS=-DOPGI_DEBUG \
	    CFLAGS="-O1 -g -fsanitize=address -fno-omit-frame-pointer" LDFLAGS="-fsanitize=address"

ubsan: deps
	@$(MAKE) --no-print-directory run-tests B=build/ubsan LIB_DEFS=-DOPGI_DEBUG \
	    CFLAGS="-O1 -g -fsanitize=undefined -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=undefined -fno-sanitize-recover=all"

bench: deps
	@$(MAKE) --no-print-directory run-bench

.PHONY: run-bench
run-bench: lib $(BENCH_BIN)
	@set -e; for b in $(BENCH_BIN); do echo "== $$b"; $$b; done

# The state tree at 10,000,000 records (about 1.2 GB; `make bench` runs it at 1M).
.PHONY: bench-state-10m
bench-state-10m: deps
	@$(MAKE) --no-print-directory lib $(B)/bench/bench_merkle
	$(B)/bench/bench_merkle 10000000

# libFuzzer needs clang. The checked-in corpus seeds a scratch copy that the run grows.
# An input that runs longer than FUZZ_TIMEOUT seconds counts as a hang (a failure).
# The last lines are a table: executions and executions per second of every target.
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 25
FUZZ_CC ?= clang
fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory lib B=build/fuzz CC=$(FUZZ_CC) LIB_DEFS=-DOPGI_DEBUG \
	    CFLAGS="-O1 -g -fsanitize=address,fuzzer-no-link"
	@rm -f build/fuzz/summary.txt
	@set -e; for t in $(FUZZ_NAMES); do \
	    mkdir -p build/fuzz/corpus/$$t; cp -n test/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/ 2>/dev/null || true; \
	    $(FUZZ_CC) $(STD) -O1 -g -fsanitize=address,fuzzer -Iinclude -Itest test/fuzz/fuzz_$$t.c \
	        -o build/fuzz/fuzz_$$t build/fuzz/libopg.a $(LDLIBS); \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    st=0; build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	        -print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/corpus/$$t \
	        > build/fuzz/fuzz_$$t.log 2>&1 || st=$$?; \
	    grep -E '^(stat::|INFO: (Loaded|-max_len)|==.*ERROR|SUMMARY)' build/fuzz/fuzz_$$t.log || true; \
	    if [ $$st -ne 0 ]; then tail -n 60 build/fuzz/fuzz_$$t.log; exit $$st; fi; \
	    awk -v t=$$t -v c=$$(ls build/fuzz/corpus/$$t | wc -l) \
	        '/^stat::number_of_executed_units/ {n=$$2} /^stat::average_exec_per_sec/ {r=$$2} \
	         END {printf "%-16s %12d %10d %8d\n", t, n, r, c}' build/fuzz/fuzz_$$t.log >> build/fuzz/summary.txt; \
	done
	@echo "== make fuzz: $(FUZZ_SECONDS) s per target"
	@printf '%-16s %12s %10s %8s\n' target executions 'exec/s' corpus
	@cat build/fuzz/summary.txt

# The generated seeds (test/fuzz/corpus/*/gen_*) come from test/fuzz/gen_corpus.c;
# rerun after a change of a saved-state format or of fuzz_ops' program encoding.
corpus: lib
	@mkdir -p $(B)/fuzz
	$(CC) $(PROG_CFLAGS) test/fuzz/gen_corpus.c -o $(B)/fuzz/gen_corpus $(LDFLAGS) $(B)/libopg.a $(LDLIBS)
	$(B)/fuzz/gen_corpus test/fuzz/corpus

# One seeded scenario over every handle (test/determinism/scenario.c), built with
# gcc -O0, gcc -O3, clang -O2 and, where the i386 packages install, gcc -m32, each in
# build/det-<name>; fails unless all print the same hashes. DET_BLOCKS sets its length.
DET_BLOCKS ?= 5000
determinism: deps
	@MAKE="$(MAKE)" bash test/determinism/run.sh $(DET_BLOCKS)

abi-check: $(B)/$(SO_FILE)
	@bad=$$(nm -D --defined-only $(B)/$(SO_FILE) | awk '$$2 ~ /^[A-Z]$$/ {print $$3}' | grep -v '^opg_' || true); \
	if [ -n "$$bad" ]; then echo "exported outside opg_:"; echo "$$bad"; exit 1; fi; \
	echo "abi-check: $$(nm -D --defined-only $(B)/$(SO_FILE) | grep -c ' opg_') symbols, all opg_*"

# Install into a scratch DESTDIR, build and run a program via pkg-config, uninstall.
.PHONY: install-check
install-check: lib
	@MAKE="$(MAKE)" CC="$(CC)" bash test/install_check.sh

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(B)/libopg.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/$(SO_FILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/libopg.so
	install -m 644 include/*.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    pkgconfig/opg.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/opg.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/opg.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libopg.a $(DESTDIR)$(LIBDIR)/$(SO_FILE) \
	    $(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libopg.so \
	    $(DESTDIR)$(PKGCONFIGDIR)/opg.pc
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(notdir $(wildcard include/*.h)))

# Installs what is missing when run as root on Debian; otherwise says what to run.
deps:
	@command -v dpkg-query >/dev/null || exit 0; \
	missing=""; for p in $(DEB_PACKAGES) $(EXTRA_DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	else \
	    echo "libopg needs:$$missing"; echo "run: sudo apt-get install -y$$missing"; exit 1; \
	fi

clean:
	rm -rf build
