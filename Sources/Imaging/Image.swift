/// The pixel layouts the agent works with. Rows are tightly packed (stride = width × channels).
package enum PixelFormat: Sendable, Hashable, CustomStringConvertible {
    /// One byte of luminance per pixel.
    case gray8
    /// Three bytes per pixel, red first.
    case rgb24
    /// Three bytes per pixel, blue first (OpenCV's native order).
    case bgr24

    /// Bytes per pixel.
    package var channels: Int {
        switch self {
        case .gray8: 1
        case .rgb24, .bgr24: 3
        }
    }

    package var description: String {
        switch self {
        case .gray8: "gray8"
        case .rgb24: "rgb24"
        case .bgr24: "bgr24"
        }
    }
}

/// An image in memory: dimensions, layout and tightly packed pixels.
///
/// A value type on purpose: frames cross task boundaries (camera thread → pipeline → encoder)
/// and copy-on-write keeps that cheap while staying `Sendable`. Face images are biometric data:
/// an `Image` lives in memory only and is never logged.
package struct Image: Sendable, Equatable {
    package let width: Int
    package let height: Int
    package let format: PixelFormat
    /// Row-major pixels, `width * height * format.channels` bytes.
    package var pixels: [UInt8]

    /// Wraps pixels; `nil` when the byte count does not match the dimensions.
    package init?(width: Int, height: Int, format: PixelFormat, pixels: [UInt8]) {
        guard width > 0, height > 0, pixels.count == width * height * format.channels else { return nil }
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
    }

    /// A uniform image (tests, padding).
    package init(width: Int, height: Int, format: PixelFormat, filledWith value: UInt8 = 0) {
        precondition(width > 0 && height > 0, "image dimensions must be positive")
        self.width = width
        self.height = height
        self.format = format
        self.pixels = [UInt8](repeating: value, count: width * height * format.channels)
    }

    /// Bytes per row.
    package var stride: Int { width * format.channels }
}
