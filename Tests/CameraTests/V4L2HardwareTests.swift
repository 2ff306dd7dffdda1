// V4L2Camera on the VM harness's vivid and v4l2loopback: formats, streaming, controls, stalls, unplug.
import Foundation
import Imaging
import TestSupport
import Testing

@testable import Camera

/// The devices the project's VM harness provides (docs/TESTING.md); nil outside the VM.
enum Hardware {
    static var camera: String? { ProcessInfo.processInfo.environment["VHW_VIDEO_DEV"] }
    static var loopback: String? { ProcessInfo.processInfo.environment["VHW_LOOPBACK_DEV"] }

    /// Runs a shell command in the guest (module reload, driver unbind); returns its status.
    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// V4L2 against `vivid`, the kernel's test-pattern camera. Serialized: one device, one stream.
@Suite(.serialized, .enabled(if: Hardware.camera != nil, "needs the VM harness (vivid): run make test-hw"))
struct V4L2HardwareTests {
    var device: String { Hardware.camera ?? "/dev/video0" }

    @Test("QUERYCAP and the format list: vivid offers YUYV among others, no MJPEG")
    func capabilitiesAndFormats() throws {
        let info = try V4L2Camera.info(device: device)
        #expect(info.driver == "vivid")
        #expect(info.canCapture && info.canStream)
        let formats = try V4L2Camera.formats(device: device)
        let codes = formats.map(\.fourcc)
        #expect(codes.contains("YUYV"))
        let yuyv = try #require(formats.first { $0.fourcc == "YUYV" })
        #expect(yuyv.sizes.contains { $0.width == 640 && $0.height == 480 })
        #expect(V4L2Camera.listDevices().contains { $0.info.node == device })
    }

    @Test("negotiation falls back from MJPEG to YUYV; MJPEG-only fails listing what exists")
    func negotiation() throws {
        var configuration = CameraConfiguration(device: device)
        let (frame, format) = try V4L2Camera.captureOne(configuration, warmUp: 1)
        #expect(format.pixelFormat == .yuyv && format.width == 640 && format.height == 480)
        guard case .yuyv = frame.payload else {
            Issue.record("expected a YUYV frame")
            return
        }
        configuration.formats = [.mjpeg]
        do {
            _ = try V4L2Camera.captureOne(configuration)
            Issue.record("vivid has no MJPEG, yet negotiation succeeded")
        } catch {
            guard case .unsupportedFormat(_, _, let supported) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(supported.contains { $0.hasPrefix("YUYV") })
        }
    }

