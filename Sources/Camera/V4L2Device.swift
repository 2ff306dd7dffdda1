// V4L2Device: one open V4L2 node (fd, mmap'd ring, ioctls), owned by one capture thread.
import CV4L2
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One open V4L2 device node: the fd, the mmap'd ring and the ioctls on them.
///
/// Not `Sendable` and not thread-safe on purpose: one capture thread owns it, and `deinit`
/// stops streaming, unmaps the buffers and closes the fd on every path (errors included).
/// Uses the kernel ioctls directly rather than libv4l2's conversion layer: we only stream
/// formats we handle ourselves, and MJPEG must reach TurboJPEG untouched.
final class V4L2Device {
    let path: String
    private let fd: FileDescriptor
    private var buffers: [(start: UnsafeMutableRawPointer, length: Int)] = []
    private var streaming = false

    /// Opens the node non-blocking (the capture loop waits in `poll`, which it can time out).
    init(path: String) throws(CameraError) {
        self.path = path
        do {
            fd = try FileDescriptor.open(
                FilePath(V4L2Device.resolve(path)), .readWrite, options: [.nonBlocking, .closeOnExec])
        } catch {
            // FileDescriptor throws only swift-system's Errno.
            throw .deviceCall(device: path, call: "open", errno: (error as? Errno)?.rawValue ?? EIO)
        }
    }

    deinit {
        if streaming {
            var type = Int32(CV4L2_BUF_TYPE_VIDEO_CAPTURE)
            _ = try? ioctl(CV4L2_VIDIOC_STREAMOFF, "VIDIOC_STREAMOFF", &type)
        }
        for buffer in buffers { munmap(buffer.start, buffer.length) }
        // Nothing to do about a failed close here: the descriptor is gone either way.
        try? fd.close()
    }

