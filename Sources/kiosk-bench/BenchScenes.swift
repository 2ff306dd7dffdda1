// BenchScenes: 640×480 MJPEG-like frames for the benchmarks: an empty scene with camera noise, and a person in it.
import Foundation
import Imaging
import TestSupport

/// Replayed frames that look like a camera's: the building photo at 640×480 with new sensor
/// noise (±4 grey levels) in every frame, so nothing is bit-identical from frame to frame, and
/// the same with a portrait pasted in (a person standing at the door, swaying a few pixels).
struct BenchScenes {
    let background: Image
    let person: Image

    /// `face` scaled to `width` × `height` is the person (200 × 234: a 90 px face, at the
    /// distance of a person walking up; 250 × 480: close to the camera, a sharp frontal face).
    init(person face: String = "images/mpl/grace_hopper.jpg", width: Int = 200, height: Int = 234) throws {
        background = try ImageFile.load(TestAssets.faceImage("images/ocvdoc/building.jpg"), format: .rgb24)
            .resized(width: 640, height: 480, method: .area)
        person = try ImageFile.load(TestAssets.faceImage(face), format: .rgb24).resized(width: width, height: height, method: .area)
    }

    /// Frame `n`: the empty scene, or the person with their left edge at `left` (top at 200,
    /// or at the top edge for a person as tall as the frame).
    func jpeg(_ n: Int, personAt left: Int?, encoder: JPEGEncoder) throws -> [UInt8] {
        var image = background
        let top = Swift.max(0, Swift.min(200, 480 - person.height))
        if let left {
            for y in 0..<person.height {
                for x in Swift.max(0, -left)..<Swift.min(person.width, 640 - left) {
                    let to = ((y + top) * 640 + x + left) * 3, from = (y * person.width + x) * 3
                    for c in 0..<3 { image.pixels[to + c] = person.pixels[from + c] }
                }
            }
        }
        return try Self.cameraJPEG(image, noise: n, encoder: encoder)
    }

    /// `image` with sensor noise seeded by `n` (±4 grey levels), as MJPEG at quality 85.
    static func cameraJPEG(_ image: Image, noise n: Int, encoder: JPEGEncoder) throws -> [UInt8] {
        var image = image
        var state = UInt64(n) &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in image.pixels.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            image.pixels[i] = UInt8(clamping: Int(image.pixels[i]) + Int(state % 9) - 4)
        }
        return try encoder.encode(image, quality: 85)
    }

    /// A person close to the camera, as the camera sees them: rows `rows` of `face` (a portrait
    /// photo) scaled to the frame's height, in the middle of the scene, with noise seeded by `n`,
    /// as 640×480 MJPEG. obama2.jpg rows 100..<760 make a frontal face about 200 × 300 px that
    /// qualifies on its first frame (quality above pipeline.good_enough).
    func closeUpJPEG(_ face: String, rows: Range<Int>, noise n: Int) throws -> [UInt8] {
        let photo = try ImageFile.load(TestAssets.faceImage(face), format: .rgb24)
        let part = try photo.cropped(to: PixelRect(x: 0, y: rows.lowerBound, width: photo.width, height: rows.count)).image
        let width = Swift.min(640, part.width * 480 / part.height)
        let scaled = try part.resized(width: width, height: 480, method: .area)
        var image = background
        let left = (640 - width) / 2
        for y in 0..<480 {
            for x in 0..<width {
                let to = (y * 640 + x + left) * 3, from = (y * width + x) * 3
                for c in 0..<3 { image.pixels[to + c] = scaled.pixels[from + c] }
            }
        }
        return try Self.cameraJPEG(image, noise: n, encoder: try JPEGEncoder())
    }

    /// Writes `count` frames into a new folder `name` under `directory` (replayed in name order).
    func writeFolder(_ name: String, in directory: URL, count: Int, person: Bool) throws -> URL {
        let folder = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = try JPEGEncoder()
        for n in 0..<count {
            let sway = person ? 220 + Int((sin(Double(n) / 5) * 4).rounded()) : nil
            let bytes = try jpeg(n, personAt: sway, encoder: encoder)
            try Data(bytes).write(to: folder.appendingPathComponent(String(format: "%04d.jpg", n)))
        }
        return folder
    }
}
