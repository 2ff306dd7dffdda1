// AimSample: one analysed frame as `kioskctl aim` shows it and `--once --json` prints it.
import Camera
import FaceDetection
import Foundation
import Imaging
import KioskCore

/// One analysed frame: the largest face (full-frame pixels) with its quality, the scene's
/// light, rates and timings, and the advice. Its JSON form is the documented shape of
/// `kioskctl aim --once --json` (docs/KIOSKCTL.md).
struct AimSample: Sendable, Equatable, Encodable {
    struct FaceReport: Sendable, Equatable, Encodable {
        /// [x, y, width, height] in full-frame pixels.
        var box: [Double]
        /// The longer side of the box in full-frame pixels, compared with `min_face_size`.
        var sizePx: Double
        var detectorScore: Double
        var qualifies: Bool
        var quality: FaceQuality.Components
        var score: Double
        var failures: [QualityFailure]
        var yawDegrees: Double
        var rollDegrees: Double
        var pitchDegrees: Double
        var meanLuminance: Double
        var laplacianVariance: Double
        var interEyePx: Double

        enum CodingKeys: String, CodingKey {
            case box, qualifies, quality, score, failures
            case sizePx = "size_px"
            case detectorScore = "detector_score"
            case yawDegrees = "yaw_degrees"
            case rollDegrees = "roll_degrees"
            case pitchDegrees = "pitch_degrees"
            case meanLuminance = "mean_luminance"
            case laplacianVariance = "laplacian_variance"
            case interEyePx = "inter_eye_px"
        }
    }

    var source: String
    var frameWidth: Int
    var frameHeight: Int
    var minFaceSize: Int
    var faceCount: Int
    var face: FaceReport?
    var sceneLuminance: Double
    var framesPerSecond: Double?
    var configuredFramesPerSecond: Double
    var detectorMilliseconds: Double
    var decodeMilliseconds: Double
    var advice: [AimAdvice]
    /// The frame as a coarse luminance grid for the screen (not in JSON: it is a picture).
    var luma: LumaGrid

    enum CodingKeys: String, CodingKey {
        case source, face, advice
        case frameWidth = "frame_width"
        case frameHeight = "frame_height"
        case minFaceSize = "min_face_size"
        case faceCount = "face_count"
        case sceneLuminance = "scene_luminance"
        case framesPerSecond = "fps"
        case configuredFramesPerSecond = "configured_fps"
        case detectorMilliseconds = "detector_ms"
        case decodeMilliseconds = "decode_ms"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(frameWidth, forKey: .frameWidth)
        try c.encode(frameHeight, forKey: .frameHeight)
        try c.encode(minFaceSize, forKey: .minFaceSize)
        try c.encode(faceCount, forKey: .faceCount)
        // Always present (null when no face) so scripts need not test for the key.
        try c.encode(face, forKey: .face)
        try c.encode(Self.rounded(sceneLuminance, 1), forKey: .sceneLuminance)
        try c.encode(framesPerSecond.map { Self.rounded($0, 1) }, forKey: .framesPerSecond)
        try c.encode(configuredFramesPerSecond, forKey: .configuredFramesPerSecond)
        try c.encode(Self.rounded(detectorMilliseconds, 2), forKey: .detectorMilliseconds)
        try c.encode(Self.rounded(decodeMilliseconds, 2), forKey: .decodeMilliseconds)
        try c.encode(advice, forKey: .advice)
    }

    static func rounded(_ value: Double, _ digits: Int) -> Double {
        let factor = pow(10, Double(digits))
        return (value * factor).rounded() / factor
    }

    /// The observation the advice is decided from.
    var observation: AimObservation {
        AimObservation(
            face: face.map { face in
                AimObservation.Face(
                    centerX: (face.box[0] + face.box[2] / 2) / Double(max(frameWidth, 1)),
                    centerY: (face.box[1] + face.box[3] / 2) / Double(max(frameHeight, 1)),
                    heightFraction: face.box[3] / Double(max(frameHeight, 1)), sizePixels: face.sizePx, failures: face.failures,
                    meanLuminance: face.meanLuminance, pitchDegrees: face.pitchDegrees, rollDegrees: face.rollDegrees)
            },
            faceCount: faceCount, minFaceSize: minFaceSize, sceneLuminance: sceneLuminance, framesPerSecond: framesPerSecond,
            configuredFramesPerSecond: configuredFramesPerSecond)
    }

