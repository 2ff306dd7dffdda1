// The doctor's camera and detector checks: the device opens and streams the configured format
// for 2 s, its controls exist, the model is the shipped one and finds (or not) a face now.
import Camera
import FaceDetection
import Foundation
import Imaging
import KioskCore

enum CameraCheck {
    /// How long frames are counted.
    static let streamTime: Duration = .seconds(2)

    /// What streaming for a while brought back.
    struct StreamOutcome: Sendable {
        var frames = 0
        var negotiated: NegotiatedFormat?
        var lastFrame: Frame?
        var error: CameraError?
        var statistics: CaptureStatistics?
        var elapsed: Duration = .zero
    }

    static func run(_ context: DoctorContext) async -> [DoctorResult] {
        guard let configuration = context.configuration else {
            return [.failed("camera", "not checked: the configuration did not load", fix: "fix the configuration first")]
        }
        let settings = configuration.camera
        guard settings.source == .v4l2 else {
            return [
                .warning(
                    "camera", "camera.source is replay (\(settings.replayPath)): no camera is used",
                    fix: "set camera.source: v4l2 for a real door")
            ] + (await detector(configuration, frame: nil, context: context))
        }
        var camera = configuration.cameraConfiguration
        // Never change the device: the configured controls are checked for existence, not applied.
        camera.controls = []
        camera.waitForDevice = false
        camera.stallTimeout = .seconds(3)
        let device = camera.device

        // Model loading and hashing run while the camera streams.
        async let model = loadDetector(configuration)
        let stream = await stream(camera)
        var results: [DoctorResult] = []

        if let error = stream.error, stream.frames == 0 {
            results.append(openFailure(error, device: device, context: context))
            results += await detector(configuration, loaded: await model, frame: nil, context: context)
            return results
        }
        results.append(.ok("camera.open", "\(device) opened and streams"))

        let wanted = "\(settings.width)x\(settings.height) \(settings.format == "auto" ? "MJPEG or YUYV" : settings.format.uppercased())"
        if let format = stream.negotiated {
            let sizeMatches = format.width == settings.width && format.height == settings.height
            let formatMatches = settings.format == "auto" || format.pixelFormat.rawValue == settings.format.lowercased()
            if sizeMatches && formatMatches {
                results.append(
                    .ok("camera.format", "negotiated \(format.pixelFormat.fourcc) \(format.width)x\(format.height) as configured"))
            } else {
                results.append(
                    .warning(
                        "camera.format",
                        "asked for \(wanted), the driver gave \(format.pixelFormat.fourcc) \(format.width)x\(format.height)",
                        fix: "set camera.width/height/format to a mode `kioskctl camera formats -d \(device)` lists"))
            }
        } else {
            results.append(.failed("camera.format", "no format negotiated", fix: "check `kioskctl camera formats -d \(device)`"))
        }

        let seconds = max(stream.elapsed.secondsValue, 0.001)
        let rate = Double(stream.frames) / seconds
        let rateText = String(format: "%.1f fps (%d frames in %.1f s; %d wanted)", rate, stream.frames, seconds, settings.fps)
        if stream.frames == 0 {
            results.append(
                .failed(
                    "camera.rate", "no frame in \(String(format: "%.1f", seconds)) s\(stream.error.map { ": \($0)" } ?? "")",
                    fix: "check the cable and USB power; `dmesg | tail` shows driver errors"))
        } else if rate < Double(settings.fps) / 2 {
            results.append(
                .warning(
                    "camera.rate", rateText,
                    fix:
                        "poor light lengthens exposure: add light, set power_line_frequency and exposure in camera.controls; or lower camera.fps"
                ))
        } else {
            results.append(.ok("camera.rate", rateText))
        }
        results.append(await controls(settings, device: device))
        results += await detector(configuration, loaded: await model, frame: stream.lastFrame, context: context)
        return results
    }

