// The idle scene gate: a still, empty scene skips the detector; a person is found on the frame they appear.
import Camera
import FaceDetection
import Foundation
import Imaging
import Synchronization
import TestSupport
import Testing

@testable import KioskCore

@Suite("Idle scene gate: skip the detector on a still, empty scene")
struct IdleSceneGateTests {
    let settings = IdleSceneGateSettings(enabled: true, changeLevel: 12, minFaceSize: 60, recheck: .seconds(1))

    static func at(_ milliseconds: Int) -> MonotonicTime { MonotonicTime(nanoseconds: 1_000_000_000 + UInt64(milliseconds) * 1_000_000) }

    @Test("pure: a still empty scene is detected once, then only at the recheck interval")
    func stillScene() {
        var gate = IdleSceneGate()
        let image = Image(width: 320, height: 240, format: .bgr24, filledWith: 100)
        var detections = 0
        for n in 0..<90 {  // 3 s at 30 fps
            let time = Self.at(n * 33)
            if gate.mustDetect(image, frameWidth: 640, at: time, settings: settings) {
                detections += 1
                gate.detected(faces: 0, at: time)
            }
        }
        // The first frame, then once per second of recheck.
        #expect(detections == 3)
    }

    @Test("pure: a change the size of a quarter of a minimum face wakes the detector at once")
    func changeWakes() {
        var gate = IdleSceneGate()
        let still = Image(width: 320, height: 240, format: .bgr24, filledWith: 100)
        let wakes1 = gate.mustDetect(still, frameWidth: 640, at: Self.at(0), settings: settings)
        #expect(wakes1)
        gate.detected(faces: 0, at: Self.at(0))
        let wakes2 = gate.mustDetect(still, frameWidth: 640, at: Self.at(33), settings: settings)
        #expect(!wakes2)
        // A 60 px face in a 640 px frame is 30 px in the 320 px detection image: 6 × 7 cells.
        var face = still
        for y in 100..<136 {
            for x in 150..<180 {
                for c in 0..<3 { face.pixels[(y * 320 + x) * 3 + c] = 160 }
            }
        }
        let wakes3 = gate.mustDetect(face, frameWidth: 640, at: Self.at(66), settings: settings)
        #expect(wakes3)
        // Noise of a few grey levels on every pixel does not.
        var noisy = still
        var generator = SeededGenerator(seed: 7)
        for i in noisy.pixels.indices { noisy.pixels[i] = UInt8(100 + Int.random(in: -6...6, using: &generator)) }
        var quiet = IdleSceneGate()
        _ = quiet.mustDetect(still, frameWidth: 640, at: Self.at(0), settings: settings)
        quiet.detected(faces: 0, at: Self.at(0))
        let wakes4 = quiet.mustDetect(noisy, frameWidth: 640, at: Self.at(33), settings: settings)
        #expect(!wakes4)
    }

    @Test("pure: while faces are found every frame is detected; disabled detects every frame")
    func facesKeepDetecting() {
        var gate = IdleSceneGate()
        let image = Image(width: 320, height: 240, format: .bgr24, filledWith: 100)
        for n in 0..<10 {
            let wakes5 = gate.mustDetect(image, frameWidth: 640, at: Self.at(n * 33), settings: settings)
            #expect(wakes5)
            gate.detected(faces: 1, at: Self.at(n * 33))
        }
        var off = IdleSceneGate()
        for n in 0..<10 {
            let wakes6 = off.mustDetect(image, frameWidth: 640, at: Self.at(n * 33), settings: .off)
            #expect(wakes6)
            off.detected(faces: 0, at: Self.at(n * 33))
        }
    }

    // MARK: Real frames, real YuNet

    /// The real detector, counting its passes.
    final class CountingDetector: FaceDetector {
        let detector: YuNetFaceDetector
        let calls = Atomic<Int>(0)
        init() throws { detector = try YuNetFaceDetector(configuration: .init(modelPath: TestAssets.yunetModel.path)) }
        func detect(in image: Image) async throws(FaceDetectionError) -> [DetectedFace] {
            calls.add(1, ordering: .relaxed)
            return try await detector.detect(in: image)
        }
    }

    /// A 640×480 MJPEG-like frame: the building photo with camera noise (±4 levels, new each
    /// frame) and, when `personAt` is given, Grace Hopper's portrait (about a 90 px face)
    /// pasted with its left edge there (partly outside the frame while they walk in).
    struct Scene {
        let background: Image
        let person: Image

