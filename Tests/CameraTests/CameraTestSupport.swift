// Camera test fixtures: a 640×480 face frame, RGB to YUYV for the loopback camera, collecting frames.
import Foundation
import Imaging
import TestSupport
import Testing

@testable import Camera

enum CameraFixture {
    /// A real face photo resized to 640×480 (what a kiosk camera streams).
    static func vgaImage(_ relativePath: String = "images/mpl/grace_hopper.jpg") throws -> Image {
        try ImageFile.decode(TestAssets.faceImageBytes(relativePath), format: .rgb24).resized(width: 640, height: 480)
    }

    /// RGB → packed YUYV (BT.601 limited range), the format a loopback camera is fed.
    static func yuyv(from image: Image) -> [UInt8] {
        let rgb = image.converted(to: .rgb24)
        var out = [UInt8](repeating: 0, count: rgb.width * rgb.height * 2)
        func yuv(_ i: Int) -> (Int, Int, Int) {
            let r = Int(rgb.pixels[3 * i]), g = Int(rgb.pixels[3 * i + 1]), b = Int(rgb.pixels[3 * i + 2])
            let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
            let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128
            let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128
            return (y, u, v)
        }
        for i in stride(from: 0, to: rgb.width * rgb.height, by: 2) {
            let (y0, u0, v0) = yuv(i), (y1, u1, v1) = yuv(i + 1)
            out[2 * i] = UInt8(clamping: y0)
            out[2 * i + 1] = UInt8(clamping: (u0 + u1) / 2)
            out[2 * i + 2] = UInt8(clamping: y1)
            out[2 * i + 3] = UInt8(clamping: (v0 + v1) / 2)
        }
        return out
    }

    static func psnr(_ a: Image, _ b: Image) -> Double {
        var sum = 0.0
        for i in a.pixels.indices {
            let d = Double(a.pixels[i]) - Double(b.pixels[i])
            sum += d * d
        }
        let mse = sum / Double(max(a.pixels.count, 1))
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// Takes frames from a source until `count` arrived or `timeout` passed.
    static func collect(_ source: some FrameSource, count: Int, timeout: Duration = .seconds(10)) async throws -> [Frame] {
        try await withThrowingTaskGroup(of: [Frame]?.self) { group in
            group.addTask {
                var frames: [Frame] = []
                for try await frame in source.frames() {
                    frames.append(frame)
                    if frames.count >= count { break }
                }
                return frames
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return try #require(first, "no \(count) frames within \(timeout)")
        }
    }
}
