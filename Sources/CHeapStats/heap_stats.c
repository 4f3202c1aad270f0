#include "CHeapStats.h"
#include <malloc.h>

size_t gp_heap_bytes_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

int gp_heap_fix_mmap_threshold(size_t bytes) {
    return bytes <= (size_t)0x7fffffff && mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
}

int gp_heap_trim(void) { return malloc_trim(0); }

int gp_heap_block_is_mapped(const void *pointer) {
    return (((const size_t *)pointer)[-1] & 0x2) != 0;
}
