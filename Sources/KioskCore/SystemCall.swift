// The one way KioskCore makes a system call that swift-system's FileDescriptor does not cover.
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs one system call on a file the agent writes (`fchmod`, `fchown`, `rename`) the way
/// apple/swift-system and swift-nio do: a call interrupted by a signal (EINTR) is made again,
/// and any other failure (`-1` with errno set) is thrown as swift-system's `Errno`, the same
/// error its `FileDescriptor` throws for open, write and close. Callers turn it into their
/// typed error (``StatusWriteError``, ``ImageKeeperError``) with the step that failed.
@discardableResult
func systemCall<Result: FixedWidthInteger>(_ body: () -> Result) throws(Errno) -> Result {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let code = Errno(rawValue: errno)
        if code == .interrupted { continue }
        throw code
    }
}