        init() throws {
            background = try ImageFile.load(TestAssets.faceImage("images/ocvdoc/building.jpg"), format: .rgb24)
                .resized(width: 640, height: 480, method: .area)
            person = try ImageFile.load(TestAssets.faceImage("images/mpl/grace_hopper.jpg"), format: .rgb24)
                .resized(width: 200, height: 234, method: .area)
        }

        func frame(_ n: Int, personAt left: Int?, noiseSeed: UInt64) throws -> Frame {
            var image = background
            if let left {
                for y in 0..<person.height {
                    for x in max(0, -left)..<min(person.width, 640 - left) {
                        let to = ((y + 200) * 640 + x + left) * 3, from = (y * person.width + x) * 3
                        for c in 0..<3 { image.pixels[to + c] = person.pixels[from + c] }
                    }
                }
            }
            var generator = SeededGenerator(seed: noiseSeed + UInt64(n))
            for i in stride(from: 0, to: image.pixels.count, by: 1) {
                image.pixels[i] = UInt8(clamping: Int(image.pixels[i]) + Int.random(in: -4...4, using: &generator))
            }
            let jpeg = try JPEGEncoder().encode(image, quality: 85)
            return Frame(sequence: UInt64(n), timestamp: IdleSceneGateTests.at(n * 33), width: 640, height: 480, payload: .jpeg(jpeg))
        }
    }

    /// The index of the first frame with a face, and the detector's passes, over `frames`.
    static func firstFace(_ frames: [Frame], gate: IdleSceneGateSettings) async throws -> (first: Int?, passes: Int) {
        let detector = try CountingDetector()
        let analyzer = try FrameAnalyzer(detector: detector, scorer: FaceQualityScorer(), detectionWidth: 320)
        var first: Int?
        for (index, frame) in frames.enumerated() {
            let analysis = try await analyzer.analyze(frame, idleGate: gate)
            if first == nil, !analysis.faces.isEmpty { first = index }
        }
        return (first, detector.calls.load(ordering: .relaxed))
    }

    @Test(
        "real frames: a person appearing is detected no later than without the gate",
        .enabled(if: TestAssets.available, "needs the public face set: scripts/fetch-assets.sh"))
    func boundAppearing() async throws {
        let scene = try Scene()
        var frames: [Frame] = []
        for n in 0..<12 { frames.append(try scene.frame(n, personAt: nil, noiseSeed: 1)) }
        for n in 12..<16 { frames.append(try scene.frame(n, personAt: 220, noiseSeed: 1)) }
        let without = try await Self.firstFace(frames, gate: .off)
        let with = try await Self.firstFace(frames, gate: settings)
        #expect(without.first == 12)
        let first = try #require(with.first)
        #expect(first <= 12 + 1)
        #expect(first == 12, "the change detector wakes on the very frame")
        // The 11 still frames after the first were skipped.
        #expect(with.passes <= without.passes - 10)
    }

    @Test(
        "real frames: a person walking in from the edge is detected no later than without the gate",
        .enabled(if: TestAssets.available, "needs the public face set: scripts/fetch-assets.sh"))
    func boundWalkingIn() async throws {
        let scene = try Scene()
        var frames: [Frame] = []
        for n in 0..<8 { frames.append(try scene.frame(n, personAt: nil, noiseSeed: 2)) }
        // 12 px a frame (about 0.6 m/s at a door), from fully outside the left edge.
        for step in 0..<24 { frames.append(try scene.frame(8 + step, personAt: -200 + 12 * step, noiseSeed: 2)) }
        let without = try await Self.firstFace(frames, gate: .off)
        let with = try await Self.firstFace(frames, gate: settings)
        let reference = try #require(without.first)
        let gated = try #require(with.first)
        #expect(gated <= reference + 1)
    }

    @Test(
        "real frames: a still scene with camera noise runs the detector only at the recheck interval",
        .enabled(if: TestAssets.available, "needs the public face set: scripts/fetch-assets.sh"))
    func stillSceneSkips() async throws {
        let scene = try Scene()
        let frames = try (0..<45).map { try scene.frame($0, personAt: nil, noiseSeed: 3) }  // 1.5 s at 30 fps
        let with = try await Self.firstFace(frames, gate: settings)
        #expect(with.first == nil)
        // The first frame and one recheck after a second.
        #expect(with.passes == 2)
    }
}
