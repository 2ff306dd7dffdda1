// Imaging test helpers: a 640×480 JPEG frame made from a real face photo, and PSNR between two images.
import Foundation
import Imaging
import TestSupport
import Testing

enum Fixture {
    /// A 640×480 JPEG made from a real face photo: the size a kiosk camera streams.
    static func vgaFrame(quality: Int = 85) throws -> [UInt8] {
        let photo = try ImageFile.decode(TestAssets.faceImageBytes("images/mpl/grace_hopper.jpg"), format: .rgb24)
        let frame = try photo.resized(width: 640, height: 480)
        return try JPEGEncoder().encode(frame, quality: quality)
    }

    /// Peak signal-to-noise ratio in dB between two images of the same geometry.
    static func psnr(_ a: Image, _ b: Image) -> Double {
        precondition(a.pixels.count == b.pixels.count)
        var sum = 0.0
        for i in a.pixels.indices {
            let d = Double(a.pixels[i]) - Double(b.pixels[i])
            sum += d * d
        }
        let mse = sum / Double(a.pixels.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }
}