    /// Streams for ``streamTime`` on the capture thread the daemon uses, counting frames.
    static func stream(_ camera: CameraConfiguration) async -> StreamOutcome {
        let source = V4L2Camera(configuration: camera)
        let start = ContinuousClock.now
        let collected = await Bounded.task(within: streamTime + .seconds(3)) { () -> StreamOutcome in
            var outcome = StreamOutcome()
            var firstFrameAt: ContinuousClock.Instant?
            do {
                for try await frame in source.frames() {
                    // Count from the first frame: opening and negotiating are not the camera's rate.
                    if let first = firstFrameAt {
                        outcome.frames += 1
                        if ContinuousClock.now - first >= streamTime { break }
                    } else {
                        firstFrameAt = ContinuousClock.now
                    }
                    outcome.lastFrame = frame
                }
            } catch let error as CameraError {
                outcome.error = error
            } catch {
                outcome.error = .deviceCall(device: camera.device, call: "capture", errno: EIO)
            }
            outcome.elapsed = firstFrameAt.map { ContinuousClock.now - $0 } ?? (ContinuousClock.now - start)
            return outcome
        }
        var outcome = collected ?? StreamOutcome(error: .stalled(device: camera.device, seconds: (streamTime + .seconds(3)).secondsValue))
        outcome.negotiated = source.negotiated
        outcome.statistics = source.statistics
        if outcome.lastFrame != nil, outcome.frames == 0 { outcome.frames = 1 }
        return outcome
    }

    /// A device that would not open: held by kioskd is expected, anything else is broken.
    static func openFailure(_ error: CameraError, device: String, context: DoctorContext) -> DoctorResult {
        if case .deviceCall(_, _, EBUSY) = error {
            if context.kioskdRunning {
                return .warning(
                    "camera.open", "\(device) is in use by kioskd (\(context.kioskdText)): not broken, just busy",
                    fix: "to test the camera itself: systemctl stop kioskd; kioskctl doctor; systemctl start kioskd")
            }
            return .failed(
                "camera.open", "\(device) is busy, and kioskd is not running: another program holds it",
                fix: "find it with `fuser -v \(device)` and stop it")
        }
        if error.isDeviceAbsent {
            return .failed(
                "camera.open", "\(device) is not there: \(error)",
                fix: "check the cable; `kioskctl camera list` shows the cameras present; set camera.device")
        }
        return .failed("camera.open", error.description, fix: "see the message; `kioskctl camera list` shows the cameras present")
    }

    /// Every control named in `camera.controls` exists on the device (read only, nothing set).
    static func controls(_ settings: CameraSettings, device: String) async -> DoctorResult {
        let names = settings.controls.compactMap { $0.split(separator: "=", maxSplits: 1).first }.map {
            String($0).trimmingCharacters(in: .whitespaces)
        }
        guard !names.isEmpty else { return .ok("camera.controls", "camera.controls names none") }
        let listed = await Bounded.blocking("camera-controls", within: .seconds(3)) {
            Result { () throws(CameraError) in try V4L2Camera.controls(device: device) }
        }
        guard let listed else { return .failed("camera.controls", "listing the controls took over 3 s", fix: "check the camera (dmesg)") }
        switch listed {
        case .failure(let error):
            return .failed("camera.controls", "cannot list the controls: \(error)", fix: "check the camera (dmesg)")
        case .success(let controls):
            let missing = names.filter { name in !controls.contains { $0.matches(name) } }
            if missing.isEmpty {
                return .ok("camera.controls", "all \(names.count) in camera.controls exist: \(names.joined(separator: ", "))")
            }
            return .failed(
                "camera.controls", "\(device) has no control \(missing.joined(separator: ", "))",
                fix: "fix camera.controls; `kioskctl camera controls -d \(device)` lists them")
        }
    }

    // MARK: Detector

    /// The detector as kioskd builds it, or why it cannot be, and the model's sha256 verdict.
    struct LoadedDetector: Sendable {
        var detector: YuNetFaceDetector?
        var loadError: FaceDetectionError?
        var integrity: FaceDetectionError?
        var loadTime: Duration
    }

