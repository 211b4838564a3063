# stabild — build, test, demo, benchmark, install.
# Libraries come through pkg-config; `make deps` installs them on Debian.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= /lib/systemd/system
BUILDDIR ?= build

VERSION := 0.1.0

PKGS := libevent hiredis libcurl jansson inih libsystemd libcrypto
TEST_PKGS := cmocka

DEB_PACKAGES := build-essential pkg-config libevent-dev libhiredis-dev \
	libcurl4-openssl-dev libjansson-dev libinih-dev libsystemd-dev \
	libssl-dev libcmocka-dev redis-server redis-tools python3 curl tzdata \
	cppcheck openssl groff-base xxd libjs-chart.js chromium chromium-driver \
	wrk clang redis-sentinel

WARNINGS := -std=c11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wpointer-arith -Wwrite-strings -Wsign-compare
WERROR ?= -Werror
OPTIMIZATION ?= -O2
SAN ?=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPTIMIZATION := -O1
endif
# The fuzz build (make fuzz): clang's libFuzzer, every object instrumented.
FUZZ ?=
FUZZ_CC ?= clang
ifeq ($(FUZZ),1)
CC := $(FUZZ_CC)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
OPTIMIZATION := -O1
# No coverage in the CUSUM's run-length solver: it reads no input, and
# its loops would make the API target's fixed state take many seconds.
FUZZ_NOCOV := $(BUILDDIR)/daemon/arl.o
$(FUZZ_NOCOV): SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# stabilctl needs only these two.
CTL_LIBS := $(shell pkg-config --libs libcurl jansson 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CPPFLAGS += -D_GNU_SOURCE -DSTABILD_VERSION='"$(VERSION)"' -Idaemon -Ialerts \
	-DSTABILD_CONF_DEFAULT='"$(SYSCONFDIR)/stabild/stabild.conf"'
CFLAGS += $(OPTIMIZATION) -g -pthread $(WARNINGS) $(WERROR) $(SANFLAGS) $(PKG_CFLAGS)
LDFLAGS += $(SANFLAGS) -pthread
LDLIBS += $(PKG_LIBS) -lm

# The daemon, one source per line.
CORE_SRCS := \
	daemon/log.c \
	daemon/xmalloc.c \
	daemon/buf.c \
	daemon/conf.c \
	daemon/auth.c \
	daemon/utf8.c \
	daemon/decision.c \
	daemon/indicator.c \
	daemon/period.c \
	daemon/series.c \
	daemon/dedup.c \
	daemon/records.c \
	daemon/detect.c \
	daemon/arl.c \
	daemon/model.c \
	daemon/file.c \
	daemon/utc.c \
	daemon/checkpoint.c \
	daemon/explain.c \
	daemon/detector.c \
	daemon/ingest.c \
	daemon/monitor.c \
	daemon/monitor_fit.c \
	daemon/monitor_job.c \
	daemon/worker.c \
	daemon/stall.c \
	daemon/slice.c \
	daemon/answer.c \
	daemon/monitor_alerts.c \
	daemon/monitor_save.c \
	daemon/monitor_json.c \
	daemon/metrics.c \
	daemon/reply.c \
	daemon/stream.c \
	daemon/clock.c \
	daemon/rlink.c \
	daemon/ha.c \
	daemon/ha_log.c \
	daemon/ha_registry.c \
	daemon/ha_claim.c \
	daemon/ha_peers.c \
	daemon/ha_peer.c \
	daemon/sentinel.c \
	daemon/api.c \
	daemon/url.c \
	daemon/ui.c \
	daemon/notify.c \
	alerts/alert.c \
	alerts/sink.c \
	alerts/http.c \
	alerts/webhook.c \
	alerts/spool.c \
	alerts/route.c \
	alerts/ledger.c \
	alerts/deliver.c \
	alerts/email.c \
	alerts/silence.c

# The built-in email template, made into a C string at build time.
TEMPLATE_OBJ := $(BUILDDIR)/alerts/template.o
# The dashboard's own files, embedded into the daemon (daemon/ui.c).
UI_FILES := \
	daemon/ui/index.html \
	daemon/ui/style.css \
	daemon/ui/fmt.js \
	daemon/ui/api.js \
	daemon/ui/charts.js \
	daemon/ui/overview.js \
	daemon/ui/gaps.js \
	daemon/ui/serieshead.js \
	daemon/ui/series.js \
	daemon/ui/funnel.js \
	daemon/ui/alerts.js \
	daemon/ui/explanations.js \
	daemon/ui/app.js
UI_OBJ := $(BUILDDIR)/daemon/ui_files.o

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILDDIR)/%.o) $(TEMPLATE_OBJ) $(UI_OBJ)
MAIN_OBJ := $(BUILDDIR)/daemon/main.o

