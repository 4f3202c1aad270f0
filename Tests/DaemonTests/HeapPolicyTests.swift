// The daemon's heap policy (issue 15 item 12): with glibc's mmap threshold fixed, freeing a 30 MB block
// (as a training run frees 20 MB ones) no longer lets glibc raise the threshold, so the next 16 MiB block
// still gets a mapping of its own — returned to the kernel when freed — instead of a place in a malloc arena.
// glibc serves a large block from free space already inside an arena before it maps one, so the check needs a
// process whose arenas hold no 16 MiB of free space: `make test` runs it alone (GESTUREPAD_ISOLATED_TESTS=1).
// The long-run effect on RSS is measured by bench/soak.py, not asserted here.
import CHeapStats
import Daemon
import Foundation
import Testing

@Suite(
    "Heap policy",
    .enabled(
        if: ProcessInfo.processInfo.environment["GESTUREPAD_ISOLATED_TESTS"] == "1",
        "needs a process of its own: GESTUREPAD_ISOLATED_TESTS=1 swift test --filter HeapPolicyTests"))
struct HeapPolicyTests {
    @Test func freedLargeBlocksLeaveTheMmapThresholdFixed() throws {
        #expect(HeapPolicy.applyForLongRunningProcess())
        // Without the policy glibc would now raise its threshold to 30 MB (dynamic mmap threshold).
        let large = try #require(malloc(30 << 20))
        memset(large, 1, 30 << 20)
        free(large)
        let block = try #require(malloc(16 << 20))
        defer { free(block) }
        #expect(gp_heap_block_is_mapped(block) == 1, "a 16 MiB block came from an arena")
        let small = try #require(malloc(256))
        defer { free(small) }
        #expect(gp_heap_block_is_mapped(small) == 0, "a 256-byte block has a mapping of its own")
    }
}
