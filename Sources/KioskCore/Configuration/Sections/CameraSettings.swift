// `camera.*`: the V4L2 camera or a replay source, its keys and checks, and the camera's configuration.
package import Camera
import Foundation

/// Which frames the agent sees (`camera.*`).
package struct CameraSettings: Sendable, Equatable {
    package enum Source: String, Sendable, CaseIterable { case v4l2, replay }
    package var source: Source = .v4l2
    /// Device path or a `/dev/v4l/by-id/…` name.
    package var device = "/dev/video0"
    package var width = 640
    package var height = 480
    package var fps = 30
    /// `auto` prefers MJPEG and accepts YUYV.
    package var format = "auto"
    /// No frame for this long counts as a stalled stream: the camera is reopened.
    package var stallTimeout: Duration = .seconds(3)
    /// Controls applied each time the camera opens, as `name=value` (names as
    /// `kioskctl camera controls` lists them), e.g. `power_line_frequency=50 Hz`.
    package var controls: [String] = []
    /// `camera.replay.*`: a folder of images or an MJPEG file (demo, tests, field reproduction).
    package var replayPath = ""
    package var replayFPS = 15
    package var replayLoop = false

    package init() {}
}

extension CameraSettings: ConfigurationSection {
    static let name = "camera"

    /// The values `camera.format` takes.
    static let formats = ["auto", "mjpeg", "yuyv"]

    mutating func read(from keys: SectionReader) {
        keys.choice("source", &source)
        keys.string("device", &device)
        keys.int("width", &width, range: 160...4096)
        keys.int("height", &height, range: 120...4096)
        keys.int("fps", &fps, range: 1...120)
        keys.string("format", &format)
        keys.duration("stall_timeout", &stallTimeout, max: .seconds(600))
        keys.stringList("controls", &controls)
        let replay = keys.nested("replay")
        replay.string("path", &replayPath)
        replay.int("fps", &replayFPS, range: 1...120)
        replay.bool("loop", &replayLoop)
    }

    func validate(_ keys: SectionReader) {
        if source == .replay, replayPath.isEmpty {
            keys.issue("replay.path", "is required when camera.source is replay")
        }
        for control in controls where !control.contains("=") {
            keys.issue("controls", "'\(control)' is not name=value, e.g. power_line_frequency=50 Hz")
        }
        if !Self.formats.contains(format.lowercased()) {
            keys.issue("format", "'\(format)' is not one of: \(Self.formats.joined(separator: ", "))")
        }
    }

    func preflight(environment: [String: String], report: (_ key: String, _ message: String) -> Void) {
        let fm = FileManager.default
        if source == .v4l2, !device.hasPrefix("/dev/"), !fm.fileExists(atPath: "/dev/v4l/by-id/\(device)") {
            report("device", "\(device) is neither a /dev path nor a /dev/v4l/by-id name; list cameras with 'kioskctl camera list'")
        }
        if source == .replay, !fm.fileExists(atPath: replayPath) {
            report("replay.path", "\(replayPath) does not exist")
        }
    }
}

extension CameraSettings {
    /// The V4L2 camera's configuration (`Camera`); `replay` sources are built from the path.
    package var cameraConfiguration: CameraConfiguration {
        var c = CameraConfiguration(device: device)
        c.width = width
        c.height = height
        c.framesPerSecond = Double(fps)
        switch format.lowercased() {
        case "mjpeg": c.formats = [.mjpeg]
        case "yuyv": c.formats = [.yuyv]
        default: c.formats = [.mjpeg, .yuyv]
        }
        c.stallTimeout = stallTimeout
        c.controls = controls.compactMap { entry in
            guard let equals = entry.firstIndex(of: "=") else { return nil }
            return ControlSetting(
                name: String(entry[..<equals]).trimmingCharacters(in: .whitespaces),
                value: String(entry[entry.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
        }
        // The daemon waits for a camera that is not plugged in yet, and says so in its status.
        c.waitForDevice = true
        return c
    }
}

extension KioskConfiguration {
    /// `camera.*` as the V4L2 camera's configuration.
    package var cameraConfiguration: CameraConfiguration { camera.cameraConfiguration }
}