STABILD := $(BUILDDIR)/stabild
STABILCTL := $(BUILDDIR)/stabilctl
SIM := $(BUILDDIR)/stabild-sim
BARE := $(BUILDDIR)/bench-bare-consumer
HISTORY := $(BUILDDIR)/bench-history
SIMCHECK := $(BUILDDIR)/stabild-simcheck

# Manual pages, by section.
MAN1 := daemon/man/stabilctl.1
MAN5 := daemon/man/stabild.conf.5
MAN8 := daemon/man/stabild.8

# Unit tests: each links its module and only what that module needs.
UNIT_TESTS := test_log test_buf test_conf test_auth test_decision test_period \
	test_series test_dedup test_records test_checkpoint test_ingest test_alert \
	test_reply test_model test_detect test_arl test_explain test_spool \
	test_webhook test_silence test_email test_route test_ui test_simmodel \
	test_url test_stall test_state_format test_utf8 test_answer \
	test_indicator test_rlink test_threshold test_worker
# Issue 14's parts add their unit tests here, each on its own line.
# Part A (determinism and the control log):
HA_UNIT_A := test_ha_log
# Part B (shared registries):
HA_UNIT_B := test_ha_registry
deps_test_ha_registry = $(BASE) $(BUILDDIR)/daemon/ha_registry.o \
	$(BUILDDIR)/daemon/explain.o $(BUILDDIR)/daemon/period.o \
	$(BUILDDIR)/daemon/conf.o $(BUILDDIR)/daemon/file.o \
	$(BUILDDIR)/daemon/utc.o $(BUILDDIR)/daemon/buf.o \
	$(BUILDDIR)/daemon/decision.o $(BUILDDIR)/alerts/alert.o \
	$(BUILDDIR)/alerts/silence.o
# Part C (delivery once):
HA_UNIT_C := test_ha_claim
# Part D (Sentinel and status):
HA_UNIT_D := test_sentinel test_ha_peer
UNIT_TESTS += $(HA_UNIT_A) $(HA_UNIT_B) $(HA_UNIT_C) $(HA_UNIT_D)
UNIT_BINS := $(UNIT_TESTS:%=$(BUILDDIR)/tests/%)

BASE := $(BUILDDIR)/daemon/log.o $(BUILDDIR)/daemon/xmalloc.o $(BUILDDIR)/daemon/utf8.o
deps_test_log := $(BASE)
deps_test_buf := $(BASE) $(BUILDDIR)/daemon/buf.o
deps_test_conf := $(BASE) $(BUILDDIR)/daemon/conf.o
deps_test_auth := $(BASE) $(BUILDDIR)/daemon/auth.o
deps_test_decision := $(BASE) $(BUILDDIR)/daemon/decision.o
deps_test_indicator := $(BASE) $(BUILDDIR)/daemon/conf.o \
	$(BUILDDIR)/daemon/decision.o $(BUILDDIR)/daemon/indicator.o
deps_test_period := $(BASE) $(BUILDDIR)/daemon/period.o
deps_test_series := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/series.o
deps_test_dedup := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/dedup.o
deps_test_records := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/records.o
deps_test_checkpoint := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/file.o \
	$(BUILDDIR)/daemon/checkpoint.o
deps_test_ingest := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/conf.o \
	$(BUILDDIR)/daemon/decision.o $(BUILDDIR)/daemon/indicator.o \
	$(BUILDDIR)/daemon/period.o \
	$(BUILDDIR)/daemon/series.o $(BUILDDIR)/daemon/dedup.o \
	$(BUILDDIR)/daemon/records.o $(BUILDDIR)/daemon/file.o \
	$(BUILDDIR)/daemon/checkpoint.o $(BUILDDIR)/daemon/stall.o \
	$(BUILDDIR)/daemon/slice.o \
	$(BUILDDIR)/daemon/answer.o \
	$(BUILDDIR)/daemon/detector.o $(BUILDDIR)/daemon/ingest.o
deps_test_reply := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/reply.o
deps_test_model := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/model.o
deps_test_detect := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/detect.o
deps_test_arl := $(BASE) $(BUILDDIR)/daemon/buf.o $(BUILDDIR)/daemon/detect.o \
	$(BUILDDIR)/daemon/arl.o
deps_test_alert := $(BASE) $(BUILDDIR)/daemon/utc.o $(BUILDDIR)/alerts/alert.o \
	$(BUILDDIR)/alerts/sink.o
