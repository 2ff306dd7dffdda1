// Camera without hardware: control names and menu values, damaged MJPEG, YUYV decode, device errors.
import Foundation
import Imaging
import TestSupport
import Testing

@testable import Camera

#if canImport(Glibc)
import Glibc
#endif

@Suite("Camera without hardware: controls, frames, errors")
struct CameraUnitTests {
    static let powerLine = CameraControl(
        id: 0x0098_0918, label: "Power Line Frequency", name: "power_line_frequency", aliases: ["power_line_frequency"],
        kind: .menu, minimum: 0, maximum: 3, step: 1, defaultValue: 1, value: 1,
        menu: [
            .init(value: 0, name: "Disabled"), .init(value: 1, name: "50 Hz"), .init(value: 2, name: "60 Hz"),
            .init(value: 3, name: "Auto"),
        ],
        isReadOnly: false, isInactive: false)

    @Test("control labels normalise the way v4l2-ctl spells them")
    func normalise() {
        #expect(CameraControl.normalize("Exposure, Auto") == "exposure_auto")
        #expect(CameraControl.normalize("Exposure Time, Absolute") == "exposure_time_absolute")
        #expect(CameraControl.normalize("  Power Line Frequency ") == "power_line_frequency")
        #expect(Self.powerLine.matches("Power-Line Frequency"))
    }

    @Test("menu values resolve by name, by prefix or by number within range")
    func resolveValues() {
        #expect(Self.powerLine.resolveValue("50 Hz") == 1)
        #expect(Self.powerLine.resolveValue("60") == 2)
        #expect(Self.powerLine.resolveValue("auto") == 3)
        #expect(Self.powerLine.resolveValue("0") == 0)
        #expect(Self.powerLine.resolveValue("7") == nil)
        #expect(Self.powerLine.resolveValue("loud") == nil)
        #expect(Self.powerLine.acceptedValues.contains("1=50 Hz"))
    }

    @Test("damaged MJPEG buffers are rejected before they reach the pipeline")
    func damagedBuffers() throws {
        let jpeg = try JPEGEncoder().encode(Image(width: 64, height: 48, format: .gray8, filledWith: 90), quality: 80)
        let format = NegotiatedFormat(pixelFormat: .mjpeg, width: 64, height: 48, bytesPerLine: 0, framesPerSecond: 15)
        func captured(_ bytes: [UInt8], error: Bool = false) -> V4L2Device.Captured {
            .init(bytes: bytes, timestamp: .now(), hasErrorFlag: error, skipped: 0)
        }
        #expect(V4L2Camera.makeFrame(captured(jpeg), format: format, sequence: 1) != nil)
        #expect(V4L2Camera.makeFrame(captured(Array(jpeg.prefix(jpeg.count - 10))), format: format, sequence: 1) == nil)
        #expect(V4L2Camera.makeFrame(captured(jpeg, error: true), format: format, sequence: 1) == nil)
        #expect(V4L2Camera.makeFrame(captured([]), format: format, sequence: 1) == nil)
        let yuyv = NegotiatedFormat(pixelFormat: .yuyv, width: 64, height: 48, bytesPerLine: 128, framesPerSecond: 15)
        #expect(V4L2Camera.makeFrame(captured([UInt8](repeating: 0, count: 128 * 48)), format: yuyv, sequence: 1) != nil)
        #expect(V4L2Camera.makeFrame(captured([UInt8](repeating: 0, count: 1000)), format: yuyv, sequence: 1) == nil)
    }

    @Test("a YUYV frame decodes to half size for detection, and full size for the crop")
    func yuyvFrameDecode() throws {
        let frame = Frame(
            sequence: 1, timestamp: .now(), width: 640, height: 480,
            payload: .yuyv([UInt8](repeating: 128, count: 640 * 480 * 2), bytesPerLine: 1280))
        let decoder = try JPEGDecoder()
        let small = try frame.decoded(to: .gray8, atLeastWidth: 320, height: 240, using: decoder)
        #expect(small.image.width == 320 && small.image.height == 240 && small.scale.value == 0.5)
        #expect(try frame.image(format: .bgr24, using: decoder).width == 640)
        let jpeg = try frame.jpegBytes(using: decoder, encoder: JPEGEncoder())
        #expect(try decoder.header(jpeg).width == 640)
    }

    @Test("a missing device fails with the path, the call and what to check")
    func missingDevice() async throws {
        let camera = V4L2Camera(configuration: CameraConfiguration(device: "/dev/video-does-not-exist"))
        do {
            for try await _ in camera.frames() {}
            Issue.record("frames from a missing device")
        } catch let error as CameraError {
            #expect(error.isDeviceAbsent)
            #expect(error.description.contains("/dev/video-does-not-exist"))
            #expect(error.description.contains("open"))
        }
    }

    @Test("a file that is not a V4L2 device fails on VIDIOC_QUERYCAP, not with a crash")
    func notAVideoDevice() async throws {
        // /dev/null opens fine, then refuses the first V4L2 ioctl with ENOTTY.
        let expected = CameraError.deviceCall(device: "/dev/null", call: "VIDIOC_QUERYCAP", errno: ENOTTY)
        #expect(throws: expected) { try V4L2Camera.info(device: "/dev/null") }
        #expect(throws: expected) { try V4L2Camera.formats(device: "/dev/null") }
        #expect(throws: expected) { try V4L2Camera.controls(device: "/dev/null") }
        #expect(expected.description.contains("VIDIOC_QUERYCAP"))
        // Streaming from it ends the stream with the same error (no retry: the file is there).
        let camera = V4L2Camera(configuration: CameraConfiguration(device: "/dev/null"))
        await #expect(throws: expected) { for try await _ in camera.frames() {} }
    }

    @Test("waiting for an absent device keeps trying and stops when the consumer goes away")
    func waitForDevice() async throws {
        let folder = try TestAssets.temporaryDirectory("camera-wait")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("video-not-yet").path
        var configuration = CameraConfiguration(device: path)
        configuration.waitForDevice = true
        configuration.reopenInterval = .milliseconds(50)

        // Keeps trying: once something appears at the path, the next attempt opens it (here
        // /dev/null, so the attempt ends the stream with its QUERYCAP error).
        let camera = V4L2Camera(configuration: configuration)
        let consumer = Task { for try await _ in camera.frames() {} }
        // The capture thread may take a while to get going on a loaded machine.
        #expect(await waitUntil(.seconds(20)) { camera.statistics.state == "waiting for \(path)" }, "state: \(camera.statistics.state)")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/null")
        await #expect(throws: CameraError.deviceCall(device: path, call: "VIDIOC_QUERYCAP", errno: ENOTTY)) {
            try await consumer.value
        }
        try FileManager.default.removeItem(atPath: path)

        // Stops when the consumer goes away: the stream ends quietly for it, and the capture
        // thread leaves its loop ("stopped" is written only as the thread exits).
        let abandoned = V4L2Camera(configuration: configuration)
        let leaving = Task { for try await _ in abandoned.frames() {} }
        #expect(
            await waitUntil(.seconds(20)) { abandoned.statistics.state == "waiting for \(path)" }, "state: \(abandoned.statistics.state)")
        leaving.cancel()
        await #expect(throws: Never.self) { try await leaving.value }
        #expect(await waitUntil(.seconds(20)) { abandoned.statistics.state == "stopped" }, "state: \(abandoned.statistics.state)")
    }
}
