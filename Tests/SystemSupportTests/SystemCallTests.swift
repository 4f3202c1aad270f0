// SystemCall: errno is captured from the failing call (not from whatever ran after it), EINTR is
// retried a bounded number of times and only EINTR, and Errno's names read as the messages print them.
import Glibc
import Testing

@testable import SystemSupport

@Suite("SystemCall")
struct SystemCallTests {
    /// A call that fails with EINTR `interruptions` times, then succeeds with `value` (or fails with `finalErrno`).
    final class InterruptedCall {
        let interruptions: Int
        let finalErrno: Int32?
        private(set) var calls = 0

        init(interruptions: Int, finalErrno: Int32? = nil) {
            self.interruptions = interruptions
            self.finalErrno = finalErrno
        }

        func callAsFunction() -> Int32 {
            calls += 1
            if calls <= interruptions {
                errno = EINTR
                return -1
            }
            if let finalErrno {
                errno = finalErrno
                return -1
            }
            return 42
        }
    }

    @Test("EINTR is retried until the call succeeds", arguments: [0, 1, 5, 99])
    func retriesInterruptions(interruptions: Int) {
        let call = InterruptedCall(interruptions: interruptions)
        let outcome = SystemCall.result(retryOnInterrupt: true) { call() }
        #expect(outcome == .success(42))
        #expect(call.calls == interruptions + 1)
    }

    @Test("a call interrupted every time gives up after the limit with EINTR")
    func givesUpAfterLimit() {
        let call = InterruptedCall(interruptions: .max)
        let outcome = SystemCall.result(retryOnInterrupt: true) { call() }
        #expect(outcome == .failure(.interrupted))
        #expect(call.calls == SystemCall.maximumInterruptAttempts)
    }

    @Test("without retryOnInterrupt, EINTR is the result of the first call")
    func noRetryByDefault() {
        let call = InterruptedCall(interruptions: 3)
        #expect(SystemCall.result { call() } == .failure(.interrupted))
        #expect(call.calls == 1)
    }

    @Test("other errors are not retried", arguments: [EBADF, EAGAIN, ENOSPC])
    func otherErrorsReturnAtOnce(errorNumber: Int32) {
        let call = InterruptedCall(interruptions: 2, finalErrno: errorNumber)
        #expect(SystemCall.result(retryOnInterrupt: true) { call() } == .failure(Errno(rawValue: errorNumber)))
        #expect(call.calls == 3)
    }

    @Test("the errno of the failed call is kept when later calls change errno")
    func errnoCapturedImmediately() {
        let missing = SystemCall.result { open("/nonexistent-gesturepad-\(getpid())/file", O_RDONLY) }
        _ = close(-1)  // sets errno to EBADF
        #expect(errno == EBADF)
        #expect(missing == .failure(.noSuchFileOrDirectory))
        #expect(SystemCall.result { close(-1) } == .failure(.badFileDescriptor))
    }

    @Test("a successful call returns its value even when errno holds an old error")
    func successIgnoresStaleErrno() {
        errno = EIO
        let descriptor = SystemCall.result { open("/dev/null", O_RDONLY | O_CLOEXEC) }
        guard case .success(let value) = descriptor else {
            Issue.record("open(/dev/null) failed: \(descriptor)")
            return
        }
        #expect(value >= 0)
        close(value)
    }

    @Test("shim calls report the errno the shim stored, not the global one")
    func shimResultUsesStoredErrno() {
        errno = EIO
        let failed = SystemCall.shimResult { errorNumber -> Int32 in
            errorNumber.pointee = ENODEV
            return -1
        }
        #expect(failed == .failure(.operationNotSupportedByDevice))
        #expect(SystemCall.shimResult { _ -> Int in 7 } == .success(7))
    }

    @Test("Errno names: symbolic name plus the C library's message")
    func names() {
        #expect(Errno.resourceBusy.summary == "EBUSY, Device or resource busy")
        #expect(Errno(rawValue: 9999).name == "errno 9999")
        #expect(Errno.noSpace.name == "ENOSPC")
    }
}