deps_test_explain := $(BASE) $(BUILDDIR)/daemon/explain.o $(BUILDDIR)/daemon/period.o \
	$(BUILDDIR)/daemon/conf.o $(BUILDDIR)/daemon/file.o $(BUILDDIR)/daemon/utc.o
deps_test_spool := $(BASE) $(BUILDDIR)/daemon/file.o $(BUILDDIR)/alerts/spool.o
deps_test_webhook := $(BASE) $(BUILDDIR)/alerts/http.o $(BUILDDIR)/alerts/webhook.o
deps_test_silence := $(BASE) $(BUILDDIR)/daemon/file.o $(BUILDDIR)/daemon/decision.o \
	$(BUILDDIR)/daemon/utc.o $(BUILDDIR)/alerts/alert.o $(BUILDDIR)/alerts/silence.o
deps_test_email := $(BASE) $(BUILDDIR)/daemon/utc.o $(BUILDDIR)/alerts/alert.o \
	$(BUILDDIR)/daemon/decision.o \
	$(BUILDDIR)/alerts/email.o
deps_test_route := $(BASE) $(BUILDDIR)/daemon/conf.o $(BUILDDIR)/daemon/utc.o \
	$(BUILDDIR)/daemon/file.o $(BUILDDIR)/alerts/alert.o \
	$(BUILDDIR)/alerts/route.o $(BUILDDIR)/alerts/ledger.o
deps_test_ui := $(BASE) $(BUILDDIR)/daemon/ui.o $(UI_OBJ)
deps_test_simmodel := $(BASE) $(BUILDDIR)/tests/sim/simmodel.o $(BUILDDIR)/daemon/decision.o
deps_test_url := $(BASE) $(BUILDDIR)/daemon/url.o
deps_test_stall := $(BASE) $(BUILDDIR)/daemon/stall.o $(BUILDDIR)/daemon/answer.o
deps_test_answer := $(BASE) $(BUILDDIR)/daemon/answer.o
deps_test_worker := $(BASE) $(BUILDDIR)/daemon/worker.o \
	$(BUILDDIR)/daemon/stall.o $(BUILDDIR)/daemon/slice.o \
	$(BUILDDIR)/daemon/answer.o
deps_test_utf8 := $(BASE)
deps_test_rlink := $(BASE) $(BUILDDIR)/daemon/conf.o $(BUILDDIR)/daemon/rlink.o \
	$(BUILDDIR)/daemon/sentinel.o
deps_test_sentinel := $(BASE) $(BUILDDIR)/daemon/conf.o $(BUILDDIR)/daemon/sentinel.o
deps_test_ha_peer := $(BASE) $(BUILDDIR)/daemon/utc.o $(BUILDDIR)/daemon/ha_peer.o
deps_test_ha_claim := $(BASE) $(BUILDDIR)/daemon/ha_claim.o
deps_test_ha_log := $(deps_test_ingest) $(BUILDDIR)/daemon/clock.o \
	$(BUILDDIR)/daemon/ha_log.o
deps_test_state_format := $(deps_test_ingest) $(BUILDDIR)/daemon/utc.o \
	$(BUILDDIR)/daemon/explain.o $(BUILDDIR)/daemon/detect.o \
	$(BUILDDIR)/daemon/arl.o $(BUILDDIR)/daemon/model.o \
	$(BUILDDIR)/daemon/worker.o $(BUILDDIR)/daemon/stall.o \
	$(BUILDDIR)/daemon/metrics.o $(BUILDDIR)/daemon/stream.o \
	$(BUILDDIR)/daemon/sentinel.o \
	$(BUILDDIR)/daemon/reply.o \
	$(BUILDDIR)/daemon/monitor.o $(BUILDDIR)/daemon/monitor_fit.o \
	$(BUILDDIR)/daemon/monitor_job.o $(BUILDDIR)/daemon/monitor_alerts.o \
	$(BUILDDIR)/daemon/monitor_save.o $(BUILDDIR)/daemon/monitor_json.o \
	$(BUILDDIR)/daemon/clock.o \
	$(BUILDDIR)/alerts/alert.o $(BUILDDIR)/alerts/sink.o
deps_test_threshold := $(deps_test_state_format)

# Fuzz targets, tests/fuzz/fuzz_NAME.c, built in FUZZ_BUILDDIR only. The
# whole of `make fuzz` takes about 8 x FUZZ_SECONDS; each smoke run
# FUZZ_SMOKE_SECONDS plus its corpus.
FUZZ_BUILDDIR ?= build-fuzz
FUZZ_TARGETS := decision conf tokens explain silence api checkpoint outbox
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILDDIR)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 75
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_DEPS := $(BUILDDIR)/fuzz/fuzzfile.o $(BUILDDIR)/tests/sim/simfeed.o \
	$(BUILDDIR)/tests/sim/simmodel.o $(CORE_OBJS)

