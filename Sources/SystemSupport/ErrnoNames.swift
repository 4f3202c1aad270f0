// Errno names: swift-system's `Errno` describes itself with strerror(3) only ("Device or resource
// busy"); gesturepad's messages also name the value ("EBUSY, Device or resource busy") so a user can
// search for it. The table lists the values a V4L2 driver, libv4l2, uinput, sockets and files answer with.
#if canImport(Glibc)
    import Glibc
#endif

extension Errno {
    /// The symbolic name, such as "EBUSY" (or "errno 123" for values this table does not know).
    public var name: String {
        errnoNames[rawValue] ?? "errno \(rawValue)"
    }

    /// Name and the C library's message: "EBUSY, Device or resource busy".
    public var summary: String { "\(name), \(description)" }
}

/// Symbolic names by errno value (outside the extension, where `EPERM` means Glibc's Int32, not `Errno.EPERM`).
private let errnoNames: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
    EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
    EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY",
    EFBIG: "EFBIG", ENOSPC: "ENOSPC", EPIPE: "EPIPE", ERANGE: "ERANGE", ENOSYS: "ENOSYS", EPROTO: "EPROTO",
    EOVERFLOW: "EOVERFLOW", ETIMEDOUT: "ETIMEDOUT", ENOTSUP: "ENOTSUP", ESHUTDOWN: "ESHUTDOWN",
    EROFS: "EROFS", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", ELOOP: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG",
    ECONNREFUSED: "ECONNREFUSED", ECONNRESET: "ECONNRESET", EADDRINUSE: "EADDRINUSE", ENOTSOCK: "ENOTSOCK",
    EDQUOT: "EDQUOT", EXDEV: "EXDEV", ENOTEMPTY: "ENOTEMPTY",
]
