// The serial line's errors: the call, the device, errno's message and what to do next.
#if canImport(Glibc)
import Glibc
#endif

/// A serial line operation that failed.
package enum OSDPSerialError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `open` failed.
    case openFailed(path: String, errno: Int32)
    /// Another process holds the line (an exclusive `flock`), usually kioskd.
    case busy(path: String)
    /// A termios call (`tcgetattr`, `cfsetispeed`, `tcsetattr`, ...) failed.
    case configurationFailed(path: String, operation: String, errno: Int32)
    /// The baud rate is not one OSDP uses.
    case unsupportedBaud(Int)
    /// `read`, `write` or `poll` failed.
    case ioFailed(path: String, operation: String, errno: Int32)
    /// The line went away (USB adapter unplugged, pty closed).
    case hungUp(path: String)
    /// The reading thread could not be started.
    case threadFailed(errno: Int32)

    package var description: String {
        switch self {
        case .openFailed(let path, let code):
            let hint =
                code == ENOENT
                ? "check osdp.port (is the USB-RS485 adapter plugged in? ls /dev/ttyUSB* /dev/serial/by-id/)"
                : code == EACCES ? "add the service user to the dialout group" : "check osdp.port"
            return "cannot open \(path): \(Self.message(code)); \(hint)"
        case .busy(let path):
            return "\(path) is held by another process (kioskd?); stop it first (systemctl stop kioskd)"
        case .configurationFailed(let path, let operation, let code):
            return "\(operation) on \(path) failed: \(Self.message(code)); is it a serial device (a tty)?"
        case .unsupportedBaud(let baud):
            return "baud \(baud) is not one of \(OSDPCommunicationSettings.baudRates.map(String.init).joined(separator: ", "))"
        case .ioFailed(let path, let operation, let code):
            return "\(operation) on \(path) failed: \(Self.message(code)); check the adapter and its cable"
        case .hungUp(let path):
            return "\(path) hung up (adapter unplugged?); the reader retries until it is back"
        case .threadFailed(let code):
            return "cannot start the OSDP line thread: \(Self.message(code))"
        }
    }

    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: text)) (errno \(code))"
    }
}
