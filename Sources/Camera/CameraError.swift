// CameraError: why a camera or replay operation failed, naming the device and what to check next.
#if canImport(Glibc)
import Glibc
#endif

/// Why a camera or replay operation failed. Every case names the device (or file) and the
/// operation, and `description` says what to check next.
package enum CameraError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call on the device failed. `ioctl` is the request name (e.g. "VIDIOC_S_FMT")
    /// or the call ("open", "mmap", "poll").
    case deviceCall(device: String, call: String, errno: Int32)
    /// The device is not a video capture device with streaming I/O.
    case notACaptureDevice(device: String, driver: String, card: String)
    /// The device offers none of the pixel formats we can use.
    case unsupportedFormat(device: String, wanted: [String], supported: [String])
    /// No control with that name (lists the ones that exist).
    case unknownControl(device: String, name: String, available: [String])
    /// A control value that is not a number, a known menu item, or is out of range.
    case invalidControlValue(device: String, control: String, value: String, accepted: String)
    /// The device stopped delivering frames and could not be reopened within the time allowed.
    case stalled(device: String, seconds: Double)
    /// A replay source without usable frames, or an unreadable replay file or script.
    case replay(path: String, problem: String)

    /// True when the device is absent or gone (unplugged, driver unloaded): waiting and
    /// reopening may help, unlike permission or format problems.
    package var isDeviceAbsent: Bool {
        if case .deviceCall(_, _, let code) = self { return code == ENOENT || code == ENODEV || code == ENXIO || code == EIO }
        return false
    }

    package var description: String {
        switch self {
        case .deviceCall(let device, let call, let code):
            let reason = String(cString: strerror(code))
            return "\(device): \(call) failed: \(reason) (errno \(code)); \(Self.advice(for: code, call: call))"
        case .notACaptureDevice(let device, let driver, let card):
            return
                "\(device) (\(driver), \"\(card)\") is not a video capture device with streaming; pick another /dev/videoN (`kioskctl camera list`)"
        case .unsupportedFormat(let device, let wanted, let supported):
            return
                "\(device) offers none of \(wanted.joined(separator: ", ")); it supports: \(supported.isEmpty ? "nothing" : Self.shortList(supported)); use a UVC camera with MJPEG or YUYV"
        case .unknownControl(let device, let name, let available):
            return
                "\(device) has no control \"\(name)\"; available: \(Self.shortList(available)) (`kioskctl camera controls` lists them all)"
        case .invalidControlValue(let device, let control, let value, let accepted):
            return "\(device): \"\(value)\" is not a valid value for \(control); accepted: \(accepted)"
        case .stalled(let device, let seconds):
            return "\(device): no frame for \(seconds) s; check the cable and USB power, and that no other program holds the camera"
        case .replay(let path, let problem):
            return "replay \(path): \(problem)"
        }
    }

    /// The first dozen items, then how many more: test devices list sixty formats.
    private static func shortList(_ items: [String]) -> String {
        items.count <= 12 ? items.joined(separator: ", ") : items.prefix(12).joined(separator: ", ") + " and \(items.count - 12) more"
    }

    private static func advice(for code: Int32, call: String) -> String {
        switch code {
        case EACCES, EPERM: "check the device permissions: the service user must be in the 'video' group"
        case EBUSY: "the device is busy: another program (or another kioskd) is using the camera; stop it (fuser -v /dev/videoN)"
        case ENOENT, ENODEV, ENXIO: "the device is not there: check the cable, `kioskctl camera list`, and the configured path"
        case EIO: "I/O error: the camera may have been unplugged or is failing; reconnect it"
        case EINVAL: "the driver rejected \(call): the camera does not support this setting"
        case ENOMEM: "out of memory for capture buffers: lower the resolution or buffer count"
        default: "check the camera and its driver (dmesg)"
        }
    }
}
