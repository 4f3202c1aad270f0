// CHeapStats: glibc heap counters and settings. Swift's Glibc module does not export <malloc.h>
// (mallinfo2, mallopt, malloc_trim), hence this shim: counters for tests that prove a hot path
// allocates nothing, and the daemon's heap policy (Sources/Daemon/HeapPolicy.swift).
#pragma once
#include <stddef.h>

/// Bytes currently allocated by malloc (small-block arena + mmap'ed blocks), all threads.
size_t gp_heap_bytes_in_use(void);

/// mallopt(M_MMAP_THRESHOLD, bytes): blocks of at least `bytes` get a mapping of their own, and glibc
/// stops raising the threshold as mapped blocks are freed. Returns 1 on success, 0 when glibc refused.
int gp_heap_fix_mmap_threshold(size_t bytes);

/// malloc_trim(0): returns free pages of every arena to the kernel. Returns 1 if memory was released.
int gp_heap_trim(void);

/// Whether the block `pointer` (from malloc) has a mapping of its own: the IS_MMAPPED bit (0x2) of the
/// chunk's size field, the word before the block (glibc malloc/malloc.c; the layout has not changed since
/// glibc 2.0). For tests of the heap policy only.
int gp_heap_block_is_mapped(const void *pointer);
