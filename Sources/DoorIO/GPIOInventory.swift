// What GPIO chips and lines exist, and one-off line operations for `kioskctl gpio`.
import CGPIOD

#if canImport(Glibc)
import Glibc
#endif

/// A line as the kernel reports it.
package struct GPIOLineInfo: Sendable, Hashable {
    /// The line's offset on its chip.
    package var offset: UInt32
    /// The line name, if the driver or device tree gives one.
    package var name: String?
    /// Who holds the line (`kioskd`, a kernel driver...), if anyone.
    package var consumer: String?
    /// True when the line is requested (by a process or the kernel).
    package var used: Bool
    /// True when the line is configured as an output.
    package var isOutput: Bool
    /// True when the holder requested it active-low.
    package var activeLow: Bool
    /// The bias the kernel reports, or nil when unknown.
    package var bias: GPIOBias?
}

/// A GPIO chip as the kernel reports it.
package struct GPIOChipInfo: Sendable, Hashable {
    /// The device path, e.g. `/dev/gpiochip0`.
    package var path: String
    /// The kernel name, e.g. `gpiochip0`.
    package var name: String
    /// The driver's label, e.g. `pinctrl-bcm2711` (Pi 4) or `pinctrl-rp1` (Pi 5).
    package var label: String
    /// Every line, by offset.
    package var lines: [GPIOLineInfo]
}

/// Read-only discovery of GPIO chips and lines (what `gpiodetect` and `gpioinfo` show).
package enum GPIOInventory {
    /// `/dev/gpiochipN` paths present, in numeric order.
    package static func chipPaths() -> [String] {
        guard let dir = opendir("/dev") else { return [] }
        defer { closedir(dir) }
        var numbers: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("gpiochip"), let number = Int(name.dropFirst("gpiochip".count)) { numbers.append(number) }
        }
        return numbers.sorted().map { "/dev/gpiochip\($0)" }
    }

    /// Every chip with its lines; chips that cannot be opened (permissions) are skipped.
    package static func chips() -> [GPIOChipInfo] {
        chipPaths().compactMap { try? chip($0) }
    }

    /// One chip by name, label, path or number, with its lines.
    package static func chip(_ text: String) throws(DoorIOError) -> GPIOChipInfo {
        let chip = try GPIODChip(lookup: text)
        defer { chip.close() }
        return try chip.withHandle("list lines") { handle in
            let lines = (0..<UInt32(chip.lineCount)).compactMap { offset -> GPIOLineInfo? in
                guard let line = gpiod_chip_get_line(handle, offset) else { return nil }
                let bias: GPIOBias? =
                    switch gpiod_line_bias(line) {
                    case Int32(GPIOD_LINE_BIAS_DISABLE): .disabled
                    case Int32(GPIOD_LINE_BIAS_PULL_UP): .pullUp
                    case Int32(GPIOD_LINE_BIAS_PULL_DOWN): .pullDown
                    default: nil
                    }
                return GPIOLineInfo(
                    offset: offset,
                    name: gpiod_line_name(line).map { String(cString: $0) },
                    consumer: gpiod_line_consumer(line).map { String(cString: $0) },
                    used: gpiod_line_is_used(line),
                    isOutput: gpiod_line_direction(line) == Int32(GPIOD_LINE_DIRECTION_OUTPUT),
                    activeLow: gpiod_line_active_state(line) == Int32(GPIOD_LINE_ACTIVE_STATE_LOW),
                    bias: bias)
            }
            return GPIOChipInfo(path: "/dev/\(chip.name)", name: chip.name, label: chip.label, lines: lines)
        }
    }

    /// Finds which chip has a line of this name (line names are unique on a well-made board).
    package static func findLine(named name: String) -> (chip: String, offset: UInt32)? {
        for info in chips() {
            if let line = info.lines.first(where: { $0.name == name }) { return (info.name, line.offset) }
        }
        return nil
    }

    /// Reads an input's logical level once (requests it as input, reads, releases).
    package static func read(chip text: String, line config: GPIOInputLine, consumer: String) throws(DoorIOError) -> Bool {
        let chip = try GPIODChip(lookup: text)
        defer { chip.close() }
        return try chip.withHandle("read") { handle throws(DoorIOError) in
            let line = try chip.line(config.line, role: "line", in: handle)
            let flags = gpiodFlags(activeLow: config.activeLow, bias: config.bias)
            if gpiod_line_request_input_flags(line, consumer, flags) != 0 {
                throw chip.requestError(line, role: "line", selector: config.line, operation: "request as input", errno: errno)
            }
            let value = gpiod_line_get_value(line)
            if value < 0 {
                throw .lineOperationFailed(
                    chip: chip.name, line: chip.describe(line, role: "line", selector: config.line),
                    operation: "read value", errno: errno)
            }
            return value == 1
        }
    }
}

/// One output line held for a while (`kioskctl gpio set`/`pulse`); released on `release()` or deinit.
package final class GPIOHeldOutput: Sendable {
    private let chip: GPIODChip
    private let output: GPIODOutput
    /// The chip's kernel name.
    package var chipName: String { chip.name }

    /// Requests the line as an output at the given logical level.
    package init(chip text: String, line: GPIOOutputLine, role: String = "line", consumer: String, active: Bool) throws(DoorIOError) {
        chip = try GPIODChip(lookup: text)
        do throws(DoorIOError) {
            output = try GPIODOutput(chip: chip, role: role, config: line, consumer: consumer, initiallyActive: active)
        } catch {
            chip.close()
            throw error
        }
    }

    deinit { chip.close() }

    /// Drives the line to a logical level.
    package func set(active: Bool) throws(DoorIOError) { try output.set(active: active) }

    /// Releases the line to the kernel (what the pin does then depends on the driver; see docs/DOORIO.md).
    package func release() { chip.close() }
}
