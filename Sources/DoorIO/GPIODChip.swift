// The one owner of a libgpiod 1.6 chip handle, and the helpers that turn its errors into DoorIOError.
import CGPIOD
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Owns one `struct gpiod_chip *`. Closing the chip releases every line requested through it,
/// so a `GPIODChip` is the owner of its line requests too.
///
/// `@unchecked Sendable`: every use of the handle and its lines goes through `lock`, so no two
/// threads touch libgpiod's per-chip state at once; the handle is closed exactly once.
final class GPIODChip: @unchecked Sendable {
    /// What the chip was opened as (the configured text).
    let requested: String
    /// The kernel's name (`gpiochip0`) and label (`pinctrl-bcm2711`).
    let name: String
    let label: String
    let lineCount: Int
    private let handle: OpaquePointer
    private let lock = Mutex(false)  // true once closed

    /// Opens a chip by name, label, path or number (`gpiod_chip_open_lookup`).
    init(lookup text: String) throws(DoorIOError) {
        guard let chip = gpiod_chip_open_lookup(text) else {
            let code = errno
            throw .chipNotFound(chip: text, errno: code == 0 ? ENOENT : code, available: GPIODChip.presentChipSummaries())
        }
        handle = chip
        requested = text
        name = String(cString: gpiod_chip_name(chip))
        label = String(cString: gpiod_chip_label(chip))
        lineCount = Int(gpiod_chip_num_lines(chip))
    }

    deinit { close() }

    /// Closes the chip (releasing its lines). Safe to call more than once.
    func close() {
        lock.withLock { closed in
            if !closed {
                gpiod_chip_close(handle)
                closed = true
            }
        }
    }

    /// Runs `body` with the chip handle while holding the lock; throws `notRunning` once closed.
    func withHandle<T>(_ operation: String, _ body: (OpaquePointer) throws(DoorIOError) -> T) throws(DoorIOError) -> T {
        let result: Result<T, DoorIOError> = lock.withLock { closed in
            if closed { return .failure(.notRunning(operation: "\(operation) on \(name)")) }
            do throws(DoorIOError) { return .success(try body(handle)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    var summary: String { "\(name) [\(label)] \(lineCount) lines" }

    /// Finds a line by offset or name; the error lists what exists. Call inside `withHandle`.
    func line(_ selector: GPIOLineSelector, role: String, in chip: OpaquePointer) throws(DoorIOError) -> OpaquePointer {
        let found: OpaquePointer?
        switch selector {
        case .offset(let offset):
            found = offset < UInt32(lineCount) ? gpiod_chip_get_line(chip, offset) : nil
        case .name(let lineName):
            found = gpiod_chip_find_line(chip, lineName)
        }
        guard let found else {
            throw .lineNotFound(chip: name, line: selector, role: role, lineCount: lineCount, available: lineNames(chip))
        }
        return found
    }

    /// `name (offset)` for each named line, for error messages.
    private func lineNames(_ chip: OpaquePointer) -> [String] {
        (0..<UInt32(lineCount)).compactMap { offset in
            guard let line = gpiod_chip_get_line(chip, offset), let cName = gpiod_line_name(line) else { return nil }
            return "\(String(cString: cName)) (\(offset))"
        }
    }

    /// Describes a resolved line for errors.
    func describe(_ line: OpaquePointer, role: String, selector: GPIOLineSelector) -> GPIOLineDescription {
        GPIOLineDescription(
            role: role, selector: selector, offset: gpiod_line_offset(line),
            name: gpiod_line_name(line).map { String(cString: $0) })
    }

    /// Turns a failed request into `lineBusy` (naming the holder) or `lineOperationFailed`.
    func requestError(_ line: OpaquePointer, role: String, selector: GPIOLineSelector, operation: String, errno code: Int32) -> DoorIOError
    {
        let description = describe(line, role: role, selector: selector)
        if code == EBUSY {
            // The line info is cached since it was first read; refresh it to learn the holder.
            _ = gpiod_line_update(line)
            let consumer = gpiod_line_consumer(line).map { String(cString: $0) }
            return .lineBusy(chip: name, line: description, consumer: consumer)
        }
        return .lineOperationFailed(chip: name, line: description, operation: operation, errno: code)
    }

    /// "gpiochip0 [pinctrl-bcm2711] (58 lines)" for every chip under /dev, for error messages.
    static func presentChipSummaries() -> [String] {
        GPIOInventory.chipPaths().compactMap { path in
            guard let chip = gpiod_chip_open(path) else { return nil }
            defer { gpiod_chip_close(chip) }
            return
                "\(String(cString: gpiod_chip_name(chip))) [\(String(cString: gpiod_chip_label(chip)))] (\(gpiod_chip_num_lines(chip)) lines)"
        }
    }
}

/// libgpiod request flags for a line's settings.
func gpiodFlags(activeLow: Bool, bias: GPIOBias = .asIs) -> Int32 {
    var flags: Int32 = 0
    if activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
    switch bias {
    case .asIs: break
    case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
    case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
    case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
    }
    return flags
}
