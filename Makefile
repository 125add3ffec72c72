# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# xdplb build. Out of tree under build/: bpf/%.bpf.c -> build/%.bpf.o ->
# build/%.skel.h, user/DIR/*.c -> build/xdplb (the BPF object embedded
# through its skeleton). Quiet by default; V=1 shows the commands. `make help`.
#
# Every target first makes sure Debian's packages it needs are installed
# (target `deps`), so a fresh machine needs nothing but make and apt.

.DELETE_ON_ERROR:
# Keep the BPF objects that skeletons are made from.
.SECONDARY:
.DEFAULT_GOAL := all

BUILD	?= build
CC	?= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
PYTHON	?= python3
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
COMPDIR	?= $(PREFIX)/share/bash-completion/completions

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-9s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

# Debian packages: to build, to test, and for the namespace lab.
DEB_BUILD := clang llvm libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev \
	     libmnl-dev libmicrohttpd-dev libcap-dev libsodium-dev \
	     libjansson-dev pkg-config python3
DEB_TEST  := libcriterion-dev iproute2 ethtool curl python3 xdp-tools \
	     tcpdump socat keepalived bird2 mandoc iputils-ping openssl
DEB_PKGS  := $(DEB_BUILD) $(DEB_TEST)
# Only `make bench` needs these; `make test` does not wait for them.
DEB_BENCH := wrk nginx-light linux-perf
# Only the status page's and the web console's tests need a browser (about
# 300 MB installed): `make test` and `make test-ns` install it, `make` and
# `make deps` do not, and the tests say SKIP without it. (promtool is not installed: Debian's
# prometheus package is the whole server; the test parses strictly itself
# and also runs promtool where it is there.)
DEB_BROWSER := chromium

# Evaluated when a recipe runs, after `deps` has installed pkg-config.
PKG_CFLAGS = $(shell pkg-config --cflags libbpf libxdp libmnl libmicrohttpd \
	     libcap libsodium jansson)
PKG_LIBS   = $(shell pkg-config --libs libbpf libxdp libmnl libmicrohttpd \
	     libcap libsodium jansson) -lelf -lz -pthread

WARN	:= -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	   -Wstrict-prototypes
CFLAGS	?= -O2 -g
# user/ has a folder per subsystem (USER_DIRS); each is on the include
# path, so that a file includes any header by its name alone.
USER_DIRS := cli common daemon instance netlink web
USER_CFLAGS = $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude \
	      $(addprefix -Iuser/,$(USER_DIRS)) -I$(BUILD) \
	      $(PKG_CFLAGS) -MMD -MP $(VERSION_CFLAGS)
