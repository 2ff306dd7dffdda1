// V4L2Camera: a V4L2 device as a FrameSource that reopens after unplug or stall; device listing, controls.
import Imaging
import Synchronization
import Threading

#if canImport(Glibc)
import Glibc
#endif

/// A V4L2 camera as a `FrameSource`: negotiates MJPEG (preferred) or YUYV at the configured
/// size and rate, streams through a small mmap ring on a dedicated thread, always hands out
/// the newest frame, counts stalls and damaged frames, and reopens the device after an unplug
/// or a stall without the process restarting.
package final class V4L2Camera: FrameSource {
    package let configuration: CameraConfiguration
    private let stats = StatisticsBox()
    private let negotiatedFormat = LockedValue<NegotiatedFormat?>(nil)

    package init(configuration: CameraConfiguration) {
        self.configuration = configuration
    }

    package var name: String { configuration.device }
    package var statistics: CaptureStatistics { stats.snapshot }
    package func reportCorrupt() { stats.update { $0.corrupt += 1 } }

    /// The format of the current (or last) session, once streaming has started.
    package var negotiated: NegotiatedFormat? { negotiatedFormat.value }

    package func frames() -> AsyncThrowingStream<Frame, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Frame, any Error>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.stop() }
        let configuration = self.configuration, stats = self.stats, negotiatedFormat = self.negotiatedFormat
        let refused = DedicatedThread.start {
            Self.captureLoop(
                configuration: configuration, stats: stats, negotiated: negotiatedFormat, stop: stop, continuation: continuation)
        }
        if let refused {
            continuation.finish(throwing: CameraError.deviceCall(device: configuration.device, call: "pthread_create", errno: refused))
        }
        return stream
    }

    // MARK: The capture thread

    /// One device session: open, check, negotiate, apply controls, start streaming.
    ///
    /// "Busy" is retried for about a second: a previous session of this process (or a
    /// `kioskctl` command run just before) may still be releasing its buffers.
    static func openSession(_ configuration: CameraConfiguration) throws(CameraError) -> (V4L2Device, NegotiatedFormat) {
        var attempt = 0
        while true {
            do {
                return try openSessionOnce(configuration)
            } catch {
                guard case .deviceCall(_, _, EBUSY) = error, attempt < 10 else { throw error }
                attempt += 1
                usleep(100_000)
            }
        }
    }

    private static func openSessionOnce(_ configuration: CameraConfiguration) throws(CameraError) -> (V4L2Device, NegotiatedFormat) {
        let device = try V4L2Device(path: configuration.device)
        let info = try device.info()
        guard info.canCapture, info.canStream else {
            throw .notACaptureDevice(device: configuration.device, driver: info.driver, card: info.card)
        }
        let format = try device.negotiate(configuration)
        for setting in configuration.controls { try device.setControl(setting) }
        try device.startStreaming(bufferCount: configuration.bufferCount)
        return (device, format)
    }

    private static func captureLoop(
        configuration: CameraConfiguration, stats: StatisticsBox, negotiated: LockedValue<NegotiatedFormat?>,
        stop: StopFlag, continuation: AsyncThrowingStream<Frame, any Error>.Continuation
    ) {
        var session: (device: V4L2Device, format: NegotiatedFormat)? = nil
        var everOpened = false
        var lastFrame = MonotonicTime.now()
        var sequence: UInt64 = 0
        let stallNanoseconds =
            UInt64(max(configuration.stallTimeout, .milliseconds(100)).components.seconds) * 1_000_000_000
            + UInt64(max(configuration.stallTimeout, .milliseconds(100)).components.attoseconds / 1_000_000_000)
        defer { stats.setState("stopped") }

        while !stop.isStopped {
            guard let current = session else {
                do {
                    let opened = try openSession(configuration)
                    session = opened
                    negotiated.value = opened.1
                    if everOpened { stats.update { $0.reopens += 1 } }
                    everOpened = true
                    lastFrame = .now()
                    stats.setState("streaming \(opened.1)")
                } catch {
                    if error.isDeviceAbsent && (everOpened || configuration.waitForDevice) {
                        stats.setState("waiting for \(configuration.device)")
                        CaptureThread.sleep(configuration.reopenInterval, unless: stop.flag)
                        continue
                    }
                    continuation.finish(throwing: error)
                    return
                }
                continue
            }
            do {
                guard let captured = try current.device.nextFrame(timeoutMilliseconds: 100) else {
                    if MonotonicTime.now().nanoseconds > lastFrame.nanoseconds + stallNanoseconds {
                        // A stalled UVC camera usually recovers after a close/open cycle.
                        stats.update { $0.stalls += 1 }
                        stats.setState("stalled, reopening \(configuration.device)")
                        session = nil
                        everOpened = true
                    }
                    continue
                }
                lastFrame = .now()
                sequence += UInt64(captured.skipped)
                stats.update { $0.dropped += UInt64(captured.skipped) }
                for _ in 0..<captured.skipped { stats.recordCaptured(at: captured.timestamp) }
                sequence += 1
                stats.recordCaptured(at: captured.timestamp)
                guard let frame = makeFrame(captured, format: current.format, sequence: sequence) else {
                    stats.update { $0.corrupt += 1 }
                    continue
                }
                stats.recordYield(continuation.yield(frame))
            } catch {
                if error.isDeviceAbsent {
                    // Unplugged or driver unloaded: drop the session (deinit unmaps and closes)
                    // and wait for the node to come back.
                    session = nil
                    stats.setState("device lost, waiting for \(configuration.device)")
                    CaptureThread.sleep(configuration.reopenInterval, unless: stop.flag)
                    continue
                }
                continuation.finish(throwing: error)
                return
            }
        }
        continuation.finish()
    }

    /// Wraps a dequeued buffer, or nil when it is visibly damaged: the driver's error flag, an
    /// empty buffer, a JPEG without its start or end marker (a USB camera dropping packets), or
    /// a YUYV buffer shorter than the frame.
    static func makeFrame(_ captured: V4L2Device.Captured, format: NegotiatedFormat, sequence: UInt64) -> Frame? {
        if captured.hasErrorFlag || captured.bytes.isEmpty { return nil }
        let payload: Frame.Payload
        switch format.pixelFormat {
        case .mjpeg:
            guard MJPEGSplitter.looksComplete(captured.bytes) else { return nil }
            payload = .jpeg(captured.bytes)
        case .yuyv:
            guard captured.bytes.count >= format.bytesPerLine * (format.height - 1) + format.width * 2 else { return nil }
            payload = .yuyv(captured.bytes, bytesPerLine: format.bytesPerLine)
        case .rgb24, .bgr24, .grey:
            let pixelFormat: PixelFormat = format.pixelFormat == .rgb24 ? .rgb24 : format.pixelFormat == .bgr24 ? .bgr24 : .gray8
            let rowBytes = format.width * pixelFormat.channels
            guard captured.bytes.count >= format.bytesPerLine * (format.height - 1) + rowBytes else { return nil }
            // Drop any row padding so the image is tightly packed.
            var pixels = [UInt8]()
            pixels.reserveCapacity(rowBytes * format.height)
            for row in 0..<format.height {
                let start = row * format.bytesPerLine
                pixels.append(contentsOf: captured.bytes[start..<(start + rowBytes)])
            }
            guard let image = Image(width: format.width, height: format.height, format: pixelFormat, pixels: pixels) else { return nil }
            payload = .image(image)
        }
        return Frame(sequence: sequence, timestamp: captured.timestamp, width: format.width, height: format.height, payload: payload)
    }
}

