// CacheSweep: the benchmarks' way to start a timed run with cold caches — touch one byte per cache line of a
// 64 MB buffer (larger than any L3 these machines have), so the weights and activations of the run that follows
// come from memory. Used by `bench head` and `bench embed --cold`; never on the live path.

/// A 64 MB buffer whose `run()` evicts the caches. Allocates once, at init.
final class CacheSweep {
    static let bytes = 64 << 20
    private let buffer: UnsafeMutablePointer<UInt8>
    /// Read back in deinit, so the sweeps' loads and stores are not optimised away.
    private var sink: UInt8 = 0

    init() {
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.bytes)
        buffer.initialize(repeating: 1, count: Self.bytes)
    }

    deinit {
        if sink == 42 { print("", terminator: "") }
        buffer.deallocate()
    }

    /// Touches every 64-byte line of the buffer.
    func run() {
        for index in stride(from: 0, to: Self.bytes, by: 64) { buffer[index] &+= 1 }
        sink &+= buffer[0]
    }
}