    /// Builds a sample from kioskd's own analysis of a frame, choosing the face as kioskd does
    /// (the largest), and decides the advice.
    static func make(
        analysis: FrameAnalysis, luma: LumaGrid, source: String, minFaceSize: Int, framesPerSecond: Double?,
        configuredFramesPerSecond: Double
    ) -> AimSample {
        let mapping = analysis.mapping
        let largest = analysis.faces.max { $0.face.box.area < $1.face.box.area }
        let face = largest.map { assessed -> FaceReport in
            let box = assessed.face.box.scaled(x: mapping.scaleX, y: mapping.scaleY)
            let q = assessed.quality
            let m = q.measurements
            return FaceReport(
                box: [box.x, box.y, box.width, box.height].map { rounded($0, 1) }, sizePx: rounded(max(box.width, box.height), 1),
                detectorScore: rounded(assessed.face.score, 3), qualifies: q.qualifies,
                quality: .init(
                    size: rounded(q.components.size, 3), detection: rounded(q.components.detection, 3),
                    sharpness: rounded(q.components.sharpness, 3), exposure: rounded(q.components.exposure, 3),
                    pose: rounded(q.components.pose, 3), framing: rounded(q.components.framing, 3)),
                score: rounded(q.score, 3), failures: q.failures, yawDegrees: rounded(m.yawDegrees, 1),
                rollDegrees: rounded(m.rollDegrees, 1), pitchDegrees: rounded(m.pitchDegrees, 1),
                meanLuminance: rounded(m.meanLuminance, 1), laplacianVariance: rounded(m.laplacianVariance, 1),
                interEyePx: rounded(m.interEyeDistance * mapping.scaleX, 1))
        }
        var sample = AimSample(
            source: source, frameWidth: mapping.frameWidth, frameHeight: mapping.frameHeight, minFaceSize: minFaceSize,
            faceCount: analysis.faces.count, face: face, sceneLuminance: luma.mean, framesPerSecond: framesPerSecond,
            configuredFramesPerSecond: configuredFramesPerSecond, detectorMilliseconds: analysis.detectTime.aimMilliseconds,
            decodeMilliseconds: analysis.decodeTime.aimMilliseconds, advice: [], luma: luma)
        sample.advice = AimAdvisor.advise(sample.observation)
        return sample
    }
}

/// A coarse luminance picture of the frame: `columns` × `rows` cells, 0...255 each.
struct LumaGrid: Sendable, Equatable {
    var columns: Int
    var rows: Int
    var cells: [UInt8]

    static let empty = LumaGrid(columns: 0, rows: 0, cells: [])

    var mean: Double {
        cells.isEmpty ? 0 : Double(cells.reduce(0) { $0 + Int($1) }) / Double(cells.count)
    }

    /// Averages a gray image into a grid (box filter per cell).
    init(gray image: Image, columns: Int, rows: Int) {
        precondition(image.format == .gray8, "LumaGrid takes a gray8 image")
        self.columns = columns
        self.rows = rows
        var cells = [UInt8](repeating: 0, count: columns * rows)
        for row in 0..<rows {
            let y0 = row * image.height / rows, y1 = max(y0 + 1, (row + 1) * image.height / rows)
            for column in 0..<columns {
                let x0 = column * image.width / columns, x1 = max(x0 + 1, (column + 1) * image.width / columns)
                var sum = 0, count = 0
                for y in y0..<min(y1, image.height) {
                    for x in x0..<min(x1, image.width) {
                        sum += Int(image.pixels[y * image.stride + x])
                        count += 1
                    }
                }
                cells[row * columns + column] = UInt8(count == 0 ? 0 : sum / count)
            }
        }
        self.cells = cells
    }

    init(columns: Int, rows: Int, cells: [UInt8]) {
        self.columns = columns
        self.rows = rows
        self.cells = cells
    }
}

extension Duration {
    var aimMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