    @Test("streaming delivers increasing sequence numbers, driver timestamps and a frame rate")
    func streaming() async throws {
        var configuration = CameraConfiguration(device: device)
        configuration.framesPerSecond = 15
        let camera = V4L2Camera(configuration: configuration)
        let frames = try await CameraFixture.collect(camera, count: 8, timeout: .seconds(30))
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.sequence < $1.sequence && $0.timestamp < $1.timestamp })
        // Driver timestamps are CLOCK_MONOTONIC: within seconds of now (vivid computes them from
        // the stream start and frame period, so under emulation they may run slightly ahead).
        let now = MonotonicTime.now()
        let stamp = try #require(frames.last?.timestamp)
        let skew = max(now.duration(since: stamp), stamp.duration(since: now))
        #expect(skew < .seconds(10), "frame at \(stamp), now \(now)")
        let stats = camera.statistics
        #expect(stats.captured >= 8 && stats.framesPerSecond > 1)
        let decoder = try JPEGDecoder()
        let small = try frames[0].decoded(to: .gray8, atLeastWidth: 320, height: 240, using: decoder)
        #expect(small.image.width == 320)
    }

    @Test("controls by name: brightness set and read back; unknown names list the real ones")
    func controls() throws {
        let controls = try V4L2Camera.controls(device: device)
        let brightness = try #require(controls.first { $0.matches("brightness") })
        let target = brightness.value == 200 ? 100 : 200
        #expect(try V4L2Camera.setControl(device: device, ControlSetting(name: "Brightness", value: "\(target)")) == target)
        #expect(try V4L2Camera.controls(device: device).first { $0.matches("brightness") }?.value == target)
        try V4L2Camera.setControl(device: device, ControlSetting(name: "brightness", value: "\(brightness.defaultValue)"))
        #expect(throws: CameraError.self) { try V4L2Camera.setControl(device: device, ControlSetting(name: "warp_drive", value: "1")) }
        #expect(throws: CameraError.self) { try V4L2Camera.setControl(device: device, ControlSetting(name: "brightness", value: "99999")) }
    }

    @Test("a packed gray format is taken as is when asked for")
    func greyFormat() throws {
        var configuration = CameraConfiguration(device: device)
        configuration.formats = [.grey]
        let (frame, format) = try V4L2Camera.captureOne(configuration, warmUp: 1)
        #expect(format.pixelFormat == .grey)
        guard case .image(let image) = frame.payload else {
            Issue.record("expected an image payload")
            return
        }
        #expect(image.format == .gray8 && image.width == 640 && image.height == 480)
    }

    @Test("a stream that stops delivering is detected as stalled, reopened, and resumes")
    func stallDetection() async throws {
        var configuration = CameraConfiguration(device: device)
        configuration.stallTimeout = .seconds(1)
        let camera = V4L2Camera(configuration: configuration)
        let drop = ControlSetting(name: "percentage_of_dropped_buffers", value: "100")
        let resumed: Bool = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var count = 0
                var starved = false
                for try await _ in camera.frames() {
                    count += 1
                    if count == 2 {
                        // vivid drops every buffer from now on: no frame reaches us.
                        try V4L2Camera.setControl(device: self.device, drop)
                        starved = true
                        while camera.statistics.stalls == 0 { try await Task.sleep(for: .milliseconds(100)) }
                        try V4L2Camera.setControl(device: self.device, ControlSetting(name: drop.name, value: "0"))
                    } else if starved && count >= 4 {
                        return true
                    }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(45))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        _ = try? V4L2Camera.setControl(device: device, ControlSetting(name: drop.name, value: "0"))
        #expect(resumed, "\(camera.statistics)")
        #expect(camera.statistics.stalls >= 1 && camera.statistics.reopens >= 1)
    }

    @Test("a buffer the driver flags as erroneous is skipped and counted as damaged")
    func bufferErrorFlag() async throws {
        let camera = V4L2Camera(configuration: CameraConfiguration(device: device))
        let counted: Bool = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var injected = false
                for try await _ in camera.frames() {
                    if !injected {
                        try V4L2Camera.setControl(device: self.device, ControlSetting(name: "inject_v4l2_buf_flag_error", value: "press"))
                        injected = true
                    }
                    if camera.statistics.corrupt >= 1 { return true }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(counted, "\(camera.statistics)")
    }

    @Test("unplug while streaming (driver unbind, or module reload) then replug: the stream resumes")
    func unplugAndReplug() async throws {
        var configuration = CameraConfiguration(device: device)
        configuration.reopenInterval = .milliseconds(200)
        let camera = V4L2Camera(configuration: configuration)
        let unbind = "/sys/bus/platform/drivers/vivid/unbind"
        let useUnbind = FileManager.default.fileExists(atPath: unbind)
        let args = ProcessInfo.processInfo.environment["VHW_VIVID_ARGS"] ?? "n_devs=1 node_types=0x1"
        let unplug = useUnbind ? "echo vivid.0 > \(unbind)" : "rmmod vivid"
        let replug =
            useUnbind
            ? "echo vivid.0 > /sys/bus/platform/drivers/vivid/bind"
            : "modprobe vivid \(args) 2>/dev/null || insmod /vhw-mod/vivid.ko \(args)"
        let outcome: Bool = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var count = 0
                var unplugged = false
                for try await _ in camera.frames() {
                    count += 1
                    if count == 3 && !unplugged {
                        unplugged = true
                        #expect(Hardware.shell(unplug) == 0, "\(unplug) failed")
                        try await Task.sleep(for: .seconds(1))
                        #expect(Hardware.shell(replug) == 0, "\(replug) failed")
                    }
                    if count >= 8 && camera.statistics.reopens >= 1 { return true }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !FileManager.default.fileExists(atPath: device) { Hardware.shell(replug) }
        #expect(outcome, "stream did not resume: \(camera.statistics)")
    }
}

/// The true image path: a face JPEG pushed into `v4l2loopback` comes out of `V4L2Camera`.
@Suite(.serialized, .enabled(if: Hardware.loopback != nil, "needs the VM harness (v4l2loopback): run make test-hw"))
struct LoopbackHardwareTests {
    @Test("a face photo fed as YUYV through v4l2loopback is captured intact")
    func facePhotoThroughLoopback() async throws {
        let device = try #require(Hardware.loopback)
        let photo = try CameraFixture.vgaImage()
        let feeder = try LoopbackFeeder(
            device: device, width: 640, height: 480, pixelFormat: .yuyv,
            frame: CameraFixture.yuyv(from: photo), framesPerSecond: 10)
        defer { feeder.stop() }
        let camera = V4L2Camera(configuration: CameraConfiguration(device: device))
        let frames = try await CameraFixture.collect(camera, count: 3, timeout: .seconds(30))
        let frame = try #require(frames.last)
        #expect(frame.width == 640 && frame.height == 480)
        let captured = try frame.image(format: .gray8, using: JPEGDecoder())
        let psnr = CameraFixture.psnr(captured, photo.converted(to: .gray8))
        #expect(psnr > 30, "PSNR \(psnr) dB")
    }

    @Test("a face JPEG fed as MJPEG through v4l2loopback arrives byte for byte and decodes at 1/2 scale")
    func mjpegThroughLoopback() async throws {
        let device = try #require(Hardware.loopback)
        let jpeg = try JPEGEncoder().encode(CameraFixture.vgaImage(), quality: 85)
        let feeder = try LoopbackFeeder(device: device, width: 640, height: 480, pixelFormat: .mjpeg, frame: jpeg, framesPerSecond: 10)
        defer { feeder.stop() }
        let camera = V4L2Camera(configuration: CameraConfiguration(device: device))
        let frames = try await CameraFixture.collect(camera, count: 3, timeout: .seconds(30))
        #expect(camera.negotiated?.pixelFormat == .mjpeg)
        let frame = try #require(frames.last)
        guard case .jpeg(let bytes) = frame.payload else {
            Issue.record("expected an MJPEG frame")
            return
        }
        #expect(bytes == jpeg)
        let small = try frame.decoded(to: .bgr24, atLeastWidth: 320, height: 240, using: JPEGDecoder())
        #expect(small.image.width == 320 && small.image.height == 240)
    }
}
