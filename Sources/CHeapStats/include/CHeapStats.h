// CHeapStats: glibc heap counters for tests that prove a hot path allocates nothing.
// Swift's Glibc module does not export <malloc.h>'s mallinfo2, hence this one-function shim.
#pragma once
#include <stddef.h>

/// Bytes currently allocated by malloc (small-block arena + mmap'ed blocks), all threads.
size_t gp_heap_bytes_in_use(void);
