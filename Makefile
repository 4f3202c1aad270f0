# gesturepad — build, test and benchmark. `make test` does all set-up on a fresh Debian 12 /
# Ubuntu machine (idempotent: installs only what is missing) and then runs the test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# System packages (Debian names): OpenBLAS (GEMM), stb (image decoding); pkg-config lets SwiftPM find them.
APT_PACKAGES := libopenblas-dev libstb-dev pkg-config

# Target CPU for release kernels (see README "Build settings"): AVX-512 where the CPU has it,
# else AVX2+FMA (haswell), else the x86-64 baseline. Override: make GESTUREPAD_TARGET_CPU=haswell …
ifeq ($(origin GESTUREPAD_TARGET_CPU), undefined)
  GESTUREPAD_TARGET_CPU := $(shell if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then echo skylake-avx512; \
                             elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo haswell; fi)
endif
export GESTUREPAD_TARGET_CPU

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift

.PHONY: setup build release test bench clean

setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing \
	    || { echo "setup: could not install$$missing; run: sudo apt-get install$$missing" >&2; exit 1; }; \
	fi

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release
	@echo "built .build/release/gesturepad (target CPU: $(or $(GESTUREPAD_TARGET_CPU),x86-64 baseline))"

test: setup
	$(SWIFT) test

# Embedder latency of a seeded random MobileNet v1 (see bench/ for the peer comparison).
bench: release
	.build/release/gesturepad bench embed --random-mobilenet 0.25 --runs 200
	.build/release/gesturepad bench embed --random-mobilenet 1.0 --runs 50

clean:
	rm -rf .build
