// kioskctl aim on the host: the advice rules, the screen on real face JPEGs, and `aim --once --json`.
import Foundation
import TestSupport
import Testing

@testable import Camera
@testable import FaceDetection
@testable import Imaging
@testable import KioskCLI
@testable import KioskCore

/// The advice rules with plain values: one row per rule, what it must say and must not.
@Suite("kioskctl aim advice")
struct AimAdviceTests {
    static func face(
        x: Double = 0.5, y: Double = 0.45, height: Double = 0.35, size: Double = 150, failures: [QualityFailure] = [],
        luminance: Double = 120, pitch: Double = 0, roll: Double = 0
    ) -> AimObservation.Face {
        AimObservation.Face(
            centerX: x, centerY: y, heightFraction: height, sizePixels: size, failures: failures, meanLuminance: luminance,
            pitchDegrees: pitch, rollDegrees: roll)
    }

    static func observe(
        _ face: AimObservation.Face?, faces: Int? = nil, scene: Double = 120, fps: Double? = 15, minFaceSize: Int = 60
    ) -> [String] {
        AimAdvisor.advise(
            AimObservation(
                face: face, faceCount: faces ?? (face == nil ? 0 : 1), minFaceSize: minFaceSize, sceneLuminance: scene,
                framesPerSecond: fps, configuredFramesPerSecond: 15)
        ).map(\.code)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var face: AimObservation.Face?
        var faces: Int? = nil
        var scene: Double = 120
        var fps: Double? = 15
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a good face", face: face(), expected: ["good"]),
        Case(name: "no face in a lit room", face: nil, expected: ["no_face"]),
        Case(name: "no face in the dark", face: nil, scene: 20, expected: ["too_dark", "no_face"]),
        Case(name: "no face, backlit", face: nil, scene: 240, expected: ["too_bright", "no_face"]),
        Case(name: "face too small", face: face(size: 40, failures: [.tooSmall]), expected: ["step_closer"]),
        Case(name: "face fills the picture", face: face(height: 0.9, size: 430), expected: ["step_back"]),
        Case(name: "face high in the picture", face: face(y: 0.15), expected: ["tilt_up"]),
        Case(name: "face low in the picture", face: face(y: 0.85, failures: [.notInFrame]), expected: ["tilt_down"]),
        Case(name: "face at the left", face: face(x: 0.1), expected: ["turn_left"]),
        Case(name: "face at the right", face: face(x: 0.9), expected: ["turn_right"]),
        Case(name: "dark face", face: face(failures: [.tooDark], luminance: 30), expected: ["too_dark"]),
        Case(name: "bright face", face: face(failures: [.tooBright], luminance: 230), expected: ["too_bright"]),
        Case(name: "clipped face", face: face(failures: [.clipped]), expected: ["clipped"]),
        Case(name: "uneven light", face: face(failures: [.unevenLighting]), expected: ["uneven_light"]),
        Case(name: "blurred", face: face(failures: [.blurred]), expected: ["blurred"]),
        Case(name: "camera too high", face: face(failures: [.lookingUpOrDown], pitch: 35), expected: ["camera_too_high"]),
        Case(name: "camera too low", face: face(failures: [.lookingUpOrDown], pitch: -35), expected: ["camera_too_low"]),
        Case(name: "sideways", face: face(failures: [.turnedSideways]), expected: ["face_sideways"]),
        Case(name: "tilted camera", face: face(failures: [.tilted], roll: 25), expected: ["level_camera"]),
        Case(name: "two faces, both fine", face: face(), faces: 2, expected: ["good", "several_faces"]),
        Case(name: "slow camera", face: face(), fps: 5, expected: ["slow_camera"]),
        Case(name: "slow and dark", face: nil, scene: 10, fps: 4, expected: ["too_dark", "no_face", "slow_camera"]),
        Case(
            name: "small, low and dark, most important first",
            face: face(y: 0.85, size: 30, failures: [.tooSmall, .tooDark], luminance: 25),
            expected: ["step_closer", "tilt_down", "too_dark"]),
    ]

    @Test("each rule says its advice and nothing else", arguments: cases)
    func rule(_ c: Case) {
        #expect(Self.observe(c.face, faces: c.faces, scene: c.scene, fps: c.fps) == c.expected)
    }

    @Test("the size advice names the face's size and the configured minimum")
    func sizeAdviceNamesNumbers() {
        let advice = AimAdvisor.advise(
            AimObservation(
                face: Self.face(size: 41.6, failures: [.tooSmall]), faceCount: 1, minFaceSize: 80, sceneLuminance: 120,
                framesPerSecond: nil, configuredFramesPerSecond: 30))
        #expect(advice.first?.text.contains("42 px, needs 80 px") == true, "\(advice)")
    }

