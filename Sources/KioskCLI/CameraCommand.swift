// `kioskctl camera`: what an installer needs to see that the camera works, through the same
// Camera and Imaging modules the daemon uses.
package import ArgumentParser
import Camera
import Foundation
import Imaging
import KioskCore

/// `kioskctl camera list|formats|controls|snapshot|fps`.
package struct CameraCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "camera",
        abstract: "Check the camera: devices, formats, controls, a snapshot, the frame rate.",
        discussion: """
            DEVICE is /dev/videoN, a /dev/v4l/by-id/... path, or just the by-id name (stable across \
            reboots and USB ports); the default is camera.device from the configuration \
            (--config), else /dev/video0. Stop kioskd first: a camera streams to one program at a \
            time (the error says "busy" otherwise, exit 75).
            """,
        subcommands: [
            CameraListCommand.self, CameraFormatsCommand.self, CameraControlsCommand.self,
            CameraSnapshotCommand.self, CameraFPSCommand.self,
        ]
    )

    package init() {}
}

/// The device option shared by the camera commands.
struct CameraDeviceOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Camera device (path or by-id name; default: camera.device, else /dev/video0).")
    var device: String?

    /// `--device`, else the configured camera when a configuration file is in use, else /dev/video0.
    func resolve(_ global: GlobalOptions) async throws -> String {
        if let device { return device }
        guard global.configurationFile != nil else { return CameraConfiguration().device }
        return try await global.loadConfiguration().camera.device
    }
}

/// Capture options shared by snapshot and fps.
struct CameraCaptureOptions: ParsableArguments {
    @Option(help: "Frame width to ask for.")
    var width = 640

    @Option(help: "Frame height to ask for.")
    var height = 480

    @Option(help: "Frame rate to ask for.")
    var rate = 15.0

    @Option(help: "Pixel formats to try, in order (mjpeg, yuyv, bgr24, rgb24, grey), comma-separated.")
    var formats = "mjpeg,yuyv,bgr24,rgb24,grey"

    @Option(name: .customLong("set"), help: "Set a control first, NAME=VALUE (repeatable), e.g. power_line_frequency=50.")
    var controls: [String] = []

    func validate() throws {
        guard width > 0, height > 0, rate > 0 else { throw ValidationError("--width, --height and --rate must be positive") }
        _ = try parsedFormats()
        _ = try parsedControls()
    }

    func parsedFormats() throws -> [CapturePixelFormat] {
        try formats.split(separator: ",").map { name in
            guard let format = CapturePixelFormat(rawValue: name.lowercased()) else {
                throw ValidationError("unknown format \"\(name)\": use mjpeg, yuyv, bgr24, rgb24 or grey")
            }
            return format
        }
    }

    func parsedControls() throws -> [ControlSetting] {
        try controls.map(CameraControlsCommand.parseSetting)
    }

    func configuration(device: String) throws -> CameraConfiguration {
        var configuration = CameraConfiguration(device: device)
        configuration.width = width
        configuration.height = height
        configuration.framesPerSecond = rate
        configuration.formats = try parsedFormats()
        configuration.controls = try parsedControls()
        return configuration
    }
}

struct CameraListCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the video capture devices present.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let devices = V4L2Camera.listDevices()
        if devices.isEmpty {
            throw CommandFailure(
                .failure, "no video capture device found: check the cable, `dmesg | tail`, and that the uvcvideo driver is loaded")
        }
        if global.json {
            JSONOutput.print([
                "devices": devices.map { info, names -> [String: Any] in
                    [
                        "node": info.node, "card": info.card, "driver": info.driver, "bus": info.busInfo,
                        "can_stream": info.canStream, "by_id": names,
                    ]
                }
            ])
            return
        }
        for (info, names) in devices {
            print(
                "\(info.node)  \(info.card)  [driver \(info.driver), \(info.busInfo)]\(info.canStream ? "" : "  (no streaming I/O: unusable)")"
            )
            for name in names { print("    by-id: \(name)") }
        }
    }
}

