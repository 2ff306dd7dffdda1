// The one way Camera makes a system call that swift-system's FileDescriptor does not cover.
#if canImport(Glibc)
import Glibc
#endif

/// Runs one system call on a V4L2 node (`ioctl`, `poll`) the way apple/swift-system and
/// swift-nio do: a call interrupted by a signal (EINTR) is made again, and any other failure
/// (`-1` with errno set) becomes ``CameraError/deviceCall(device:call:errno:)`` naming the
/// device and the call, so the message says what failed where and what to check.
///
/// Opening and closing the node go through swift-system's `FileDescriptor`, which retries
/// EINTR itself.
@discardableResult
func systemCall<Result: FixedWidthInteger>(
    _ call: String, device: String, _ body: () -> Result
) throws(CameraError) -> Result {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let code = errno
        if code == EINTR { continue }
        throw .deviceCall(device: device, call: call, errno: code)
    }
}

extension CameraError {
    /// The errno of a failed system call; nil for the cases that are not one.
    var systemCallErrno: Int32? {
        if case .deviceCall(_, _, let code) = self { return code }
        return nil
    }
}