    @Test("every sentence fits on an 80-column line after the marker")
    func adviceFits() {
        let worst = AimObservation(
            face: Self.face(
                x: 0.05, y: 0.95, size: 1999, failures: QualityFailure.allCases, luminance: 10, pitch: -89, roll: -179),
            faceCount: 12, minFaceSize: 2048, sceneLuminance: 0, framesPerSecond: 1, configuredFramesPerSecond: 120)
        for advice in AimAdvisor.advise(worst) {
            #expect(advice.text.count <= 78, "\(advice.text)")
        }
    }
}

/// The screen and the sample, from kioskd's own analyzer on real JPEGs.
@Suite("kioskctl aim screen", .enabled(if: TestAssets.available, "needs the models and face images (scripts/fetch-assets.sh)"))
struct AimScreenTests {
    static func sample(_ image: String, minFaceSize: Int = 60) async throws -> AimSample {
        var configuration = KioskConfiguration()
        configuration.detection.model = TestAssets.yunetModel.path
        configuration.detection.minFaceSize = minFaceSize
        let agent = KioskAgent(configuration: configuration, logger: .quiet)
        let analyzer = try agent.makeAnalyzer()
        let jpeg = try TestAssets.faceImageBytes(image)
        let header = try JPEGDecoder().header(jpeg)
        let frame = Frame(sequence: 1, timestamp: .now(), width: header.width, height: header.height, payload: .jpeg(jpeg))
        let analysis = try await analyzer.analyze(frame)
        return AimSample.make(
            analysis: analysis, luma: await (try LumaSampler()).grid(of: frame), source: "test", minFaceSize: minFaceSize,
            framesPerSecond: 14.9, configuredFramesPerSecond: 15)
    }

    static func checkFits(_ lines: [String]) {
        #expect(lines.count <= 23)
        for line in lines { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
        #expect(lines.allSatisfy { $0.allSatisfy { $0.isASCII } }, "plain ASCII for serial consoles")
    }

    @Test("a face: its box on the map, its size against the minimum, quality figures, advice")
    func face() async throws {
        let sample = try await Self.sample("images/facerec/obama.jpg")
        let face = try #require(sample.face)
        #expect(face.sizePx >= 60)
        #expect(face.box.count == 4)
        let lines = AimScreen.render(sample, title: "/dev/video0")
        Self.checkFits(lines)
        let map = lines[1...(AimScreen.mapRows + 2)].map { String($0.prefix(AimScreen.mapColumns + 2)) }
        #expect(map.dropFirst().dropLast().contains { $0.dropFirst().dropLast().contains("+") }, "face box corners on the map")
        let text = lines.joined(separator: "\n")
        #expect(text.contains("face      \(Int(face.sizePx.rounded())) px (min 60)"))
        #expect(text.contains("size      ok"))
        #expect(text.contains("sharpness") && text.contains("exposure") && text.contains("pose") && text.contains("framing"))
        #expect(text.contains("14.9 fps"))
        #expect(!sample.advice.isEmpty)
        #expect(lines.last?.isEmpty == false)
    }

    @Test("the same face against a minimum it does not reach: step closer")
    func faceTooSmall() async throws {
        let sample = try await Self.sample("images/facerec/obama.jpg", minFaceSize: 2000)
        #expect(sample.advice.first?.code == "step_closer")
        let text = AimScreen.render(sample, title: "x").joined(separator: "\n")
        #expect(text.contains("size      TOO SMALL: step closer"))
        #expect(text.contains("> step closer"))
    }

    @Test("no face: the map alone, and advice to stand in view")
    func noFace() async throws {
        let sample = try await Self.sample("images/ocvdoc/fruits.jpg")
        #expect(sample.face == nil && sample.faceCount == 0)
        #expect(sample.advice.map(\.code).contains("no_face"))
        #expect(sample.sceneLuminance > 20)
        let lines = AimScreen.render(sample, title: "/dev/video0")
        Self.checkFits(lines)
        #expect(lines.joined().contains("face      none"))
    }

    @Test("a dark frame is called too dark")
    func dark() async throws {
        let image = Image(width: 320, height: 240, format: .gray8, filledWith: 8)
        let grid = LumaGrid(gray: image, columns: AimScreen.mapColumns, rows: AimScreen.mapRows)
        #expect(grid.mean == 8)
        let advice = AimAdvisor.advise(
            AimObservation(
                face: nil, faceCount: 0, minFaceSize: 60, sceneLuminance: grid.mean, framesPerSecond: nil,
                configuredFramesPerSecond: 15))
        #expect(advice.first?.text == "too dark: add light or raise exposure (camera.controls)")
    }

    @Test("the redraw is cursor home, lines cleared to their end, rest cleared: no alternate screen")
    func redrawSequence() {
        let bytes = AimScreen.frame(["a", "b"])
        #expect(bytes == "\u{1B}[Ha\u{1B}[K\nb\u{1B}[K\n\u{1B}[J")
        #expect(!bytes.contains("\u{1B}[?1049"))
    }
}
