// PNGDecoder: decodes any PNG to 8-bit gray/RGB/BGR with libpng's simplified API (no setjmp in Swift).
import CPNG

/// Decodes PNG files with libpng's simplified API (`png_image_*`), which reports errors through
/// a return code and a message, so no `setjmp`/`longjmp` crosses Swift frames.
///
/// Any PNG libpng reads (8- or 16-bit, gray, palette, RGB, with or without alpha) comes out as
/// 8-bit gray/RGB/BGR; alpha is composited onto white (transparent parts of a picture are shown
/// as paper, which is what a person looking at it would expect).
package enum PNGDecoder {
    /// PNG files start with this 8-byte signature.
    package static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Decodes PNG bytes into `format`.
    /// The corresponding C functions are `png_image_begin_read_from_memory` and `png_image_finish_read`.
    package static func decode(_ png: [UInt8], to format: PixelFormat) throws(ImagingError) -> Image {
        guard png.count > signature.count, Array(png.prefix(signature.count)) == signature else {
            throw .corruptPNG(message: png.isEmpty ? "empty input" : "no PNG signature")
        }
        var image = png_image()
        image.version = png_uint_32(CPNG_IMAGE_VERSION)
        // png_image_free is safe after both success and failure; it releases libpng's state.
        defer { png_image_free(&image) }
        let begun = png.withUnsafeBytes { bytes in
            png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count)
        }
        guard begun != 0 else { throw .corruptPNG(message: message(of: &image)) }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15 else {
            throw .invalidGeometry(operation: "decode PNG", detail: "\(width)x\(height)")
        }
        image.format =
            switch format {
            case .gray8: png_uint_32(CPNG_FORMAT_GRAY)
            case .rgb24: png_uint_32(CPNG_FORMAT_RGB)
            case .bgr24: png_uint_32(CPNG_FORMAT_BGR)
            }
        var pixels = [UInt8](repeating: 0, count: width * height * format.channels)
        guard cpng_image_size(&image) == pixels.count else {
            throw .invalidGeometry(operation: "decode PNG", detail: "unexpected buffer size for \(width)x\(height) \(format)")
        }
        var white = png_color(red: 255, green: 255, blue: 255)
        let finished = pixels.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, &white, buffer.baseAddress, png_int_32(width * format.channels), nil)
        }
        guard finished != 0 else { throw .corruptPNG(message: message(of: &image)) }
        guard let result = Image(width: width, height: height, format: format, pixels: pixels) else {
            throw .invalidGeometry(operation: "decode PNG", detail: "\(width)x\(height)")
        }
        return result
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown libpng error" : String(decoding: bytes, as: UTF8.self)
        }
    }
}