struct CameraFormatsCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats", abstract: "List the pixel formats, sizes and frame rates a camera offers."
    ).compactUsage("kioskctl camera formats [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: CameraDeviceOptions

    func run() async throws {
        let device = try await options.resolve(global)
        let info = try V4L2Camera.info(device: device)
        let formats = try V4L2Camera.formats(device: device)
        if global.json {
            JSONOutput.print([
                "device": info.node, "card": info.card, "driver": info.driver,
                "formats": formats.map { format -> [String: Any] in
                    [
                        "fourcc": format.fourcc, "description": format.description,
                        "usable": CapturePixelFormat.allCases.contains { $0.fourcc == format.fourcc },
                        "sizes": format.sizes.map { ["width": $0.width, "height": $0.height, "fps": $0.framesPerSecond] },
                    ]
                },
            ])
            return
        }
        print("\(info.node): \(info.card) [driver \(info.driver)]")
        for format in formats {
            let usable = CapturePixelFormat.allCases.contains { $0.fourcc == format.fourcc }
            print("\(format.fourcc)  \(format.description)\(usable ? "  (usable)" : "")")
            for size in format.sizes {
                let rates = size.framesPerSecond.map { $0 == $0.rounded() ? String(Int($0)) : String(format: "%.2f", $0) }
                print("    \(size.width)x\(size.height)" + (rates.isEmpty ? "" : "  fps: \(rates.joined(separator: ", "))"))
            }
            if format.sizes.isEmpty { print("    (continuous or stepwise sizes)") }
        }
    }
}

struct CameraControlsCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "controls",
        abstract: "List a camera's controls, or set some with --set NAME=VALUE.",
        discussion: """
            Values may be numbers, menu item names or their start (power_line_frequency=50, \
            exposure_auto=manual), or on/off. Settings last until the camera is unplugged or kioskd \
            re-applies its configured ones; put lasting settings in kioskd.yaml (camera.controls).
            """
    ).compactUsage("kioskctl camera controls [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: CameraDeviceOptions

    @Option(name: .customLong("set"), help: "NAME=VALUE to set (repeatable, applied in order).")
    var settings: [String] = []

    func validate() throws {
        for setting in settings { _ = try Self.parseSetting(setting) }
    }

    static func parseSetting(_ text: String) throws -> ControlSetting {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("\"\(text)\" is not NAME=VALUE (e.g. brightness=140)")
        }
        return ControlSetting(name: parts[0], value: parts[1])
    }

    func run() async throws {
        let device = try await options.resolve(global)
        var changed: [[String: Any]] = []
        for setting in settings {
            let parsed = try Self.parseSetting(setting)
            let value = try V4L2Camera.setControl(device: device, parsed)
            changed.append(["name": parsed.name, "value": value])
            if !global.json { print("set \(parsed.name) = \(value)") }
        }
        let controls = try V4L2Camera.controls(device: device)
        if global.json {
            JSONOutput.print([
                "device": device, "set": changed,
                "controls": controls.map { control -> [String: Any] in
                    var item: [String: Any] = [
                        "name": control.name, "kind": control.kind.rawValue, "minimum": control.minimum,
                        "maximum": control.maximum, "step": control.step, "default": control.defaultValue,
                        "read_only": control.isReadOnly, "inactive": control.isInactive,
                        "menu": control.menu.map { ["value": $0.value, "name": $0.name] },
                    ]
                    if let value = control.value { item["value"] = value }
                    return item
                },
            ])
            return
        }
        for control in controls {
            var line =
                "\(control.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(control.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))"
            if let value = control.value {
                let item = control.menu.first { $0.value == value }.map { " (\($0.name))" } ?? ""
                line += " value=\(value)\(item)"
            }
            if control.kind == .integer { line += " range=\(control.minimum)...\(control.maximum) step=\(control.step)" }
            line += " default=\(control.defaultValue)"
            if control.isReadOnly { line += " read-only" }
            if control.isInactive { line += " inactive" }
            print(line)
            if !control.menu.isEmpty {
                print("    " + control.menu.map { "\($0.value)=\($0.name)" }.joined(separator: ", "))
            }
        }
    }
}

