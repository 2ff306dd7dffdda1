// The one way DoorIO makes a system call on a descriptor that swift-system does not cover.
#if canImport(Glibc)
import Glibc
#endif

/// Runs one call on an input-monitoring descriptor (`poll`, libgpiod's
/// `gpiod_line_event_read_fd`) the way apple/swift-system and swift-nio do: a call interrupted
/// by a signal (EINTR) is made again, and any other failure (`-1` with errno set) becomes
/// ``DoorIOError/monitorFailed(chip:operation:errno:)`` naming the chip and the call.
///
/// The stop pipe is created, written and closed through swift-system's `FileDescriptor`,
/// which retries EINTR itself. libgpiod's request and value calls report through
/// `GPIODChip.requestError` and ``DoorIOError/lineOperationFailed(chip:line:operation:errno:)``.
@discardableResult
func systemCall<Result: FixedWidthInteger>(
    _ call: String, chip: String, _ body: () -> Result
) throws(DoorIOError) -> Result {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let code = errno
        if code == EINTR { continue }
        throw .monitorFailed(chip: chip, operation: call, errno: code)
    }
}
