// The RS-485 line as a tty: opened with termios in raw mode, 8N1, at OSDP's baud rates.
#if canImport(Glibc)
import Glibc
#endif

/// One open serial line. The descriptor is closed when the port goes away; one owner (the
/// line's thread) reads and writes it.
package final class OSDPSerialPort: @unchecked Sendable {
    // @unchecked: the descriptor is used by one thread at a time (created by the starter, then
    // handed to the line's thread); nothing else touches it.
    package let path: String
    private let descriptor: Int32

    /// Opens `path` (a tty: /dev/ttyUSB0, /dev/ttyAMA0, a pty) in raw mode, 8 data bits, no
    /// parity, 1 stop bit, no flow control, at `baud`, and takes an exclusive `flock` on it so a
    /// second program (kioskctl while kioskd runs) is told the line is busy.
    /// The corresponding C functions are `open`, `flock`, `tcgetattr`, `cfmakeraw`,
    /// `cfsetispeed`, `cfsetospeed` and `tcsetattr`.
    package init(path: String, baud: Int) throws(OSDPSerialError) {
        guard let speed = Self.speed(baud) else { throw .unsupportedBaud(baud) }
        let descriptor = Self.retrying { open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) }
        guard descriptor >= 0 else { throw .openFailed(path: path, errno: errno) }
        self.path = path
        self.descriptor = descriptor
        // From here on deinit closes the descriptor on every error path.
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { throw .busy(path: path) }
            throw .configurationFailed(path: path, operation: "flock", errno: errno)
        }
        try configure(speed: speed)
    }

    deinit { close(descriptor) }

    private func configure(speed: speed_t) throws(OSDPSerialError) {
        var options = termios()
        guard tcgetattr(descriptor, &options) == 0 else { throw .configurationFailed(path: path, operation: "tcgetattr", errno: errno) }
        cfmakeraw(&options)
        // 8N1, receiver on, modem lines ignored (RS-485 adapters have none that matter).
        options.c_cflag &= ~(tcflag_t(PARENB) | tcflag_t(CSTOPB) | tcflag_t(CSIZE) | tcflag_t(CRTSCTS))
        options.c_cflag |= tcflag_t(CS8) | tcflag_t(CREAD) | tcflag_t(CLOCAL)
        options.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        guard cfsetispeed(&options, speed) == 0 else { throw .configurationFailed(path: path, operation: "cfsetispeed", errno: errno) }
        guard cfsetospeed(&options, speed) == 0 else { throw .configurationFailed(path: path, operation: "cfsetospeed", errno: errno) }
        guard tcsetattr(descriptor, TCSANOW, &options) == 0 else {
            throw .configurationFailed(path: path, operation: "tcsetattr", errno: errno)
        }
    }

    /// Switches the line to `baud` (after osdp_COMSET's reply has gone out).
    package func setBaud(_ baud: Int) throws(OSDPSerialError) {
        guard let speed = Self.speed(baud) else { throw .unsupportedBaud(baud) }
        // Let the reply leave at the old speed first.
        _ = tcdrain(descriptor)
        try configure(speed: speed)
    }

    /// Waits up to `timeout` for bytes and returns what is there (empty: nothing came).
    /// The corresponding C functions are `poll` and `read`.
    package func read(timeout: Duration) throws(OSDPSerialError) -> [UInt8] {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = Self.retrying { poll(&request, 1, milliseconds) }
        guard ready >= 0 else { throw .ioFailed(path: path, operation: "poll", errno: errno) }
        guard ready > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { raw in Self.retrying { Glibc.read(descriptor, raw.baseAddress, raw.count) } }
        if count < 0 {
            if errno == EAGAIN { return [] }
            if errno == EIO { throw .hungUp(path: path) }
            throw .ioFailed(path: path, operation: "read", errno: errno)
        }
        // Readable but nothing to read: the other end is gone (a closed pty, an unplugged adapter).
        if count == 0 { throw .hungUp(path: path) }
        return Array(buffer[..<count])
    }

    /// Writes all of `bytes`, waiting for the line when its buffer is full.
    /// The corresponding C functions are `write` and `poll`.
    package func write(_ bytes: [UInt8]) throws(OSDPSerialError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { raw in Self.retrying { Glibc.write(descriptor, raw.baseAddress, raw.count) } }
            if written >= 0 {
                offset += written
                continue
            }
            guard errno == EAGAIN else {
                if errno == EIO { throw .hungUp(path: path) }
                throw .ioFailed(path: path, operation: "write", errno: errno)
            }
            var request = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            guard Self.retrying({ poll(&request, 1, 1000) }) > 0 else { throw .ioFailed(path: path, operation: "write", errno: EAGAIN) }
        }
    }

    /// A call interrupted by a signal (EINTR) is made again.
    static func retrying<Result: FixedWidthInteger>(_ call: () -> Result) -> Result {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }

    static func speed(_ baud: Int) -> speed_t? {
        switch baud {
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115_200: speed_t(B115200)
        case 230_400: speed_t(B230400)
        default: nil
        }
    }
}
