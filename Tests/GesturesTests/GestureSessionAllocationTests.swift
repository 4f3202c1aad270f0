// The live loop allocates nothing per frame: a GestureSession stepped on a virtual clock (the real Recognizer with
// the tiny random MobileNet, a real DenseHeadPredictor, the decision filter, rolling statistics, events to a
// subscriber) is warmed up, then N more frames must make no heap allocation on the stepping thread
// (CAllocationCounter: every malloc-family call counts, including a buffer allocated and freed within one frame,
// which glibc's bytes-in-use counter cannot see). The stated constant is 0 per frame for frames that change no key
// (a decision — a press or a release — may allocate its event list). Alone in a process
// (GESTUREPAD_ISOLATED_TESTS=1, as `make test` runs it) it also checks glibc's bytes in use (mallinfo2) do not grow.
import CAllocationCounter
import CHeapStats
import Capture
import Foundation
import Gestures
import NeuralNet
import Synchronization
import SystemSupport
import Testing

/// A camera stand-in that allocates nothing per frame: one grey frame buffer, reused; 33 ms of virtual time each.
private final class ReusedFrameSource: FrameSource, @unchecked Sendable {
    let clock: VirtualFrameClock
    let pixels: UnsafeMutableRawBufferPointer
    private(set) var delivered = 0
    init(clock: VirtualFrameClock) {
        self.clock = clock
        pixels = .allocate(byteCount: 48 * 40 * 3, alignment: 16)
        pixels.initializeMemory(as: UInt8.self, repeating: 128)
    }
    deinit { pixels.deallocate() }

    var sourceDescription: String { "/dev/video7 (Reused Frame Test Camera)" }
    var formatSummary: String { "48×40 RGB24 at 30 fps" }
    var framesCaptured: Int { delivered }
    var deliveryWarning: String? { nil }
    func close() {}

    func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError) -> Result?
    {
        clock.advance(byNanoseconds: 33_000_000)
        delivered += 1
        return body(
            FrameView(
                width: 48, height: 40, format: .rgb24, bytesPerLine: 48 * 3, bytes: UnsafeRawBufferPointer(pixels),
                sequence: UInt64(delivered), timestampNanoseconds: clock.nowNanoseconds - 2_000_000))
    }
}

/// Counts decisions without allocating.
private final class CountingOutput: GestureOutput, Sendable {
    let decisions = Atomic<Int>(0)
    func apply(_ decision: KeyDecision) -> KeyOutcome {
        decisions.add(1, ordering: .relaxed)
        return .done
    }
    func releaseEverything(reason: KeyReason, alreadyReported: Bool) -> KeyOutcome { .done }
    func close(alreadyReported: Bool) -> KeyOutcome { .done }
}

@Suite("GestureSession: no allocation per frame")
struct GestureSessionAllocationTests {
    @Test("after warm-up, a recognised frame makes no heap allocation (session, recognizer, head, filter, statistics)")
    func noAllocationPerFrame() throws {
        let labels = ["up", "down", "idle"]
        let (trainer, store, _) = try makeTinyTrainer(labels: labels, perLabel: 2)
        let recognizer = Recognizer(extractor: try trainer.extractor.duplicate(), mirror: false)
        // A real predictor (every first-layer weight non-zero); "up" wins every frame, so the filter presses once
        // during the warm-up and then holds (no further decisions).
        let architecture = HeadArchitecture(
            inputShape: [recognizer.extractor.featureCount], hiddenUnits: 8, classes: labels.count)
        let head = try DenseHead(
            architecture: architecture,
            hiddenKernel: [Float](repeating: 0.001, count: recognizer.extractor.featureCount * 8),
            hiddenBias: [Float](repeating: 1, count: 8),
            outputKernel: (0..<8).flatMap { _ in [Float(3), 0, 0] })
        try recognizer.swapHead(
            ActiveHead(labels: try LabelSet(labels), version: 1, predictor: DenseHeadPredictor(head)))
        let clock = VirtualFrameClock()
        let source = ReusedFrameSource(clock: clock)
        let output = CountingOutput()
        let predictions = Atomic<Int>(0)
        let session = try GestureSession(
            settings: GestureSessionSettings(sourceName: "/dev/video7", labels: try LabelSet(labels)),
            recognizer: recognizer, samples: store, cacheKey: trainer.cacheKey, trainer: nil, output: output,
            clock: clock, openSource: { () throws(CaptureError) -> any FrameSource in source },
            emit: { event in
                // A subscriber that reads each prediction, as the daemon's forwarder does.
                if case .prediction(_, _, let probabilities, _) = event, probabilities.count == 3 {
                    predictions.add(1, ordering: .relaxed)
                }
            })
        for _ in 0..<60 { #expect(session.step() == .progressed) }
        #expect(output.decisions.load(ordering: .relaxed) == 1, "the warm-up pressed up once")
        let frames = 200
        let isolated = ProcessInfo.processInfo.environment["GESTUREPAD_ISOLATED_TESTS"] == "1"
        let bytesBefore = gp_heap_bytes_in_use()
        let allocationsBefore = gp_thread_allocation_count()
        for _ in 0..<frames { session.step() }
        let allocations = gp_thread_allocation_count() - allocationsBefore
        let bytesGrown = Int(gp_heap_bytes_in_use()) - Int(bytesBefore)
        #expect(output.decisions.load(ordering: .relaxed) == 1, "no decision during the measured frames")
        #expect(predictions.load(ordering: .relaxed) == 60 + frames)
        #expect(allocations == 0, "\(allocations) heap allocations in \(frames) frames (stated constant: 0 per frame)")
        if isolated {
            #expect(bytesGrown <= 0, "glibc's bytes in use grew by \(bytesGrown) over \(frames) frames")
        }
        let statistics = session.snapshot().statistics
        #expect(statistics.framesProcessed == 60 + frames)
        #expect(statistics.latencyMilliseconds["capture"]?.first == 2, "the frame's age: 2 ms on the virtual clock")
        session.stop()
    }
}
