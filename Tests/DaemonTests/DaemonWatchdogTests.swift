// The systemd watchdog follows the pipeline, not the process: a camera whose frame wait never returns
// (a driver stuck in DQBUF, or a deadlock, as far as the pipeline thread can tell) must stop the
// WATCHDOG=1 pings while the control socket and the rest of the process carry on, so systemd kills
// and restarts the service; once the pipeline goes round its loop again the pings resume. The
// pings go to a real AF_UNIX datagram socket (NotifyListener, as systemd's $NOTIFY_SOCKET); the
// daemon's clock is virtual, so "stuck for longer than the watchdog timeout" is exact, not a race.
// The real-systemd check (a pipeline thread stopped by ptrace under `systemctl --user`) is the
// system test tools/vm/scenario-systemd.sh.
import SystemSupport
import Capture
import Foundation
import Gestures
import Logging
import Synchronization
import Testing

@testable import Daemon

/// A camera whose first frame wait blocks until `unstick()`; later waits time out after 10 ms (no frames).
final class StuckFrameSource: FrameSource, @unchecked Sendable {
    /// Signalled when the pipeline entered the stuck wait.
    let entered = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)
    private let stuckOnce = Atomic<Bool>(true)

    var sourceDescription: String { "stuck test camera" }
    var framesCaptured: Int { 0 }
    var formatSummary: String { "stuck test camera (no frames)" }
    var deliveryWarning: String? { nil }

    func withNextFrame<Result>(timeoutMilliseconds: Int, _ body: (FrameView) -> Result) throws(CaptureError) -> Result?
    {
        if stuckOnce.exchange(false, ordering: .relaxed) {
            entered.signal()
            release.wait()
        }
        usleep(10_000)
        throw .frameTimeout(device: sourceDescription, milliseconds: 10)
    }

    /// Lets the stuck frame wait return.
    func unstick() { release.signal() }

    func close() {}
}

/// Monotonic nanoseconds that move only when told to.
final class ManualNanosecondClock: FrameClock, Sendable {
    private let value = Atomic<UInt64>(1_000_000_000)
    var now: UInt64 { value.load(ordering: .relaxed) }
    var nowNanoseconds: UInt64 { now }
    func advance(seconds: Double) { value.add(UInt64(seconds * 1e9), ordering: .relaxed) }
    /// Only the test moves this clock; a wait on it returns at once.
    func sleep(untilNanoseconds deadlineNanoseconds: UInt64) {}
}

@Suite("Daemon: the systemd watchdog follows the pipeline")
struct DaemonWatchdogTests {
    @Test(
        "ping while the pipeline's last round is within the timeout (or no pipeline runs); withhold after",
        arguments: [(nil, true), (0.0, true), (9.9, true), (10.0, true), (10.1, false), (3600.0, false)]
            as [(Double?, Bool)])
    func pingDecision(stallSeconds: Double?, expected: Bool) {
        let stall = stallSeconds.map { Duration.milliseconds(Int64($0 * 1000)) }
        #expect(PipelineService.watchdogShouldPing(stall: stall, timeout: .seconds(10)) == expected)
    }

    @Test func aStuckPipelineStopsTheWatchdogPingsAndTheyResumeWhenItMovesAgain() async throws {
        let (configuration, models, _) = try makeTinyDaemonWorkspace()
        let workspace = try GestureWorkspace(configuration, models: models)
        let clock = ManualNanosecondClock()
        let camera = StuckFrameSource()
        let settings = DaemonSettings(workspace: configuration, source: "/dev/video-stuck", keys: [:])
        let daemon = try GestureDaemon(
            settings: settings, workspace: workspace, keySink: RecordingKeySink(), dryRun: false,
            openSource: { _ in camera }, clock: clock)
        #expect(daemon.pipelineStall() == nil, "no pipeline before start")

        let listener = try NotifyListener()
        // WATCHDOG_USEC 100 ms: a ping check every 50 ms of real time; the stall is measured on the virtual clock.
        let notifier = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": listener.environmentValue, "WATCHDOG_USEC": "100000",
        ])
        let service = PipelineService(daemon: daemon, notifier: notifier, logger: Logger(label: "watchdog-test")) {
            () throws(DaemonError) in ReloadPlan(settings: settings)
        }
        let running = Task { try await service.run() }

        /// Datagrams for `seconds` of real time, or until one equals `stopAt`.
        func collect(seconds: Double, stopAt: String? = nil) -> [String] {
            var datagrams: [String] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let datagram = listener.receive() else { continue }
                datagrams.append(datagram)
                if datagram == stopAt { break }
            }
            return datagrams
        }

        #expect(camera.entered.wait(timeout: .now() + 30) == .success, "the pipeline reached the camera")
        // Stuck, but not for long yet on the daemon's clock: pings go on.
        #expect(collect(seconds: 10, stopAt: "WATCHDOG=1\n").contains("WATCHDOG=1\n"))

        // Stuck for a second, ten times the timeout: no more pings.
        clock.advance(seconds: 1)
        #expect(daemon.pipelineStall() ?? .zero >= .seconds(1))
        _ = collect(seconds: 0.5)  // a ping decided just before the clock moved may still be in flight
        let whileStuck = collect(seconds: 1)
        #expect(!whileStuck.contains("WATCHDOG=1\n"), "pings while the pipeline was stuck: \(whileStuck)")

        // The frame wait returns: the pipeline goes round again and the pings resume.
        camera.unstick()
        #expect(collect(seconds: 10, stopAt: "WATCHDOG=1\n").contains("WATCHDOG=1\n"))
        #expect(daemon.pipelineStall() ?? .seconds(1) < .seconds(1))

        running.cancel()
        _ = try? await running.value
        #expect(daemon.snapshot().state == .stopped)
        #expect(daemon.pipelineStall() == nil, "no pipeline after stop")
    }
}
