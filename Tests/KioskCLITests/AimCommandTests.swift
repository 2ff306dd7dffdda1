// `kioskctl aim --once --json` as scripts run it, on kioskd's replay camera with real JPEGs.
import Foundation
import TestSupport
import Testing

/// `kioskctl aim --once --json`: the real binary, configured like kioskd (camera.source: replay
/// with a folder of real JPEGs, detection.model), checking the documented JSON shape.
@Suite(
    "kioskctl aim --once",
    .enabled(if: KioskctlBinary.exists && TestAssets.available, "needs the built kioskctl and the assets (scripts/fetch-assets.sh)"))
struct AimCommandTests {
    /// A configuration whose camera replays `image` in a loop.
    static func withReplay<T>(_ image: String, extra: String = "", _ body: (String) async throws -> T) async throws -> T {
        let folder = try TestAssets.temporaryDirectory("kioskctl-aim")
        defer { try? FileManager.default.removeItem(at: folder) }
        let frames = folder.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        try Data(TestAssets.faceImageBytes(image)).write(to: frames.appendingPathComponent("frame.jpg"))
        let config = folder.appendingPathComponent("kioskd.yaml").path
        try """
        camera:
          source: replay
          replay:
            path: \(frames.path)
            fps: 15
            loop: true
        detection:
          model: \(TestAssets.yunetModel.path)
        \(extra)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return try await body(config)
    }

    static func object(_ run: APICommandTests.Run) -> [String: Any] { run.json }

    @Test("with a face: the face, its size against the minimum, quality, timings and advice")
    func face() async throws {
        try await Self.withReplay("images/facerec/obama.jpg") { config in
            let run = try await KioskctlBinary.run(["aim", "--once", "--json", "--config", config, "--warm-up", "2"])
            #expect(run.status == 0, "\(run.stderr)")
            let json = run.json
            for key in [
                "source", "frame_width", "frame_height", "min_face_size", "face_count", "face", "scene_luminance", "fps",
                "configured_fps", "detector_ms", "decode_ms", "advice",
            ] {
                #expect(json.keys.contains(key), "missing \(key) in \(run.stdout)")
            }
            #expect(json["min_face_size"] as? Int == 60)
            #expect(json["source"] as? String == "replay")
            #expect((json["face_count"] as? Int ?? 0) >= 1)
            let face = try #require(json["face"] as? [String: Any])
            #expect((face["box"] as? [Double])?.count == 4)
            #expect((face["size_px"] as? Double ?? 0) > 60)
            let quality = try #require(face["quality"] as? [String: Any])
            #expect(Set(quality.keys) == ["size", "detection", "sharpness", "exposure", "pose", "framing"])
            for key in ["score", "qualifies", "failures", "yaw_degrees", "roll_degrees", "pitch_degrees", "mean_luminance"] {
                #expect(face.keys.contains(key), "face.\(key)")
            }
            #expect((json["detector_ms"] as? Double ?? 0) > 0)
            let advice = try #require(json["advice"] as? [[String: Any]])
            #expect(!advice.isEmpty && advice.allSatisfy { $0["code"] is String && $0["text"] is String })
            #expect(!advice.contains { $0["code"] as? String == "no_face" })
        }
    }

    @Test("without a face: face is null and the advice says so")
    func noFace() async throws {
        try await Self.withReplay("images/ocvdoc/fruits.jpg") { config in
            let run = try await KioskctlBinary.run(["aim", "--once", "--json", "--config", config, "--warm-up", "0"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("\"face\":null"))
            #expect(run.json["face_count"] as? Int == 0)
            let codes = (run.json["advice"] as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(codes?.contains("no_face") == true)
        }
    }

    @Test("the configured minimum face size is the one compared against")
    func minimumFromConfiguration() async throws {
        try await Self.withReplay("images/facerec/obama.jpg", extra: "  min_face_size: 2000\n") { config in
            // `extra` lands under `detection:` (the last section written).
            let run = try await KioskctlBinary.run(["aim", "--once", "--json", "--config", config, "--warm-up", "0"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.json["min_face_size"] as? Int == 2000)
            #expect((run.json["advice"] as? [[String: Any]])?.first?["code"] as? String == "step_closer")
        }
    }

    @Test("the text form of --once fits 80 columns")
    func textOnce() async throws {
        try await Self.withReplay("images/facerec/obama.jpg") { config in
            let run = try await KioskctlBinary.run(["aim", "--once", "--config", config, "--warm-up", "0"])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count <= 23 && lines.count > 17)
            #expect(lines.allSatisfy { $0.count <= 80 }, "\(run.stdout)")
            #expect(!run.stdout.contains("\u{1B}"), "no escape sequences when not redrawing")
        }
    }

    @Test("a camera that does not exist: a failure that names it, within the timeout")
    func missingCamera() async throws {
        let folder = try TestAssets.temporaryDirectory("kioskctl-aim")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("kioskd.yaml").path
        try "camera:\n  device: /dev/video-none-here\ndetection:\n  model: \(TestAssets.yunetModel.path)\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let run = try await KioskctlBinary.run(["aim", "--once", "--json", "--config", config, "--timeout", "2"])
        #expect(run.status == 1, "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains("/dev/video-none-here"))
        let error = try #require(run.json["error"] as? [String: Any])
        #expect(error["class"] as? String == "failure" && error["exit_code"] as? Int == 1)
    }

    @Test("a bad configuration is exit 78 with the loader's message")
    func badConfiguration() async throws {
        let folder = try TestAssets.temporaryDirectory("kioskctl-aim")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("kioskd.yaml").path
        try "detection:\n  min_face_size: 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await KioskctlBinary.run(["aim", "--once", "--config", config])
        #expect(run.status == 78, "\(run.stderr)")
        #expect(run.stderr.contains("min_face_size"))
    }
}
