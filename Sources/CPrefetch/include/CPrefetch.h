// CPrefetch: the CPU's software prefetch (x86 PREFETCHT0 / PREFETCHNTA via __builtin_prefetch) for Swift, which
// has no prefetch of its own and cannot import clang's `_mm_prefetch` (a macro). A prefetch retires at once and
// never faults, so a kernel can name the cache lines it will read next — scattered rows the hardware prefetcher
// does not follow — without the demand loads that would fill the reorder buffer while they miss.
// Used by NeuralNet's sparse kernels (DenseRow.swift's rows layout). Header-only: static inline, so the call
// compiles to the one instruction inside the Swift loop.
#pragma once

/// Fetches the line at `address` into every cache level (PREFETCHT0).
static inline void gp_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Fetches the line at `address` close to the core but marked not to be kept (PREFETCHNTA): data read once.
static inline void gp_prefetch_once(const void *address) { __builtin_prefetch(address, 0, 0); }
