// LargePageMemory: buffers for large read-mostly tables streamed once per frame (a gesture head's weights, 5–20 MB)
// that the kernel may back with 2 MiB transparent huge pages. Streaming 5 MB through 4 KiB pages walks ~1,250 page
// table entries and restarts the hardware prefetch at every 4 KiB boundary; with 2 MiB pages it is three pages.
// `madvise(MADV_HUGEPAGE)` is a hint: where transparent huge pages are off ("never") or unsupported the buffer is
// ordinary memory and works the same, so its result is not an error (it is kept in `hugePagesAdvised`).
#if canImport(Glibc)
    import Glibc
#endif

/// A 2 MiB-aligned buffer advised for transparent huge pages (ordinary memory where the kernel declines).
public final class LargePageBuffer: @unchecked Sendable {
    /// Alignment and rounding unit: one x86-64 huge page.
    public static let hugePageBytes = 2 << 20
    /// The buffer's first byte.
    public let baseAddress: UnsafeMutableRawPointer
    /// Bytes asked for (the allocation is rounded up to whole huge pages).
    public let byteCount: Int
    /// Whether the kernel accepted the MADV_HUGEPAGE hint.
    public let hugePagesAdvised: Bool

    /// Allocates `byteCount` bytes (≥ 1), uninitialised. Traps only when memory is exhausted, like `allocate`.
    public init(byteCount: Int) {
        precondition(byteCount >= 1, "a buffer needs at least one byte")
        let (rounded, overflow) = byteCount.addingReportingOverflow(Self.hugePageBytes - 1)
        precondition(!overflow, "buffer of \(byteCount) bytes is too large")
        let allocation = rounded / Self.hugePageBytes * Self.hugePageBytes
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, Self.hugePageBytes, allocation) == 0, let pointer else {
            fatalError("out of memory allocating \(allocation) bytes")
        }
        baseAddress = pointer
        self.byteCount = byteCount
        hugePagesAdvised = madvise(pointer, allocation, MADV_HUGEPAGE) == 0
    }

    deinit { free(baseAddress) }
}
