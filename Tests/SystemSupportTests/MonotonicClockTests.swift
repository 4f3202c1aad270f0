// The one monotonic clock: the system clock never goes backwards and its sleep reaches the deadline;
// the virtual clock moves only when told, and a sleep to a past deadline leaves it where it is.
import Testing

import SystemSupport

@Suite("MonotonicClock")
struct MonotonicClockTests {
    @Test("SystemFrameClock never goes backwards over many readings, from any thread")
    func systemClockIsMonotonic() async {
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let clock = SystemFrameClock()
                    var previous = clock.nowNanoseconds
                    for _ in 0..<100_000 {
                        let now = clock.nowNanoseconds
                        if now < previous { return false }
                        previous = now
                    }
                    return true
                }
            }
            for await monotonic in group { #expect(monotonic) }
        }
    }

    @Test("SystemFrameClock.sleep returns no earlier than the deadline; a past deadline returns at once")
    func systemSleepReachesDeadline() {
        let clock = SystemFrameClock()
        let deadline = clock.nowNanoseconds + 2_000_000
        clock.sleep(untilNanoseconds: deadline)
        #expect(clock.nowNanoseconds >= deadline)
        let before = clock.nowNanoseconds
        clock.sleep(untilNanoseconds: before - 1_000_000)
        #expect(clock.nowNanoseconds >= before)
    }

    @Test("the instance clock and the static reading are the same clock")
    func staticAndInstanceAgree() {
        let first = SystemFrameClock.nanoseconds()
        let second = SystemFrameClock().nowNanoseconds
        let third = SystemFrameClock.nanoseconds()
        #expect(first <= second && second <= third)
    }

    @Test("VirtualFrameClock moves only when told and never backwards", arguments: [[5, 3, 9, 9, 1], [0, 0], [100]])
    func virtualClock(deadlines: [UInt64]) {
        let clock = VirtualFrameClock(startNanoseconds: 4)
        var previous = clock.nowNanoseconds
        for deadline in deadlines {
            clock.sleep(untilNanoseconds: deadline)
            #expect(clock.nowNanoseconds == max(previous, deadline))
            #expect(clock.nowNanoseconds >= previous)
            previous = clock.nowNanoseconds
        }
        clock.advance(byNanoseconds: 7)
        #expect(clock.nowNanoseconds == previous + 7)
        #expect(clock.sleepDeadlines == deadlines)
    }
}
