// Degraded versions of a real face image (blurred, rotated, darkened, scaled) for the quality tests.
import CVision
import Imaging
import Testing

/// Degraded versions of a real face image, to check quality components move the right way.
enum Derived {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Gaussian blur with `sigma` pixels.
    static func blurred(_ image: Image, sigma: Double) throws -> Image {
        try apply(image) { src, dst, err in
            cvision_gaussian_blur(src, Int32(image.width), Int32(image.height), Int32(image.format.channels), sigma, dst, err, 256)
        }
    }

    /// Rotated counter-clockwise by `degrees` about the centre, same size.
    static func rotated(_ image: Image, degrees: Double) throws -> Image {
        try apply(image) { src, dst, err in
            cvision_rotate(src, Int32(image.width), Int32(image.height), Int32(image.format.channels), degrees, dst, err, 256)
        }
    }

    /// Every pixel multiplied by `factor` (0.25 = two stops darker).
    static func darkened(_ image: Image, factor: Double) -> Image {
        var copy = image
        copy.pixels = image.pixels.map { UInt8(min(255, (Double($0) * factor).rounded())) }
        return copy
    }

    /// Scaled by `factor` (area-averaged).
    static func shrunk(_ image: Image, factor: Double) throws -> Image {
        try image.resized(width: Int(Double(image.width) * factor), height: Int(Double(image.height) * factor))
    }

    private static func apply(
        _ image: Image,
        _ body: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<CChar>) -> Int32
    ) throws -> Image {
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        var err = [CChar](repeating: 0, count: 256)
        let rc = image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                err.withUnsafeMutableBufferPointer { body(src.baseAddress, dst.baseAddress, $0.baseAddress!) }
            }
        }
        guard rc == 0 else {
            throw Failure(description: String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard let result = Image(width: image.width, height: image.height, format: image.format, pixels: out) else {
            throw Failure(description: "size mismatch")
        }
        return result
    }
}