struct CameraSnapshotCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Capture one frame and write it as a JPEG (check aim, focus and lighting).",
        discussion: """
            The file may show a person's face: it is written mode 0600, never over an existing \
            file unless --force is given; delete it once the camera is set up.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: CameraDeviceOptions
    @OptionGroup var capture: CameraCaptureOptions

    @Option(name: .shortAndLong, help: "Where to write the JPEG.")
    var out: String

    @Option(help: "JPEG quality when the frame has to be encoded (YUYV cameras).")
    var quality = 90

    @Option(help: "Frames to skip first, so auto exposure settles.")
    var warmUp = 5

    @Flag(help: "Replace the --out file if it exists.")
    var force = false

    func run() async throws {
        let device = try await options.resolve(global)
        // Refuse before touching the camera, not after a capture.
        if !force, FileManager.default.fileExists(atPath: out) {
            throw CommandFailure(.outputFile, "\(out) exists: give --force to replace it, or choose another name")
        }
        let (frame, format) = try V4L2Camera.captureOne(capture.configuration(device: device), warmUp: warmUp)
        let decoder = try JPEGDecoder()
        let jpeg = try frame.jpegBytes(quality: quality, using: decoder, encoder: JPEGEncoder())
        // Decoding once proves the frame is usable, not just present.
        _ = try decoder.header(jpeg)
        try FaceFile.write(jpeg, to: out, force: force)
        if global.json {
            JSONOutput.print(["file": out, "device": device, "format": "\(format)", "bytes": jpeg.count])
        } else {
            print("\(out): \(format), \(jpeg.count) bytes")
        }
    }
}

struct CameraFPSCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "fps",
        abstract: "Stream for a while and report the frame rate, drops and damaged frames.",
        discussion: """
            Frames are decoded as the daemon does (to ~320x240 for detection), so damaged MJPEG \
            frames are counted. A rate well below the one asked usually means poor light (the \
            camera lengthens exposure: try power_line_frequency and exposure settings) or USB bandwidth.
            """
    ).compactUsage("kioskctl camera fps [<options>]")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: CameraDeviceOptions
    @OptionGroup var capture: CameraCaptureOptions

    @Option(help: "How long to stream, in seconds.")
    var seconds = 5.0

    func validate() throws {
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in 0...3600") }
    }

    func run() async throws {
        let device = try await options.resolve(global)
        let camera = V4L2Camera(configuration: try capture.configuration(device: device))
        let decoder = try JPEGDecoder()
        let start = MonotonicTime.now()
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        var decoded = 0
        var decodeTime = Duration.zero
        for try await frame in camera.frames() {
            let before = MonotonicTime.now()
            do {
                _ = try frame.decoded(to: .gray8, atLeastWidth: 320, height: 240, using: decoder)
                decoded += 1
                decodeTime += MonotonicTime.now().duration(since: before)
            } catch {
                camera.reportCorrupt()
            }
            if MonotonicTime.now().duration(since: start) >= limit { break }
        }
        let stats = camera.statistics
        let perFrame = decoded > 0 ? decodeTime.aimMilliseconds / Double(decoded) : nil
        if global.json {
            var object: [String: Any] = [
                "device": device, "negotiated": camera.negotiated.map { "\($0)" } ?? NSNull(), "seconds": seconds,
                "frames": stats.captured, "fps": AimSample.rounded(stats.framesPerSecond, 2), "dropped": stats.dropped,
                "damaged": stats.corrupt, "stalls": stats.stalls, "reopens": stats.reopens,
            ]
            object["decode_ms"] = perFrame.map { AimSample.rounded($0, 2) } ?? NSNull()
            JSONOutput.print(object)
            return
        }
        print("\(device): \(camera.negotiated.map { "\($0)" } ?? "not negotiated")")
        print(
            String(
                format: "frames %llu in %.1f s, %.1f fps (driver timestamps), dropped %llu, damaged %llu, stalls %llu, reopens %llu",
                stats.captured, seconds, stats.framesPerSecond, stats.dropped, stats.corrupt, stats.stalls, stats.reopens))
        if let perFrame {
            print(String(format: "decode to ~320x240: %.2f ms per frame", perFrame))
        }
    }
}
