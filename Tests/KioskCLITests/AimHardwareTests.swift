// `kioskctl aim --once --json` on the VM harness's v4l2loopback camera: a face, no face, a held camera.
import Foundation
import Imaging
import TestSupport
import Testing

@testable import Camera

/// The loopback camera of the VM harness (docs/TESTING.md); nil on the host.
private enum AimHardware {
    static var loopback: String? { ProcessInfo.processInfo.environment["VHW_LOOPBACK_DEV"] }
    static var available: Bool { loopback != nil && KioskctlBinary.exists && TestAssets.available }
}

/// The real binary reading the real capture path: a JPEG fed into v4l2loopback as MJPEG 320×240,
/// captured by kioskd's V4L2 source inside `kioskctl aim`. Serialized: one loopback device.
@Suite(.serialized, .enabled(if: AimHardware.available, "needs the VM harness (v4l2loopback) and the built kioskctl: run make test-hw"))
struct AimHardwareTests {
    /// A 320×240 MJPEG frame of `photo` (the stage's frame size: the guest is emulated), cropped
    /// to 4:3 from the top (where the faces are) so the face keeps its shape.
    static func frame(_ photo: String) throws -> [UInt8] {
        let image = try ImageFile.decode(TestAssets.faceImageBytes(photo), format: .rgb24)
        let height = min(image.height, image.width * 3 / 4)
        let width = height * 4 / 3
        let crop = try image.cropped(to: PixelRect(x: (image.width - width) / 2, y: 0, width: width, height: height)).image
        return try JPEGEncoder().encode(crop.resized(width: 320, height: 240), quality: 90)
    }

    /// Feeds `photo` into the loopback camera while `body` runs `aim` configured on it.
    static func withFeed<T>(_ photo: String, _ body: (_ config: String, _ device: String) async throws -> T) async throws -> T {
        let device = try #require(AimHardware.loopback)
        let feeder = try LoopbackFeeder(
            device: device, width: 320, height: 240, pixelFormat: .mjpeg, frame: frame(photo), framesPerSecond: 10)
        defer { feeder.stop() }
        let folder = try TestAssets.temporaryDirectory("kioskctl-aim-hw")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("kioskd.yaml").path
        try """
        camera:
          device: \(device)
          width: 320
          height: 240
          fps: 10
          format: mjpeg
        detection:
          model: \(TestAssets.yunetModel.path)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return try await body(config, device)
    }

    static func run(_ config: String) async throws -> APICommandTests.Run {
        // Frames arrive at 10 fps and the guest is emulated: a generous timeout, one warm-up frame.
        try await KioskctlBinary.run(["aim", "--once", "--json", "--config", config, "--warm-up", "1", "--timeout", "60"])
    }

    @Test("a face on the loopback camera: found, measured against the minimum, with advice")
    func face() async throws {
        try await Self.withFeed("images/facerec/obama.jpg") { config, device in
            let run = try await Self.run(config)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.json["source"] as? String == device)
            #expect(run.json["frame_width"] as? Int == 320 && run.json["frame_height"] as? Int == 240, "\(run.stdout)")
            #expect((run.json["face_count"] as? Int ?? 0) >= 1, "\(run.stdout)")
            let face = try #require(run.json["face"] as? [String: Any], "\(run.stdout)")
            #expect((face["size_px"] as? Double ?? 0) > 60)
            let codes = (run.json["advice"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
            #expect(!codes.isEmpty && !codes.contains("no_face"), "\(codes)")
        }
    }

    @Test("no face on the loopback camera: face is null and the advice says so")
    func noFace() async throws {
        try await Self.withFeed("images/ocvdoc/fruits.jpg") { config, _ in
            let run = try await Self.run(config)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.json["face_count"] as? Int == 0, "\(run.stdout)")
            #expect(run.stdout.contains("\"face\":null"))
            let codes = (run.json["advice"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
            #expect(codes.contains("no_face"), "\(codes)")
        }
    }
}
