// SampleRecorder: throttling to samples/s, near-duplicate skipping and the countdown, in virtual time.
import Gestures
import Testing

@Suite struct SampleRecorderTests {
    static let millisecond: UInt64 = 1_000_000

    /// Feeds a 30 fps stream for `seconds` whose embedding changes by `step` per frame; returns kept frame indices.
    static func record(settings: RecordingSettings, seconds: Double, step: Float) -> (
        kept: [Int], recorder: SampleRecorder
    ) {
        var recorder = SampleRecorder(label: "up", settings: settings, startNanoseconds: 5_000 * millisecond)
        var kept: [Int] = []
        for frame in 0..<Int(seconds * 30) {
            let features: [Float] = [1, Float(frame) * step, 0.5]
            let time = 5_000 * millisecond + UInt64(frame) * 33_333_333
            let decision = features.withUnsafeBufferPointer { recorder.consider(features: $0, atNanoseconds: time) }
            if decision == .keep { kept.append(frame) }
        }
        return (kept, recorder)
    }

    @Test(arguments: [(10.0, 10), (5.0, 5), (30.0, 30), (1.0, 1)])
    func throttlesToTheRate(rate: Double, expectedPerSecond: Int) {
        let (kept, recorder) = Self.record(
            settings: RecordingSettings(samplesPerSecond: rate, duplicateDistance: 0),
            seconds: 3, step: 1)
        #expect(kept.count == expectedPerSecond * 3, "kept \(kept)")
        #expect(recorder.kept == kept.count && recorder.throttled == 90 - kept.count)
    }

    @Test func stillSceneKeepsOnlyTheFirstFrame() {
        let (kept, recorder) = Self.record(
            settings: RecordingSettings(samplesPerSecond: 10, duplicateDistance: 0.25),
            seconds: 2, step: 0)
        #expect(kept == [0])
        #expect(recorder.duplicates > 0)
    }

    @Test func movementIsKeptStillnessSkipped() {
        // Relative step per frame 0.2/‖[1, x, 0.5]‖ grows past the threshold only when frames are 3 apart.
        let (kept, _) = Self.record(
            settings: RecordingSettings(samplesPerSecond: 10, duplicateDistance: 0.5),
            seconds: 2, step: 0.1)
        #expect(!kept.isEmpty && kept.count < 20)
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $1 - $0 >= 3 })
    }

    @Test func countdownDelaysTheFirstSample() {
        var recorder = SampleRecorder(
            label: "left", settings: RecordingSettings(countdownSeconds: 3), startNanoseconds: 0)
        let features: [Float] = [1, 2, 3]
        let early = features.withUnsafeBufferPointer {
            recorder.consider(features: $0, atNanoseconds: 1_000 * Self.millisecond)
        }
        #expect(early == .countdown(remainingNanoseconds: 2_000 * Self.millisecond))
        let onTime = features.withUnsafeBufferPointer {
            recorder.consider(features: $0, atNanoseconds: 3_000 * Self.millisecond)
        }
        #expect(onTime == .keep)
    }

    @Test(arguments: [
        RecordingSettings(samplesPerSecond: 0), RecordingSettings(samplesPerSecond: 500),
        RecordingSettings(duplicateDistance: -1), RecordingSettings(countdownSeconds: 60),
    ])
    func invalidSettingsAreNamed(settings: RecordingSettings) {
        #expect(throws: GesturesError.self) { try settings.validate() }
    }

    @Test func relativeDistance() {
        #expect(SampleRecorder.relativeDistance([3, 4], [3, 4]) == 0)
        #expect(abs(SampleRecorder.relativeDistance([3, 0], [0, 4]) - 1.25) < 1e-6)
        #expect(SampleRecorder.relativeDistance([1], [0]) == .infinity)
    }
}
