# SPDX-License-Identifier: GPL-2.0-or-later
# The two commands the README promises, plus the pieces they are made of.
#   make        build build/oimap
#   make check  install what is missing, build (normal + ASan/UBSan + fuzz),
#               run unit tests, integration tests and a fuzz smoke pass
#   make demo   install what is missing, build, sync a throwaway Dovecot
# Everything real lives in meson.build; this file only sequences it.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PYTHON     ?= /usr/bin/python3
FUZZ_SECONDS ?= 5
MESON_FLAGS = -Dwerror=true

.PHONY: all deps build build-asan build-fuzz unit integration fuzz-smoke \
	check demo clean format-check lint

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_FLAGS) -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug

build-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) $(MESON_FLAGS) -Dfuzzing=true \
		-Dtests=disabled -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link

build-fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

# ASan/UBSan must stop the test on the first report, not just print it.
SAN_ENV = ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

unit: build build-asan
	meson test -C $(BUILD) --suite unit --print-errorlogs
	$(SAN_ENV) meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs

integration: build build-asan
	OIMAP_BIN=$(CURDIR)/$(BUILD)/oimap $(PYTHON) -m pytest -q tests/integration
	$(SAN_ENV) OIMAP_BIN=$(CURDIR)/$(ASAN_BUILD)/oimap $(PYTHON) -m pytest -q \
		tests/integration

lint: build
	scripts/check-source $(BUILD)

fuzz-smoke: build-fuzz
	meson test -C $(FUZZ_BUILD) --suite fuzz --print-errorlogs
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-smoke $(FUZZ_BUILD)

check: deps
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) fuzz-smoke

demo: deps build
	scripts/demo

format-check:
	clang-format --dry-run --Werror src/*.c src/*/*.c src/*/*.h tests/unit/*.c fuzz/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) demo