// MARK: - Inspection (kioskctl camera list|formats|controls)

extension V4L2Camera {
    /// Capture devices present now: every `/dev/videoN` that answers `VIDIOC_QUERYCAP` as a
    /// streaming capture device, with its stable `/dev/v4l/by-id` names where udev made them.
    package static func listDevices() -> [(info: DeviceInfo, byID: [String])] {
        let byID = directoryLinks("/dev/v4l/by-id")
        var nodes = directoryEntries("/dev").filter { $0.hasPrefix("video") }.map { "/dev/\($0)" }
        nodes.sort { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
        return nodes.compactMap { node in
            guard let device = try? V4L2Device(path: node), let info = try? device.info(), info.canCapture else { return nil }
            return (info, byID.filter { $0.target == node }.map(\.name))
        }
    }

    /// Capabilities of one device.
    package static func info(device: String) throws(CameraError) -> DeviceInfo {
        try V4L2Device(path: device).info()
    }

    /// The formats, sizes and rates the device offers.
    package static func formats(device: String) throws(CameraError) -> [DeviceFormatInfo] {
        let opened = try V4L2Device(path: device)
        _ = try opened.info()
        return opened.formats()
    }

    /// The device's controls with current values.
    package static func controls(device: String) throws(CameraError) -> [CameraControl] {
        let opened = try V4L2Device(path: device)
        _ = try opened.info()
        return opened.controls()
    }

    /// Sets one control by name (see `CameraControl.resolveValue`); returns the value the
    /// driver reports afterwards. Controls are not persistent: the daemon re-applies its
    /// configured ones each time it opens the camera.
    @discardableResult
    package static func setControl(device: String, _ setting: ControlSetting) throws(CameraError) -> Int {
        try V4L2Device(path: device).setControl(setting)
    }

    /// Captures one good frame (skipping `warmUp` frames first, so auto exposure settles),
    /// or throws `stalled` after `timeout`.
    package static func captureOne(_ configuration: CameraConfiguration, warmUp: Int = 3, timeout: Duration = .seconds(5))
        throws(CameraError) -> (Frame, NegotiatedFormat)
    {
        let (device, format) = try openSession(configuration)
        let start = MonotonicTime.now()
        var seen = 0
        var sequence: UInt64 = 0
        while MonotonicTime.now().duration(since: start) < timeout {
            guard let captured = try device.nextFrame(timeoutMilliseconds: 200) else { continue }
            sequence += 1
            guard let frame = makeFrame(captured, format: format, sequence: sequence) else { continue }
            seen += 1
            if seen > warmUp { return (frame, format) }
        }
        let (seconds, attoseconds) = timeout.components
        throw .stalled(device: configuration.device, seconds: Double(seconds) + Double(attoseconds) / 1e18)
    }

    private static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = V4L2Device.string(entry.pointee.d_name)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func directoryLinks(_ path: String) -> [(name: String, target: String)] {
        directoryEntries(path).compactMap { name in
            var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard realpath("\(path)/\(name)", &resolved) != nil else { return nil }
            return (name, String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }
}
