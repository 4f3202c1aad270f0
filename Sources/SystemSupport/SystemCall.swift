// SystemCall: the one place gesturepad turns a C call's "-1 and errno" into a `Result<_, Errno>` and
// the one place EINTR is retried. This target (SystemSupport) is gesturepad's OS layer, built on
// swift-system: its `Errno` is the errno type everywhere, its `FileDescriptor` (open, read, write,
// close with `retryOnInterrupt:`) does plain file I/O; what swift-system lacks (fsync, rename,
// sockets, flock, chmod, …) and the seams over the C shims (CV4L2, CUInput: ioctl, mmap, poll) go
// through `SystemCall`. Invariant: errno is read in the same function that sees the failed result,
// before any other Swift code can run and overwrite it (swift-system `Internals/Util.swift` valueOrErrno).
@_exported import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Running C system calls: errno captured at once, EINTR retried in one place.
public enum SystemCall {
    /// Attempts before an interrupted call (EINTR every time) is reported as failed with EINTR.
    public static let maximumInterruptAttempts = 100

    /// Runs `call`, a C function that returns -1 and sets errno on failure, and reads errno immediately
    /// after it; with `retryOnInterrupt`, an EINTR failure runs the call again (`retryingOnInterrupt`).
    @inline(__always)
    public static func result<Value: FixedWidthInteger>(
        retryOnInterrupt: Bool = false, _ call: () -> Value
    ) -> Result<Value, Errno> {
        func once() -> Result<Value, Errno> {
            let value = call()
            return value == -1 ? .failure(Errno(rawValue: errno)) : .success(value)
        }
        return retryOnInterrupt ? retryingOnInterrupt(once) : once()
    }

    /// Runs `call`, a C shim function (CV4L2_*, CUINPUT_*) that stores errno into its last argument
    /// right after the underlying call; a negative result is a failure with that errno.
    @inline(__always)
    public static func shimResult<Value: FixedWidthInteger>(
        _ call: (_ errorNumber: UnsafeMutablePointer<Int32>) -> Value
    ) -> Result<Value, Errno> {
        var errorNumber: Int32 = 0
        let value = call(&errorNumber)
        return value < 0 ? .failure(Errno(rawValue: errorNumber)) : .success(value)
    }

    /// Runs `call` again while it fails with EINTR (a signal arrived before the call did anything), at
    /// most `maximumInterruptAttempts` times in all; then returns the last outcome.
    ///
    /// Never wrap close(2): Linux releases the descriptor before reporting EINTR, so a retry could close
    /// a descriptor another thread has just been given.
    public static func retryingOnInterrupt<Value>(
        maximumAttempts: Int = maximumInterruptAttempts, _ call: () -> Result<Value, Errno>
    ) -> Result<Value, Errno> {
        var outcome = call()
        var attempts = 1
        while attempts < maximumAttempts, case .failure(.interrupted) = outcome {
            outcome = call()
            attempts += 1
        }
        return outcome
    }
}
