// CAllocationCounter (tests only): counts the heap allocations made by the calling thread. glibc's counters
// (mallinfo2, CHeapStats) give the bytes in use, which stay flat when a frame allocates a buffer and frees it again;
// "allocates nothing per frame" needs the number of calls. The test binary's malloc, calloc, realloc,
// posix_memalign, aligned_alloc and memalign count here and forward to glibc's own (__libc_malloc, …), so the
// allocator, free() and mallinfo2 are unchanged. Linked only into the test binary, never into gesturepad.
#pragma once
#include <stdint.h>

/// Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made so far by the calling
/// thread.
uint64_t gp_thread_allocation_count(void);
