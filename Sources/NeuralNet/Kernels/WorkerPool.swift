// WorkerPool: the threads behind `parallelFor` and the split GEMM. One process-wide pool of worker threads
// (grown on demand to the largest `threads − 1` ever asked for) that run the parts of one job together with the
// calling thread. Workers spin for `spinNanoseconds` after each job so the back-to-back steps of one `embed`
// reach them in well under a microsecond, then sleep on a condition variable (an idle process costs nothing).
// Hand-written instead of `DispatchQueue.concurrentPerform` (what `parallelFor` used before): libdispatch parks
// its workers as soon as a job ends, so every step paid a wake-up (futex + a vCPU's idle exit) before the second
// thread joined, and the split steps of MobileNet v1 1.0 ran no faster at 2 threads than at 1 (main: 12.58 vs
// 12.96 ms, see the note of issue 18). The protocol is the one of pthreadpool (XNNPACK's pool): a job is a
// generation number, a part count and a next-part counter in ONE atomic word, so a late worker can never take a
// part of the next job, and a caller whose pool is busy (another embedder, or a part that itself calls
// `parallelFor`) runs its parts inline instead of waiting.
// Allocation: threads are created on the first job that needs them (plan warm-up); a job allocates nothing.
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Worker threads that run the parts of one job alongside the caller (see file header).
final class WorkerPool: @unchecked Sendable {
    /// The process's pool.
    static let shared = WorkerPool()

    /// How long a worker spins for the next job before it sleeps: longer than the single-threaded steps between
    /// two split ones in an `embed`, short against a camera frame (33 ms at 30 fps).
    static let spinNanoseconds: UInt64 = 500_000
    /// At most this many workers (and so parts per job: the part count has 16 bits in the ticket).
    static let maximumWorkers = 63

    /// Generation (bits 32...), part count (bits 16..<32) and the next part to take (bits 0..<16) of the job.
    private let ticket = Atomic<Int>(0)
    /// Parts of the current job finished (reset by the caller before it publishes the job).
    private let finished = Atomic<Int>(0)
    /// Whether a caller owns the pool (a second caller runs inline).
    private let busy = Atomic<Bool>(false)
    /// Workers sleeping on `wakeCondition`.
    private let sleepers = Atomic<Int>(0)
    private let workerCount = Atomic<Int>(0)
    /// The current job's body: a pointer to a `(Int) -> Void`, valid while any of its parts is unfinished.
    private nonisolated(unsafe) var body: UnsafeRawPointer?
    private let wakeMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeCondition: UnsafeMutablePointer<pthread_cond_t>
    /// Serialises growing the pool.
    private let growLock = NSLock()

    private init() {
        wakeMutex = .allocate(capacity: 1)
        wakeCondition = .allocate(capacity: 1)
        pthread_mutex_init(wakeMutex, nil)
        pthread_cond_init(wakeCondition, nil)
    }

    /// Runs `body(part)` for every part in 0..<parts, on the caller and up to `threads − 1` workers; returns
    /// when all parts are done. The caller runs part 0 itself; parts 1… are taken in order, one at a time, by
    /// whoever is free — so with parts = threads the caller keeps the same slice of every step (the rows it
    /// wrote in the step before stay in its core's cache) and a late worker costs no more than running inline.
    func run(parts: Int, threads: Int, _ body: (Int) -> Void) {
        if parts <= 1 || threads <= 1
            || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        {
            for part in 0..<parts { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        let parts = min(parts, 0xFFFF)
        ensureWorkers(min(threads - 1, Self.maximumWorkers))
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { pointer in
                self.body = UnsafeRawPointer(pointer)
                finished.store(0, ordering: .relaxed)
                let generation = ((ticket.load(ordering: .relaxed) >> 32) &+ 1) & 0x7FFF_FFFF  // wraps after 2³¹ jobs
                let job = generation << 32 | parts << 16 | 1  // part 0 is the caller's
                ticket.store(job, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(wakeMutex)
                    pthread_cond_broadcast(wakeCondition)
                    pthread_mutex_unlock(wakeMutex)
                }
                body(0)
                finished.add(1, ordering: .relaxed)
                work(generation: generation)
                var spins = 0
                while finished.load(ordering: .acquiring) < parts {
                    spins += 1
                    if spins & 1023 == 0 { sched_yield() }  // a preempted worker gets the core back sooner
                }
                self.body = nil
            }
        }
    }

    /// Takes and runs parts of job `generation` until none is left (or the job is no longer current).
    private func work(generation: Int) {
        var current = ticket.load(ordering: .acquiring)
        while true {
            guard current >> 32 == generation else { return }
            let parts = (current >> 16) & 0xFFFF
            let part = current & 0xFFFF
            guard part < parts else { return }
            let (exchanged, original) = ticket.compareExchange(
                expected: current, desired: current &+ 1, ordering: .acquiringAndReleasing)
            if !exchanged {
                current = original
                continue
            }
            // This part is unfinished, so `body` is still the job's (the caller waits for it).
            Self.invoke(body!, part)
            finished.add(1, ordering: .releasing)
            current = ticket.load(ordering: .acquiring)
        }
    }

    /// Calls the job's closure; out of line so its copy is released before the part counts as finished.
    @inline(never)
    private static func invoke(_ body: UnsafeRawPointer, _ part: Int) {
        body.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
    }

    private func ensureWorkers(_ wanted: Int) {
        if workerCount.load(ordering: .acquiring) >= wanted { return }
        growLock.lock()
        defer { growLock.unlock() }
        while workerCount.load(ordering: .relaxed) < wanted {
            let index = workerCount.load(ordering: .relaxed)
            let thread = Thread { [self] in workerLoop() }
            thread.name = "gesturepad-kernel-\(index + 1)"
            thread.start()
            workerCount.store(index + 1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = ticket.load(ordering: .acquiring) >> 32
        while true {
            var generation = ticket.load(ordering: .acquiring) >> 32
            if generation == seen {
                let start = Self.now()
                var spins = 0
                while generation == seen {
                    spins += 1
                    if spins & 255 == 0 {
                        if Self.now() &- start > Self.spinNanoseconds {
                            sleep(whileGeneration: seen)
                            spins = 0
                        } else {
                            // Idle or sharing a core with other processes: let them run. On a busy machine the
                            // worker then comes back late and the caller has run the parts itself (measured: v1 1.0
                            // at 2 threads with the second core busy, 12.2 ms with the yield = 1 thread, 19 ms
                            // without: a preempted worker holding a part makes the caller wait).
                            sched_yield()
                        }
                    }
                    generation = ticket.load(ordering: .acquiring) >> 32
                }
            }
            seen = generation
            work(generation: generation)
        }
    }

    /// Sleeps until the job generation differs from `seen` (Dekker-style with `run`: a worker counts itself a
    /// sleeper before its last look at the ticket, a caller publishes before it looks for sleepers).
    private func sleep(whileGeneration seen: Int) {
        sleepers.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(wakeMutex)
        while ticket.load(ordering: .sequentiallyConsistent) >> 32 == seen {
            pthread_cond_wait(wakeCondition, wakeMutex)
        }
        pthread_mutex_unlock(wakeMutex)
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
    }

    @inline(__always)
    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
