// LargePageBuffer: 2 MiB aligned, every byte usable, sizes below and above one huge page (the huge-page advice is a
// hint, so it is reported, not required).
import Testing

@testable import SystemSupport

@Suite("SystemSupport: large-page buffers")
struct LargePageBufferTests {
    @Test("aligned to 2 MiB and writable to the last byte", arguments: [1, 4096, 5_017_600, 20_070_400])
    func alignedAndWritable(byteCount: Int) {
        let buffer = LargePageBuffer(byteCount: byteCount)
        #expect(Int(bitPattern: buffer.baseAddress) % LargePageBuffer.hugePageBytes == 0)
        buffer.baseAddress.initializeMemory(as: UInt8.self, repeating: 7, count: byteCount)
        let bytes = buffer.baseAddress.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[0] == 7 && bytes[byteCount - 1] == 7)
    }
}