.PHONY: check-plain-lane check-asan-lane all check check-run check-asan asan-build check-sim check-side unit unit-bins integration asan demo sim bench install \
	clean deps deps-check lint lint-man fuzz fuzz-smoke fuzz-bins

all: $(STABILD) $(STABILCTL) $(SIM) $(BARE) $(HISTORY) $(SIMCHECK)

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILDDIR)/alerts/template.c: alerts/templates/alert.txt
	@mkdir -p $(dir $@)
	{ echo '/* Made from $< at build time. */'; \
	  echo '#include "email.h"'; \
	  echo 'const char email_default_template[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(TEMPLATE_OBJ): $(BUILDDIR)/alerts/template.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILDDIR)/daemon/ui_files.c: daemon/ui/embed.sh $(UI_FILES)
	@mkdir -p $(dir $@)
	sh daemon/ui/embed.sh $(UI_FILES) > $@.tmp
	mv $@.tmp $@

$(UI_OBJ): $(BUILDDIR)/daemon/ui_files.c daemon/ui_files.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(STABILD): $(CORE_OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(STABILCTL): $(BUILDDIR)/daemon/stabilctl.o
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_LIBS)

$(SIM): $(BUILDDIR)/tests/sim/sim.o $(BUILDDIR)/tests/sim/simmodel.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SIMCHECK): $(BUILDDIR)/tests/sim/simcheck.o $(BUILDDIR)/tests/sim/simmodel.o \
		$(BUILDDIR)/tests/sim/simfeed.o $(BUILDDIR)/tests/sim/simorder.o \
		$(BUILDDIR)/tests/sim/oracle.o \
		$(CORE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BARE): $(BUILDDIR)/tests/bench/bare.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(HISTORY): $(BUILDDIR)/tests/bench/history.o $(BASE) $(BUILDDIR)/daemon/buf.o \
		$(BUILDDIR)/daemon/series.o $(BUILDDIR)/daemon/dedup.o \
		$(BUILDDIR)/daemon/file.o $(BUILDDIR)/daemon/checkpoint.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILDDIR)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILDDIR)/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/sim $(CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BINS): $(BUILDDIR)/fuzz/fuzz_%: $(BUILDDIR)/fuzz/fuzz_%.o $(FUZZ_DEPS)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.SECONDEXPANSION:
$(UNIT_BINS): $(BUILDDIR)/tests/%: $(BUILDDIR)/tests/%.o $$(deps_%)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

# Install the Debian packages the build, tests and demo need.
deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PACKAGES)

