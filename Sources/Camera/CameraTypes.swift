// Camera value types: pixel formats, device info, offered formats, the negotiated format, controls.
import CV4L2

/// The pixel formats `V4L2Camera` streams, in the order of preference a kiosk wants.
package enum CapturePixelFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Motion JPEG: small buffers, decoded at reduced scale for detection; what USB cameras
    /// offer at 640×480 and 15–30 fps.
    case mjpeg
    /// Packed YUYV 4:2:2: uncompressed, heavier on USB, converted cheaply to gray/BGR.
    case yuyv
    /// Packed 24-bit RGB / BGR and 8-bit gray (some industrial and IR cameras): taken as is.
    case rgb24, bgr24, grey

    package var fourcc: String {
        switch self {
        case .mjpeg: "MJPG"
        case .yuyv: "YUYV"
        case .rgb24: "RGB3"
        case .bgr24: "BGR3"
        case .grey: "GREY"
        }
    }

    /// The V4L2 pixel format code.
    var code: UInt32 {
        switch self {
        case .mjpeg: CV4L2_PIX_FMT_MJPEG
        case .yuyv: CV4L2_PIX_FMT_YUYV
        case .rgb24: CV4L2_PIX_FMT_RGB24
        case .bgr24: CV4L2_PIX_FMT_BGR24
        case .grey: CV4L2_PIX_FMT_GREY
        }
    }

    /// Bytes per pixel for the packed uncompressed formats (0 for MJPEG).
    var bytesPerPixel: Int {
        switch self {
        case .mjpeg: 0
        case .yuyv: 2
        case .rgb24, .bgr24: 3
        case .grey: 1
        }
    }

    package var description: String { fourcc }
}

/// What `VIDIOC_QUERYCAP` says about a device.
package struct DeviceInfo: Sendable, Hashable {
    /// The path as given (may be a `/dev/v4l/by-id/…` link).
    package let path: String
    /// The `/dev/videoN` node it resolves to.
    package let node: String
    package let driver: String
    package let card: String
    package let busInfo: String
    /// The node supports single-planar video capture.
    package let canCapture: Bool
    /// The node supports streaming (mmap) I/O.
    package let canStream: Bool
}

/// One frame size with the frame rates the driver lists for it.
package struct FrameSizeInfo: Sendable, Hashable {
    package let width: Int
    package let height: Int
    /// Discrete rates (frames per second); empty when the driver reports ranges only.
    package let framesPerSecond: [Double]
}

/// One pixel format the device offers.
package struct DeviceFormatInfo: Sendable, Hashable {
    /// Four-character code, e.g. "MJPG", "YUYV".
    package let fourcc: String
    /// The driver's description, e.g. "Motion-JPEG".
    package let description: String
    package let isCompressed: Bool
    /// Discrete frame sizes; empty when the driver reports a stepwise range.
    package let sizes: [FrameSizeInfo]
}

/// What was negotiated for a streaming session (drivers may adjust what was asked for).
package struct NegotiatedFormat: Sendable, Hashable, CustomStringConvertible {
    package let pixelFormat: CapturePixelFormat
    package let width: Int
    package let height: Int
    package let bytesPerLine: Int
    /// The frame rate the driver accepted (0 when it cannot set rates).
    package let framesPerSecond: Double

    package var description: String {
        "\(pixelFormat) \(width)x\(height)" + (framesPerSecond > 0 ? " @ \(framesPerSecond) fps" : "")
    }
}

