// IdleSceneGate: skips face detection on frames of an empty, unchanged scene (the idle CPU lever).
package import Camera
package import Imaging

/// The idle scene gate's settings (`pipeline.idle_gate`, `pipeline.idle_change_level`,
/// `pipeline.idle_recheck`; the changed-cell count follows `detection.min_face_size`).
package struct IdleSceneGateSettings: Sendable, Equatable {
    /// Off: every frame goes through the detector.
    package var enabled: Bool
    /// How many grey levels (0-255) a thumbnail cell's mean must move to count as changed.
    package var changeLevel: Int
    /// The smallest face that may start a check-in, in full-frame pixels: a face of that size
    /// appearing must be enough change to wake the detector.
    package var minFaceSize: Int
    /// While the scene stays still, the detector still runs at least this often.
    package var recheck: Duration

    package init(enabled: Bool = true, changeLevel: Int = 12, minFaceSize: Int = 60, recheck: Duration = .seconds(1)) {
        self.enabled = enabled
        self.changeLevel = changeLevel
        self.minFaceSize = minFaceSize
        self.recheck = recheck
    }

    /// Every frame is detected.
    package static let off = IdleSceneGateSettings(enabled: false)
}

/// Decides, per frame, whether face detection must run, so an empty door costs a scaled decode
/// and a thumbnail instead of a YuNet pass 30 times a second.
///
/// The frame is reduced to a grey thumbnail of ``gridWidth`` cells across (cell means of the
/// detection image already decoded). Detection is skipped only when all of these hold:
/// the last detection found no face at all; the thumbnail differs from the one of that last
/// detection in fewer cells than a minimum-size face covers (a quarter of them, at least
/// two) by `changeLevel`; and `recheck` has not passed since that detection. Comparing with the
/// frame of the last *detection*, not the previous frame, means slow change adds up (someone
/// walking in slowly) instead of hiding under the threshold frame after frame.
///
/// The bound: a person whose arrival changes a quarter of a minimum-size face's cells is
/// detected on the very frame it happens, as without the gate; anything subtler within
/// `recheck`. Not thread-safe: owned by ``FrameAnalyzer`` and used on its queue only.
package struct IdleSceneGate: Sendable {
    /// Thumbnail cells across: a 60 px face in a 640 px frame covers about 6 × 7 of them.
    package static let gridWidth = 64

    /// The thumbnail of the frame of the last detection that found nothing (empty: none yet).
    private var reference: [UInt8] = []
    /// The current frame's thumbnail; swapped with `reference`, so neither is reallocated.
    private var current: [UInt8] = []
    private var lastDetection: MonotonicTime?
    private var lastDetectionFoundFaces = true

    package init() {}

    /// Whether the frame (its detection image `image`, taken at `time`, of a frame
    /// `frameWidth` pixels wide) must go through the detector. Call ``detected(faces:at:)``
    /// after every detection that runs.
    package mutating func mustDetect(_ image: Image, frameWidth: Int, at time: MonotonicTime, settings: IdleSceneGateSettings) -> Bool {
        guard settings.enabled else { return true }
        Self.thumbnail(of: image, into: &current)
        // A new frame size (another camera mode) has no reference yet.
        guard !lastDetectionFoundFaces, let last = lastDetection, reference.count == current.count else {
            return true
        }
        if time.duration(since: last) >= settings.recheck { return true }
        return changedCells(level: settings.changeLevel) >= Self.wakeCells(minFaceSize: settings.minFaceSize, frameWidth: frameWidth)
    }

    /// Records a detection's result: a frame without faces becomes the still scene to compare with.
    package mutating func detected(faces: Int, at time: MonotonicTime) {
        lastDetection = time
        lastDetectionFoundFaces = faces > 0
        if faces == 0, !current.isEmpty { swap(&reference, &current) }
    }

    /// Changed cells that wake the detector: a quarter of a minimum-size face's cells (a face
    /// box is about 1.2 times as tall as wide), at least two, so one noisy cell never does.
    static func wakeCells(minFaceSize: Int, frameWidth: Int) -> Int {
        let cellSide = Double(max(frameWidth, 1)) / Double(gridWidth)
        let side = Double(minFaceSize) / cellSide
        return max(2, Int(side * side * 1.2 / 4))
    }

    private func changedCells(level: Int) -> Int {
        var changed = 0
        current.withUnsafeBufferPointer { now in
            reference.withUnsafeBufferPointer { before in
                for i in 0..<now.count where abs(Int(now[i]) - Int(before[i])) >= level { changed += 1 }
            }
        }
        return changed
    }

    /// Writes the grey cell means of `image` into `cells` (reusing its storage); returns the
    /// grid's height in cells. Grey is (R + 2G + B) / 4, close enough to luma to see a person arrive.
    @discardableResult
    static func thumbnail(of image: Image, into cells: inout [UInt8]) -> Int {
        let columns = min(gridWidth, image.width)
        let rows = max(1, min(image.height, (columns * image.height + image.width / 2) / image.width))
        if cells.count != columns * rows { cells = [UInt8](repeating: 0, count: columns * rows) }
        let channels = image.format.channels
        let stride = image.stride
        // BGR and RGB weigh their outer channels alike, so the order does not matter.
        image.pixels.withUnsafeBufferPointer { pixels in
            cells.withUnsafeMutableBufferPointer { out in
                for row in 0..<rows {
                    let y0 = row * image.height / rows, y1 = (row + 1) * image.height / rows
                    for column in 0..<columns {
                        let x0 = column * image.width / columns, x1 = (column + 1) * image.width / columns
                        var sum = 0
                        for y in y0..<y1 {
                            var p = y * stride + x0 * channels
                            for _ in x0..<x1 {
                                sum += channels == 1 ? 4 * Int(pixels[p]) : Int(pixels[p]) + 2 * Int(pixels[p + 1]) + Int(pixels[p + 2])
                                p += channels
                            }
                        }
                        out[row * columns + column] = UInt8(sum / max(1, 4 * (y1 - y0) * (x1 - x0)))
                    }
                }
            }
        }
        return rows
    }
}

extension CheckInPipeline.Tunables {
    /// The idle scene gate as `pipeline.idle_*` and `detection.min_face_size` set it.
    var idleSceneGate: IdleSceneGateSettings {
        IdleSceneGateSettings(
            enabled: pipeline.idleGate, changeLevel: pipeline.idleChangeLevel, minFaceSize: detection.minFaceSize,
            recheck: pipeline.idleRecheck)
    }
}