# Called by check and demo: install missing libraries when root, otherwise
# say exactly what to run.
deps-check:
	@if pkg-config --exists $(PKGS) $(TEST_PKGS) && command -v redis-server >/dev/null \
		&& command -v redis-sentinel >/dev/null \
		&& command -v python3 >/dev/null && command -v curl >/dev/null \
		&& command -v cppcheck >/dev/null && command -v openssl >/dev/null \
		&& command -v groff >/dev/null && command -v xxd >/dev/null \
		&& command -v $(FUZZ_CC) >/dev/null && command -v wrk >/dev/null \
		&& [ -e /usr/share/javascript/chart.js/chart.min.js ] \
		&& command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		&& [ -e /usr/share/zoneinfo/Europe/Stockholm ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then $(MAKE) deps; \
	else echo "stabild: missing build dependencies; run as root:"; \
		echo "  apt-get install -y $(DEB_PACKAGES)"; exit 1; fi

# Two lanes, a core each: the plain tests, then the detector simulations
# (statistics, so the optimised build only) and the fuzz smoke; beside
# them the sanitizer build, then the sanitizer pass. Tests wait on
# sockets and timers much of the time, so neither lane waits for the
# other's end.
check: deps-check
	$(MAKE) lint lint-man
	$(MAKE) all
	$(MAKE) -j2 check-plain-lane check-asan-lane

check-plain-lane:
	$(MAKE) check-run
	$(MAKE) check-side

check-asan-lane:
	$(MAKE) asan-build
	$(MAKE) check-asan

asan-build:
	$(MAKE) BUILDDIR=build-asan SAN=1 all unit-bins

check-side:
	$(MAKE) check-sim
	$(MAKE) fuzz-smoke

check-run: all $(UNIT_BINS)
	BUILDDIR=$(BUILDDIR) tests/run-unit.sh $(UNIT_BINS)
	BUILDDIR=$(BUILDDIR) tests/check-options.sh
	BUILDDIR=$(BUILDDIR) tests/check-man.sh
	tests/check-systemd.sh
	BUILDDIR=$(BUILDDIR) SAN=$(SAN) python3 tests/integration/run.py -j2
	mkdir -p $(BUILDDIR)/artefacts/before
	cp tests/data/dashboard-before/*.png $(BUILDDIR)/artefacts/before/

check-asan:
	$(MAKE) BUILDDIR=build-asan SAN=1 check-run

check-sim: all
	$(SIMCHECK) -q
	$(SIMCHECK) -X -q

unit: all $(UNIT_BINS)
	BUILDDIR=$(BUILDDIR) tests/run-unit.sh $(UNIT_BINS)

integration: all
	BUILDDIR=$(BUILDDIR) python3 tests/integration/run.py $(T)

# The unit tests are named in the sub-make, where BUILDDIR is build-asan.
asan:
	$(MAKE) BUILDDIR=build-asan SAN=1 all unit-bins

unit-bins: $(UNIT_BINS)

# The fuzz targets in their own build (clang, libFuzzer, ASan, UBSan).
fuzz-bins: $(FUZZ_BINS)

fuzz:
	$(MAKE) BUILDDIR=$(FUZZ_BUILDDIR) FUZZ=1 fuzz-bins
	BUILDDIR=$(FUZZ_BUILDDIR) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke:
	$(MAKE) BUILDDIR=$(FUZZ_BUILDDIR) FUZZ=1 fuzz-bins
	BUILDDIR=$(FUZZ_BUILDDIR) tests/fuzz/run.sh -s $(FUZZ_SMOKE_SECONDS) \
		$(FUZZ_TARGETS)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr -D_GNU_SOURCE -Idaemon -Ialerts daemon alerts tests

# groff exits 0 on warnings: any output on stderr fails the lint.
lint-man:
	@for page in $(MAN1) $(MAN5) $(MAN8); do \
		out=$$(LC_ALL=C groff -man -ww -z $$page 2>&1); \
		if [ -n "$$out" ]; then echo "$$out" >&2; \
			echo "lint-man: $$page has warnings" >&2; exit 1; fi; \
	done; echo "lint-man: $(words $(MAN1) $(MAN5) $(MAN8)) pages clean"

demo: deps-check
	$(MAKE) all
	BUILDDIR=$(BUILDDIR) tests/demo.sh

sim: deps-check
	$(MAKE) all
	BUILDDIR=$(BUILDDIR) python3 tests/integration/run.py --long
	$(SIMCHECK)
	$(SIMCHECK) -i -y 6
	$(SIMCHECK) -x
	$(SIMCHECK) -X

bench: deps-check
	$(MAKE) all $(BUILDDIR)/tests/test_model
	BUILDDIR=$(BUILDDIR) python3 tests/bench/run.py
	BUILDDIR=$(BUILDDIR) python3 tests/bench/stall.py
	BUILDDIR=$(BUILDDIR) python3 tests/bench/catchup.py
	BUILDDIR=$(BUILDDIR) python3 tests/bench/dashboard.py
	BUILDDIR=$(BUILDDIR) python3 tests/bench/api.py

# Minutes, not part of check: ingest under Redis restarts, receiver
# outages, kill -9 and API load (tests/soak/soak.py), then the Redis link
# tests again and again under the sanitizers.
.PHONY: soak
soak: deps-check
	$(MAKE) all
	$(MAKE) BUILDDIR=build-asan SAN=1 all
	BUILDDIR=$(BUILDDIR) python3 tests/soak/soak.py
	BUILDDIR=build-asan SAN=1 python3 tests/soak/repeat.py 50 test_redis_restart
	BUILDDIR=build-asan SAN=1 STABILD_LINK_KILLS=100 python3 tests/soak/repeat.py 5 test_link_loss

install: $(STABILD) $(STABILCTL)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/stabild \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(STABILD) $(DESTDIR)$(SBINDIR)/stabild
	install -m 0755 $(STABILCTL) $(DESTDIR)$(BINDIR)/stabilctl
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 config/stabild.conf $(DESTDIR)$(SYSCONFDIR)/stabild/stabild.conf.example
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/stabild.service > $(DESTDIR)$(UNITDIR)/stabild.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/stabild.service

clean:
	rm -rf build build-asan $(FUZZ_BUILDDIR)

-include $(shell find $(BUILDDIR) -name '*.d' 2>/dev/null)