/// A device control (brightness, gain, exposure, power-line frequency…).
package struct CameraControl: Sendable, Hashable {
    package enum Kind: String, Sendable, Hashable {
        case integer, boolean, menu
        case integerMenu = "intmenu"
        case button, other
    }

    package struct MenuItem: Sendable, Hashable {
        package let value: Int
        package let name: String
    }

    /// The driver's V4L2 control id.
    package let id: UInt32
    /// The driver's label, e.g. "Power Line Frequency".
    package let label: String
    /// The name used in configuration and `kioskctl`, e.g. "power_line_frequency" (the
    /// label lowercased with `_` for other characters, as `v4l2-ctl` spells it).
    package let name: String
    /// Other accepted names for the common controls (e.g. both "exposure_auto" and
    /// "auto_exposure", whichever the driver version calls it).
    package let aliases: [String]
    package let kind: Kind
    package let minimum: Int
    package let maximum: Int
    package let step: Int
    package let defaultValue: Int
    /// The current value (nil for buttons and write-only controls).
    package let value: Int?
    package let menu: [MenuItem]
    package let isReadOnly: Bool
    /// The control exists but has no effect now (e.g. exposure time while auto exposure is on).
    package let isInactive: Bool

    /// Whether `key` names this control.
    package func matches(_ key: String) -> Bool {
        let normalized = CameraControl.normalize(key)
        return normalized == name || aliases.contains(normalized)
    }

    /// "Exposure, Auto" → "exposure_auto".
    package static func normalize(_ label: String) -> String {
        var out = ""
        var pendingUnderscore = false
        for scalar in label.lowercased().unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") {
                if pendingUnderscore && !out.isEmpty { out.append("_") }
                pendingUnderscore = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingUnderscore = true
            }
        }
        return out
    }

    /// Resolves a configuration value: a menu item name (or its start, "50" for "50 Hz",
    /// "manual" for "Manual Mode"), on/off for booleans, or an integer within range.
    package func resolveValue(_ text: String) -> Int? {
        // A button acts on any write; the value is ignored by the driver.
        if kind == .button { return 0 }
        let wanted = CameraControl.normalize(text)
        if !menu.isEmpty, !wanted.isEmpty {
            if let exact = menu.first(where: { CameraControl.normalize($0.name) == wanted }) { return exact.value }
            let prefixed = menu.filter { CameraControl.normalize($0.name).hasPrefix(wanted) }
            if prefixed.count == 1 { return prefixed[0].value }
        }
        if kind == .boolean {
            switch wanted {
            case "on", "true", "yes", "enabled": return 1
            case "off", "false", "no", "disabled": return 0
            default: break
            }
        }
        guard let number = Int(String(text.filter { !$0.isWhitespace })), number >= minimum, number <= maximum else { return nil }
        if !menu.isEmpty, !menu.contains(where: { $0.value == number }) { return nil }
        return number
    }

    /// What `resolveValue` accepts, for error messages.
    package var acceptedValues: String {
        if !menu.isEmpty { return menu.map { "\($0.value)=\($0.name)" }.joined(separator: ", ") }
        if kind == .boolean { return "on/off or 0/1" }
        if kind == .button { return "any (a button)" }
        return "\(minimum)...\(maximum) step \(step)"
    }
}

/// One control to set when the camera opens, in configuration order (order matters:
/// auto exposure must be switched to manual before an exposure time sticks).
package struct ControlSetting: Sendable, Hashable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// How `V4L2Camera` opens and streams a device. Defaults suit a door kiosk: VGA is enough for
/// a face at 0.5–1.5 m, 15 fps keeps the CPU free for detection, MJPEG keeps USB traffic low.
package struct CameraConfiguration: Sendable, Hashable {
    /// `/dev/videoN`, a `/dev/v4l/by-id/…` path, or just the by-id name (stable across reboots
    /// and USB ports, unlike videoN numbers).
    package var device: String = "/dev/video0"
    package var width: Int = 640
    package var height: Int = 480
    package var framesPerSecond: Double = 15
    /// Formats to try, in order. MJPEG and YUYV cover UVC cameras; the packed RGB/gray ones
    /// are taken when a camera has nothing better (no conversion layer in between).
    package var formats: [CapturePixelFormat] = [.mjpeg, .yuyv, .bgr24, .rgb24, .grey]
    /// Driver buffers in the mmap ring: enough to absorb jitter, few enough that a frame is
    /// never old when taken.
    package var bufferCount: Int = 4
    /// No frame for this long counts as a stall and the device is reopened.
    package var stallTimeout: Duration = .seconds(3)
    /// How often to try again while the device is absent.
    package var reopenInterval: Duration = .seconds(1)
    /// Wait for the device to appear at start instead of failing (the daemon waits; a CLI
    /// command fails fast).
    package var waitForDevice: Bool = false
    /// Controls applied, in order, each time the device opens.
    package var controls: [ControlSetting] = []

    package init(device: String = "/dev/video0") {
        self.device = device
    }
}