    /// `/dev/v4l/by-id/NAME` for a bare name; the path itself otherwise.
    static func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if access("/dev/v4l/by-id/\(path)", F_OK) == 0 { return "/dev/v4l/by-id/\(path)" }
        return "/dev/\(path)"
    }

    /// Every ioctl goes through here and `systemCall`: EINTR is retried, failures become a
    /// typed error naming the device and the request.
    @discardableResult
    private func ioctl<T>(_ request: UInt, _ name: String, _ argument: inout T) throws(CameraError) -> Int32 {
        try systemCall(name, device: path) {
            withUnsafeMutablePointer(to: &argument) { cv4l2_raw_ioctl(fd.rawValue, request, $0) }
        }
    }

    /// Like `ioctl` but returns the errno (0 on success) instead of throwing: enumerations
    /// end with EINVAL, and DQBUF says "nothing more" with EAGAIN.
    private func tryIoctl<T>(_ request: UInt, _ argument: inout T) -> Int32 {
        do {
            try ioctl(request, "ioctl", &argument)
            return 0
        } catch {
            return error.systemCallErrno ?? EIO
        }
    }

    // MARK: Capabilities and formats

    func info() throws(CameraError) -> DeviceInfo {
        var cap = v4l2_capability()
        try ioctl(CV4L2_VIDIOC_QUERYCAP, "VIDIOC_QUERYCAP", &cap)
        let caps = (cap.capabilities & CV4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let node =
            realpath(V4L2Device.resolve(path), &resolved) != nil
            ? String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : path
        return DeviceInfo(
            path: path, node: node,
            driver: V4L2Device.string(cap.driver), card: V4L2Device.string(cap.card), busInfo: V4L2Device.string(cap.bus_info),
            canCapture: (caps & CV4L2_CAP_VIDEO_CAPTURE) != 0, canStream: (caps & CV4L2_CAP_STREAMING) != 0)
    }

    func formats() -> [DeviceFormatInfo] {
        var result: [DeviceFormatInfo] = []
        for index in 0..<64 {
            var desc = v4l2_fmtdesc()
            desc.index = UInt32(index)
            desc.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
            guard tryIoctl(CV4L2_VIDIOC_ENUM_FMT, &desc) == 0 else { break }
            result.append(
                DeviceFormatInfo(
                    fourcc: V4L2Device.fourcc(desc.pixelformat), description: V4L2Device.string(desc.description),
                    isCompressed: (desc.flags & UInt32(V4L2_FMT_FLAG_COMPRESSED)) != 0,
                    sizes: frameSizes(desc.pixelformat)))
        }
        return result
    }

    private func frameSizes(_ pixelFormat: UInt32) -> [FrameSizeInfo] {
        var sizes: [FrameSizeInfo] = []
        for index in 0..<64 {
            var size = v4l2_frmsizeenum()
            size.index = UInt32(index)
            size.pixel_format = pixelFormat
            guard tryIoctl(CV4L2_VIDIOC_ENUM_FRAMESIZES, &size) == 0, size.type == CV4L2_FRMSIZE_TYPE_DISCRETE else { break }
            let width = size.discrete.width, height = size.discrete.height
            sizes.append(FrameSizeInfo(width: Int(width), height: Int(height), framesPerSecond: frameRates(pixelFormat, width, height)))
        }
        return sizes
    }

    private func frameRates(_ pixelFormat: UInt32, _ width: UInt32, _ height: UInt32) -> [Double] {
        var rates: [Double] = []
        for index in 0..<32 {
            var interval = v4l2_frmivalenum()
            interval.index = UInt32(index)
            interval.pixel_format = pixelFormat
            interval.width = width
            interval.height = height
            guard tryIoctl(CV4L2_VIDIOC_ENUM_FRAMEINTERVALS, &interval) == 0, interval.type == CV4L2_FRMIVAL_TYPE_DISCRETE else { break }
            let fraction = interval.discrete
            if fraction.numerator > 0 { rates.append(Double(fraction.denominator) / Double(fraction.numerator)) }
        }
        return rates
    }

    // MARK: Negotiation

    /// Sets the first wanted format the device offers, at the size closest to the one asked
    /// (the driver picks), then the frame rate.
    func negotiate(_ configuration: CameraConfiguration) throws(CameraError) -> NegotiatedFormat {
        let offered = formats()
        let offeredCodes = Set(offered.map(\.fourcc))
        guard let chosen = configuration.formats.first(where: { offeredCodes.contains($0.fourcc) }) else {
            throw .unsupportedFormat(
                device: path, wanted: configuration.formats.map(\.fourcc),
                supported: offered.map { "\($0.fourcc) (\($0.description))" })
        }
        var format = v4l2_format()
        format.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        format.fmt.pix.width = UInt32(configuration.width)
        format.fmt.pix.height = UInt32(configuration.height)
        format.fmt.pix.pixelformat = chosen.code
        format.fmt.pix.field = CV4L2_FIELD_ANY
        try ioctl(CV4L2_VIDIOC_S_FMT, "VIDIOC_S_FMT", &format)
        // The driver may substitute another format instead of failing.
        guard V4L2Device.fourcc(format.fmt.pix.pixelformat) == chosen.fourcc else {
            throw .unsupportedFormat(device: path, wanted: [chosen.fourcc], supported: offered.map { "\($0.fourcc) (\($0.description))" })
        }
        let fps = setFrameRate(configuration.framesPerSecond)
        let width = Int(format.fmt.pix.width)
        let bytesPerLine = max(Int(format.fmt.pix.bytesperline), width * chosen.bytesPerPixel)
        return NegotiatedFormat(
            pixelFormat: chosen, width: width, height: Int(format.fmt.pix.height),
            bytesPerLine: bytesPerLine, framesPerSecond: fps)
    }

    /// Asks for `fps` with `VIDIOC_S_PARM`; returns what the driver accepted (0 if it cannot).
    private func setFrameRate(_ fps: Double) -> Double {
        guard fps > 0 else { return 0 }
        var parm = v4l2_streamparm()
        parm.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        guard tryIoctl(CV4L2_VIDIOC_G_PARM, &parm) == 0, (parm.parm.capture.capability & CV4L2_CAP_TIMEPERFRAME) != 0 else { return 0 }
        parm.parm.capture.timeperframe.numerator = 1000
        parm.parm.capture.timeperframe.denominator = UInt32((fps * 1000).rounded())
        guard tryIoctl(CV4L2_VIDIOC_S_PARM, &parm) == 0 else { return 0 }
        let accepted = parm.parm.capture.timeperframe
        return accepted.numerator > 0 ? Double(accepted.denominator) / Double(accepted.numerator) : 0
    }

    // MARK: Controls

    func controls() -> [CameraControl] {
        var result: [CameraControl] = []
        var query = v4l2_queryctrl()
        query.id = CV4L2_CTRL_FLAG_NEXT_CTRL
        while tryIoctl(CV4L2_VIDIOC_QUERYCTRL, &query) == 0 {
            defer { query.id |= CV4L2_CTRL_FLAG_NEXT_CTRL }
            if (query.flags & CV4L2_CTRL_FLAG_DISABLED) != 0 || query.type == CV4L2_CTRL_TYPE_CTRL_CLASS { continue }
            result.append(control(from: query))
        }
        return result
    }

    private func control(from query: v4l2_queryctrl) -> CameraControl {
        let kind: CameraControl.Kind =
            switch query.type {
            case CV4L2_CTRL_TYPE_INTEGER: .integer
            case CV4L2_CTRL_TYPE_BOOLEAN: .boolean
            case CV4L2_CTRL_TYPE_MENU: .menu
            case CV4L2_CTRL_TYPE_INTEGER_MENU: .integerMenu
            case CV4L2_CTRL_TYPE_BUTTON: .button
            default: .other
            }
        var menu: [CameraControl.MenuItem] = []
        if kind == .menu || kind == .integerMenu, query.minimum <= query.maximum, query.maximum - query.minimum < 64 {
            for index in query.minimum...query.maximum {
                var item = v4l2_querymenu()
                item.id = query.id
                item.index = UInt32(index)
                guard tryIoctl(CV4L2_VIDIOC_QUERYMENU, &item) == 0 else { continue }
                let name = kind == .menu ? V4L2Device.string(item.name) : String(item.value)
                menu.append(.init(value: Int(index), name: name))
            }
        }
        var value: Int? = nil
        if kind != .button && kind != .other {
            var current = v4l2_control()
            current.id = query.id
            if tryIoctl(CV4L2_VIDIOC_G_CTRL, &current) == 0 { value = Int(current.value) }
        }
        let label = V4L2Device.string(query.name)
        return CameraControl(
            id: query.id, label: label, name: CameraControl.normalize(label), aliases: V4L2Device.aliases[query.id] ?? [],
            kind: kind, minimum: Int(query.minimum), maximum: Int(query.maximum), step: Int(query.step),
            defaultValue: Int(query.default_value), value: value, menu: menu,
            isReadOnly: (query.flags & CV4L2_CTRL_FLAG_READ_ONLY) != 0, isInactive: (query.flags & CV4L2_CTRL_FLAG_INACTIVE) != 0)
    }

    /// Names installers use for the common controls, whatever label the driver version has.
    static let aliases: [UInt32: [String]] = [
        CV4L2_CID_EXPOSURE_AUTO: ["exposure_auto", "auto_exposure"],
        CV4L2_CID_EXPOSURE_ABSOLUTE: ["exposure_absolute", "exposure_time_absolute", "exposure_time"],
        CV4L2_CID_GAIN: ["gain"],
        CV4L2_CID_AUTOGAIN: ["autogain", "gain_automatic", "auto_gain"],
        CV4L2_CID_BRIGHTNESS: ["brightness"],
        CV4L2_CID_POWER_LINE_FREQUENCY: ["power_line_frequency", "powerline_frequency"],
    ]

    /// Sets a control by name and value text; returns the value the driver now reports.
    @discardableResult
    func setControl(_ setting: ControlSetting) throws(CameraError) -> Int {
        let all = controls()
        guard let control = all.first(where: { $0.matches(setting.name) }) else {
            throw .unknownControl(device: path, name: setting.name, available: all.map(\.name))
        }
        guard !control.isReadOnly, let value = control.resolveValue(setting.value) else {
            throw .invalidControlValue(
                device: path, control: control.name, value: setting.value,
                accepted: control.isReadOnly ? "none (read-only)" : control.acceptedValues)
        }
        var request = v4l2_control()
        request.id = control.id
        request.value = Int32(value)
        try ioctl(CV4L2_VIDIOC_S_CTRL, "VIDIOC_S_CTRL(\(control.name))", &request)
        var check = v4l2_control()
        check.id = control.id
        return tryIoctl(CV4L2_VIDIOC_G_CTRL, &check) == 0 ? Int(check.value) : value
    }

    // MARK: Streaming

    /// Requests and maps `count` buffers, queues them all and starts the stream.
    func startStreaming(bufferCount count: Int) throws(CameraError) {
        var request = v4l2_requestbuffers()
        request.count = UInt32(max(2, count))
        request.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
        request.memory = CV4L2_MEMORY_MMAP
        try ioctl(CV4L2_VIDIOC_REQBUFS, "VIDIOC_REQBUFS", &request)
        guard request.count >= 2 else { throw .deviceCall(device: path, call: "VIDIOC_REQBUFS", errno: ENOMEM) }
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
            buffer.memory = CV4L2_MEMORY_MMAP
            buffer.index = index
            try ioctl(CV4L2_VIDIOC_QUERYBUF, "VIDIOC_QUERYBUF", &buffer)
            let length = Int(buffer.length)
            let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, off_t(buffer.m.offset))
            guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
                throw .deviceCall(device: path, call: "mmap", errno: errno)
            }
            buffers.append((mapped, length))
            try ioctl(CV4L2_VIDIOC_QBUF, "VIDIOC_QBUF", &buffer)
        }
        var type = Int32(CV4L2_BUF_TYPE_VIDEO_CAPTURE)
        try ioctl(CV4L2_VIDIOC_STREAMON, "VIDIOC_STREAMON", &type)
        streaming = true
    }

    /// A dequeued buffer's content, copied out so the buffer can go straight back to the driver.
    struct Captured {
        var bytes: [UInt8]
        var timestamp: MonotonicTime
        var hasErrorFlag: Bool
        /// Older filled buffers skipped in favour of this one.
        var skipped: Int
    }

    /// Waits up to `timeoutMilliseconds` for a frame, then takes every filled buffer and keeps
    /// only the newest (older ones go back to the driver unread). Nil on timeout.
    func nextFrame(timeoutMilliseconds: Int32) throws(CameraError) -> Captured? {
        var descriptor = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
        let ready = try systemCall("poll", device: path) { poll(&descriptor, 1, timeoutMilliseconds) }
        if ready == 0 { return nil }
        var newest: v4l2_buffer? = nil
        var skipped = 0
        while true {
            var buffer = v4l2_buffer()
            buffer.type = CV4L2_BUF_TYPE_VIDEO_CAPTURE
            buffer.memory = CV4L2_MEMORY_MMAP
            let code = tryIoctl(CV4L2_VIDIOC_DQBUF, &buffer)
            if code == EAGAIN { break }
            if code != 0 {
                if var held = newest { _ = tryIoctl(CV4L2_VIDIOC_QBUF, &held) }
                // POLLERR with nothing dequeued and an unknown errno still means the device broke.
                throw .deviceCall(device: path, call: "VIDIOC_DQBUF", errno: code)
            }
            if var older = newest {
                skipped += 1
                try ioctl(CV4L2_VIDIOC_QBUF, "VIDIOC_QBUF", &older)
            }
            newest = buffer
        }
        guard var buffer = newest else {
            if (descriptor.revents & Int16(POLLERR)) != 0 {
                throw .deviceCall(device: path, call: "poll", errno: ENODEV)
            }
            return nil
        }
        let index = Int(buffer.index)
        guard index < buffers.count else { throw .deviceCall(device: path, call: "VIDIOC_DQBUF", errno: EINVAL) }
        let used = min(Int(buffer.bytesused), buffers[index].length)
        let bytes = [UInt8](UnsafeRawBufferPointer(start: buffers[index].start, count: used))
        let monotonic = (buffer.flags & CV4L2_BUF_FLAG_TIMESTAMP_MASK) == CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
        let stamp =
            monotonic && (buffer.timestamp.tv_sec > 0 || buffer.timestamp.tv_usec > 0)
            ? MonotonicTime(nanoseconds: UInt64(buffer.timestamp.tv_sec) * 1_000_000_000 + UInt64(buffer.timestamp.tv_usec) * 1_000)
            : MonotonicTime.now()
        let hasError = (buffer.flags & CV4L2_BUF_FLAG_ERROR) != 0
        try ioctl(CV4L2_VIDIOC_QBUF, "VIDIOC_QBUF", &buffer)
        return Captured(bytes: bytes, timestamp: stamp, hasErrorFlag: hasError, skipped: skipped)
    }

    // MARK: Helpers

    static func fourcc(_ code: UInt32) -> String {
        // Bit 31 marks big-endian variants (V4L2_PIX_FMT_FLAG_BE), not a character.
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: (code & 0x7FFF_FFFF) >> (8 * $0)) }
        let text = String(decoding: bytes, as: UTF8.self).filter { $0 != " " && $0 != "\0" }
        return code & 0x8000_0000 != 0 ? text + "-BE" : text
    }

    /// A fixed-size C char array (imported as a tuple) as a Swift string.
    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