ALL_CFLAGS = $(CFLAGS) $(USER_CFLAGS)
# XDPLB_VERSION=X.Y.Z builds a binary that calls itself X.Y.Z (the
# upgrade tests build a "newer" one of the same layout so); default:
# user/common/version.h.
ifdef XDPLB_VERSION
VERSION_CFLAGS := -DXDPLB_VERSION='"$(XDPLB_VERSION)"'
endif
# The sanitizers: the unit and packet tests built again under build/asan/
# with AddressSanitizer and UBSan (`make asan`, run by `make test-asan` and
# tests/run-all.sh); the fuzzers, one libFuzzer binary per parser of outside
# input under build/fuzz/ (tests/fuzz/fuzz_*.c, seed corpora in
# tests/fuzz/corpus/TARGET/; `make fuzz FUZZ_SECONDS=N`). Any finding of a
# sanitizer ends the run (no recovery), so that it cannot pass unseen.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
ASAN_CFLAGS := -O1 -g $(SANITIZE)
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link $(SANITIZE) $(USER_CFLAGS)
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))
FUZZ_OBJS = $(patsubst user/%.c,$(BUILD)/fuzz/user/%.o,$(LIB_SRCS))
# The uapi headers need <asm/types.h> from the host multiarch directory.
BPF_CFLAGS = -O2 -g -target bpf -mcpu=v3 $(WARN) -Wno-missing-prototypes \
	      -I/usr/include/$(shell $(CC) -dumpmachine) \
	      -Iinclude -Ibpf -MMD -MP

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
LIB_SRCS  := $(filter-out user/cli/main.c,$(wildcard \
	     $(patsubst %,user/%/*.c,$(USER_DIRS))))
LIB_OBJS  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(patsubst bench/%.c,$(BUILD)/bench/%.o,$(BENCH_SRCS))
BENCH_SKELS := $(patsubst %,$(BUILD)/%.skel.h,xdplb floor bench_flows \
	       bench_sink)
UNIT_SRCS := $(wildcard tests/unit/*.c)
PROG_SRCS := $(wildcard tests/prog/*.c)

# doc/xdplb.8.md is the one source of the help text, the man page, README's
# command reference and the completion's tables (scripts/gendoc.py).
DOC_SRC	:= doc/xdplb.8.md
GENDOC	:= scripts/gendoc.py

DEPS_STAMP := $(BUILD)/.deps-installed
BENCH_DEPS_STAMP := $(BUILD)/.deps-bench-installed
BROWSER_DEPS_STAMP := $(BUILD)/.deps-browser-installed
NODE_DEPS_STAMP := $(BUILD)/.deps-node-installed

.PHONY: all deps help test test-unit test-prog test-ns test-pkg bench pktfuzz \
	asan test-asan fuzz fuzz-build \
	bench-profile demo lab-up lab-down clean install uninstall format docs \
	check-docs doc-examples soak

all: $(BUILD)/xdplb $(BUILD)/xdp_pass.bpf.o $(BUILD)/xdplb.8 ## build build/xdplb and its man page

help: ## this text
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | \
		awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

# Install whatever is missing; a stamp keeps later runs from asking dpkg
# (until this file, and so perhaps a list, changes).
# $(call apt_missing,PACKAGES): the recipe lines that install PACKAGES.
define apt_missing
	$(Q)missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  APT       $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(Q)mkdir -p $(@D) && touch $@
endef

deps: $(DEPS_STAMP) ## install the Debian packages the build and tests need
$(DEPS_STAMP): Makefile
	$(call apt_missing,$(DEB_PKGS))

$(BENCH_DEPS_STAMP): $(DEPS_STAMP)
	$(call apt_missing,$(DEB_BENCH))

$(BROWSER_DEPS_STAMP): $(DEPS_STAMP)
	$(call apt_missing,$(DEB_BROWSER))

# The console's browser test drives that chromium with playwright-core,
# installed into tests/browser/node_modules at the version its committed
# package-lock.json pins (`npm ci`; it never downloads a browser). npm
# comes with Node.js; without one, Debian's nodejs and npm.
$(NODE_DEPS_STAMP): tests/browser/package.json tests/browser/package-lock.json \
		    $(BROWSER_DEPS_STAMP)
	$(Q)command -v npm >/dev/null || { echo "  APT       nodejs npm"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	$(call msg,NPM,tests/browser)
	$(Q)cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		npm ci --no-audit --no-fund --loglevel=error >/dev/null
	$(Q)touch $@
test test-ns: $(NODE_DEPS_STAMP)

$(BUILD) $(BUILD)/tests $(BUILD)/bench \
$(addprefix $(BUILD)/user/,$(USER_DIRS)):
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(DEPS_STAMP) $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# User-space objects include the skeletons and the build record; main.c
# the help text, console.c the web console's files.
$(LIB_OBJS) $(BUILD)/user/cli/main.o: $(BUILD)/xdplb.skel.h $(BUILD)/build_info.h
$(BUILD)/user/cli/main.o: $(BUILD)/usage.h
$(BUILD)/user/web/console.o: $(BUILD)/web_assets.h

WEB_SRCS := $(wildcard user/web/assets/*)
$(BUILD)/web_assets.h: $(WEB_SRCS) scripts/gen-web.py | $(DEPS_STAMP) $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(PYTHON) scripts/gen-web.py $@ $(WEB_SRCS)

# The BPF object's digest and the release table (RELEASES).
$(BUILD)/build_info.h: $(BUILD)/xdplb.bpf.o RELEASES scripts/gen-build-info.sh
	$(call msg,GEN,$@)
	$(Q)scripts/gen-build-info.sh RELEASES $< > $@

$(BUILD)/usage.h: $(DOC_SRC) $(GENDOC) | $(DEPS_STAMP) $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(PYTHON) $(GENDOC) usage $< $@

$(BUILD)/xdplb.8: $(DOC_SRC) $(GENDOC) | $(DEPS_STAMP) $(BUILD)
	$(call msg,GEN-MAN,$@)
	$(Q)$(PYTHON) $(GENDOC) man $< $@

docs: ## regenerate README's command reference and the completion from doc/xdplb.8.md
	$(Q)$(PYTHON) $(GENDOC) readme $(DOC_SRC) README.md
	$(Q)$(PYTHON) $(GENDOC) completion $(DOC_SRC) completions/xdplb.bash

check-docs: $(BUILD)/xdplb.8 ## fail if README or the completion is stale, or the man page warns
	$(Q)$(PYTHON) $(GENDOC) readme --check $(DOC_SRC) README.md
	$(Q)$(PYTHON) $(GENDOC) completion --check $(DOC_SRC) completions/xdplb.bash
	$(Q)out=$$(groff -man -ww -z $(BUILD)/xdplb.8 2>&1; \
		if command -v mandoc >/dev/null; then \
			mandoc -Tlint -Wwarning $(BUILD)/xdplb.8 2>&1; fi); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

doc-examples: all ## capture the man page's EXAMPLES in the namespace lab
	$(Q)scripts/doc-examples.sh

$(BUILD)/user/%.o: user/%.c | $(DEPS_STAMP) \
		    $(addprefix $(BUILD)/user/,$(USER_DIRS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libxdplb.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/xdplb: $(BUILD)/user/cli/main.o $(BUILD)/libxdplb.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# Tests: criterion binaries for the unit and packet tests.
$(BUILD)/tests/%.o: tests/unit/%.c $(BUILD)/xdplb.skel.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/tests/%.o: tests/prog/%.c $(BUILD)/xdplb.skel.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/test_unit: $(patsubst tests/unit/%.c,$(BUILD)/tests/%.o,$(UNIT_SRCS)) $(BUILD)/libxdplb.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion -lm

$(BUILD)/test_prog: $(patsubst tests/prog/%.c,$(BUILD)/tests/%.o,$(PROG_SRCS)) $(BUILD)/libxdplb.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

# The packet fuzzer (tests/pktfuzz): the real skeleton and user/ through
# libxdplb.a. `make pktfuzz PKTFUZZ_FRAMES=N [PKTFUZZ_SEED=S]`.
PKTFUZZ_FRAMES ?= 1000000
$(BUILD)/tests/pktfuzz.o: tests/pktfuzz/pktfuzz.c $(BUILD)/xdplb.skel.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-field-initializers -c $< -o $@

$(BUILD)/pktfuzz: $(BUILD)/tests/pktfuzz.o $(BUILD)/libxdplb.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

pktfuzz: $(BUILD)/pktfuzz ## fuzz the XDP program with mutated frames (PKTFUZZ_FRAMES=, PKTFUZZ_SEED=)
	$(Q)$(BUILD)/pktfuzz -v -n $(PKTFUZZ_FRAMES) $(if $(PKTFUZZ_SEED),-s $(PKTFUZZ_SEED))

# The benchmark: bench/*.c with the skeletons of xdplb, the floor and the
# bench-only programs (bpf/bench_*.bpf.c), and user/ through libxdplb.a.
$(BENCH_OBJS): $(BENCH_SKELS)

$(BUILD)/bench/%.o: bench/%.c | $(DEPS_STAMP) $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/xdplb-bench: $(BENCH_OBJS) $(BUILD)/libxdplb.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# One unit test holds the help text's ranges to the code's.
$(BUILD)/tests/test_parse.o: $(BUILD)/usage.h

# The unit and packet tests under ASan and UBSan: this Makefile again, with
# the sanitizers in CFLAGS and build/asan/ as its build directory.
asan: | $(DEPS_STAMP) ## the unit and packet tests built with ASan and UBSan (build/asan/)
	$(Q)$(MAKE) BUILD=$(BUILD)/asan CFLAGS='$(ASAN_CFLAGS)' \
		$(BUILD)/asan/test_unit $(BUILD)/asan/test_prog

test-asan: asan ## run them
	$(Q)tests/asan.sh $(BUILD)/asan/test_unit --jobs 2
	$(Q)tests/asan.sh $(BUILD)/asan/test_prog --jobs 1

$(BUILD)/fuzz $(addprefix $(BUILD)/fuzz/user/,$(USER_DIRS)):
	$(Q)mkdir -p $@

$(BUILD)/fuzz/user/%.o: user/%.c $(BUILD)/xdplb.skel.h | \
			$(addprefix $(BUILD)/fuzz/user/,$(USER_DIRS))
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libxdplb.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/fuzz/libxdplb.a | $(BUILD)/fuzz
	$(call msg,LINK-FUZZ,$@)
	$(Q)$(CLANG) $(subst fuzzer-no-link,fuzzer,$(FUZZ_CFLAGS)) \
		-Itests/fuzz -o $@ $< $(BUILD)/fuzz/libxdplb.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS) ## build the fuzzers (build/fuzz/TARGET, libFuzzer, ASan, UBSan)

fuzz: fuzz-build ## run each fuzzer FUZZ_SECONDS (10) on its corpus
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

test-unit: $(BUILD)/test_unit ## criterion unit tests (Maglev, parsing)
	$(Q)$(BUILD)/test_unit --jobs 2

test-prog: $(BUILD)/test_prog ## BPF_PROG_TEST_RUN packet tests
	$(Q)$(BUILD)/test_prog --jobs 1

test-ns: all $(BROWSER_DEPS_STAMP) ## namespace tests with real traffic
	$(Q)tests/ns/run.sh

test-pkg: all ## docs fresh, man page lints, completion, make install
	$(Q)tests/pkg/run.sh

test: all $(BUILD)/test_unit $(BUILD)/test_prog asan fuzz-build $(BUILD)/pktfuzz $(BROWSER_DEPS_STAMP) ## every test, one summary
	$(Q)tests/run-all.sh

bench: all $(BUILD)/xdplb-bench $(BUILD)/floor.bpf.o $(BENCH_DEPS_STAMP) ## every figure next to a floor; docs/PERFORMANCE.md
	$(Q)scripts/bench-run.sh

# CASE=prog MATCH='SYN, new', or CASE=live; scripts/bench-profile.sh says more.
bench-profile: all $(BUILD)/xdplb-bench $(BUILD)/floor.bpf.o $(BENCH_DEPS_STAMP) ## where xdplb spends a bench case's time, by source line (CASE=, MATCH=)
	$(Q)scripts/bench-profile.sh $(CASE) $(if $(MATCH),"$(MATCH)")

# Not part of `make test`: minutes of traffic under churn (scripts/soak.sh).
SOAK_MINUTES ?= 15
soak: all ## traffic under churn, flaps, reloads, resizes (SOAK_MINUTES=15)
	$(Q)SOAK_MINUTES=$(SOAK_MINUTES) scripts/soak.sh

demo: all ## demo cluster in namespaces: traffic, `xdplb list`, teardown
	$(Q)scripts/demo.sh

lab-up: all ## bring the namespace lab up (LAB=, NREALS=)
	$(Q)scripts/lab.sh up

lab-down: ## take the namespace lab down
	$(Q)scripts/lab.sh down

install: all ## install xdplb, its man page, completion, systemd units, failover files (PREFIX, DESTDIR)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(BUILD)/xdplb $(DESTDIR)$(SBINDIR)/xdplb
	$(Q)install -d $(DESTDIR)$(MANDIR)/man8
	$(Q)gzip -9 -n -c $(BUILD)/xdplb.8 > $(DESTDIR)$(MANDIR)/man8/xdplb.8.gz
	$(Q)install -D -m 0644 completions/xdplb.bash \
		$(DESTDIR)$(COMPDIR)/xdplb
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)for u in xdplb.service xdplb-exporter.service; do \
		sed 's|/usr/local/sbin/xdplb|$(SBINDIR)/xdplb|g' \
			packaging/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	$(Q)install -D -m 0755 -t $(DESTDIR)$(PREFIX)/lib/xdplb ha/xdplb-alive \
		ha/keepalived-notify
	$(Q)install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/xdplb ha/keepalived.conf.in \
		ha/bird-lb.conf.in

uninstall: ## remove what install put there (PREFIX, DESTDIR)
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/xdplb $(DESTDIR)$(MANDIR)/man8/xdplb.8.gz \
		$(DESTDIR)$(COMPDIR)/xdplb $(DESTDIR)$(UNITDIR)/xdplb.service \
		$(DESTDIR)$(UNITDIR)/xdplb-exporter.service \
		$(DESTDIR)$(PREFIX)/lib/xdplb/xdplb-alive \
		$(DESTDIR)$(PREFIX)/lib/xdplb/keepalived-notify \
		$(DESTDIR)$(PREFIX)/share/xdplb/keepalived.conf.in \
		$(DESTDIR)$(PREFIX)/share/xdplb/bird-lb.conf.in
	$(Q)rmdir $(DESTDIR)$(PREFIX)/lib/xdplb $(DESTDIR)$(PREFIX)/share/xdplb \
		2>/dev/null || true

format: ## clang-format every C file
	clang-format -i $(wildcard bpf/*.[ch] user/*/*.[ch] include/*.h \
		tests/*/*.c bench/*.[ch])

clean: ## remove build/
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*/*.d $(BUILD)/tests/*.d \
	$(BUILD)/bench/*.d $(BUILD)/fuzz/*.d $(BUILD)/fuzz/user/*/*.d)