    static func loadDetector(_ configuration: KioskConfiguration) async -> LoadedDetector? {
        await Bounded.blocking("detector", within: .seconds(8)) {
            let start = ContinuousClock.now
            var loaded = LoadedDetector(loadTime: .zero)
            do throws(FaceDetectionError) {
                try YuNetModelIntegrity.verify(at: configuration.detection.model)
            } catch {
                loaded.integrity = error
            }
            do throws(FaceDetectionError) {
                loaded.detector = try YuNetFaceDetector(configuration: configuration.detectorConfiguration)
            } catch {
                loaded.loadError = error
            }
            loaded.loadTime = ContinuousClock.now - start
            return loaded
        }
    }

    static func detector(_ configuration: KioskConfiguration, frame: Frame?, context: DoctorContext) async -> [DoctorResult] {
        await detector(configuration, loaded: await loadDetector(configuration), frame: frame, context: context)
    }

    static func detector(
        _ configuration: KioskConfiguration, loaded: LoadedDetector?, frame: Frame?, context: DoctorContext
    ) async -> [DoctorResult] {
        let model = configuration.detection.model
        guard let loaded else {
            return [.failed("detector.model", "loading \(model) took over 8 s", fix: "check the file and free memory")]
        }
        var results: [DoctorResult] = []
        if let error = loaded.loadError {
            results.append(.failed("detector.model", error.description, fix: "set detection.model to the installed model"))
        } else {
            results.append(.ok("detector.model", "\(model) loads (\(Int(loaded.loadTime.secondsValue * 1000)) ms)"))
        }
        switch loaded.integrity {
        case nil:
            results.append(.ok("detector.sha256", "the model is the shipped YuNet 2023mar"))
        case .modelChecksumMismatch(_, _, let found)?:
            results.append(
                .failed(
                    "detector.sha256", "\(model) is not the shipped model (sha256 \(found.prefix(16))…)",
                    fix: "reinstall the package's model (kioskd refuses to start on another file)"))
        case let error?:
            results.append(.failed("detector.sha256", error.description, fix: "reinstall the package's model"))
        }
        guard let detector = loaded.detector else { return results }
        guard let frame else {
            results.append(.warning("detector.live", "not run: no camera frame", fix: "fix the camera first"))
            return results
        }
        results.append(await live(detector, frame: frame, minFaceSize: configuration.detection.minFaceSize))
        return results
    }

    /// Runs the detector on a live frame at full size (boxes in the camera's own pixels, like
    /// `detection.min_face_size`).
    static func live(_ detector: YuNetFaceDetector, frame: Frame, minFaceSize: Int) async -> DoctorResult {
        let outcome = await Bounded.blocking("detector-live", within: .seconds(5)) { () -> Result<[DetectedFace], any Error> in
            do {
                let decoder = try JPEGDecoder()
                let image = try frame.image(format: .bgr24, using: decoder)
                return .success(try detector.detectSynchronously(in: image))
            } catch {
                return .failure(error)
            }
        }
        guard let outcome else { return .failed("detector.live", "detection took over 5 s", fix: "check the CPU load (top)") }
        switch outcome {
        case .failure(let error):
            return .failed(
                "detector.live", "could not run on a live frame: \(error)", fix: "check the camera's frames (kioskctl camera snapshot)")
        case .success(let faces):
            guard let largest = faces.max(by: { $0.box.area < $1.box.area }) else {
                return .ok("detector.live", "runs on a live frame; no face in view now")
            }
            let side = Int(min(largest.box.width, largest.box.height))
            if side < minFaceSize {
                return .warning(
                    "detector.live", "face in view, \(side) px: below detection.min_face_size \(minFaceSize)",
                    fix: "step closer, or aim/zoom the camera so faces at the door are larger (kioskctl aim)")
            }
            return .ok("detector.live", "face in view, \(side) px (detection.min_face_size \(minFaceSize))")
        }
    }
}
