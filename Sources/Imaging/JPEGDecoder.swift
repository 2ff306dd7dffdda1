// JPEGDecoder: TurboJPEG decoding (header, full or scaled), one handle per thread; JPEGHeader, ScaledImage.
import CTurboJPEG

/// What a JPEG header says, read without decoding the pixels.
package struct JPEGHeader: Sendable, Hashable {
    package let width: Int
    package let height: Int
    /// True for single-component (grayscale) JPEGs.
    package let isGrayscale: Bool
}

/// A decoded JPEG together with the TurboJPEG scale used, so boxes found in the (smaller)
/// decoded image can be mapped back to the full frame.
package struct ScaledImage: Sendable {
    package let image: Image
    /// The factor applied during decode; `.full` when none.
    package let scale: JPEGScale
    /// The JPEG's own dimensions.
    package let originalWidth: Int
    package let originalHeight: Int

    package init(image: Image, scale: JPEGScale, originalWidth: Int, originalHeight: Int) {
        self.image = image
        self.scale = scale
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
    }
}

/// Decodes JPEG (and MJPEG frame) bytes with TurboJPEG.
///
/// Owns one TurboJPEG handle, freed in `deinit`. A handle is not thread-safe, so this class is
/// deliberately not `Sendable`: create one per thread or task that decodes (creation is cheap).
package final class JPEGDecoder {
    // Replaced after an error: TurboJPEG 2.1 can leave a handle mid-read after a failed
    // header parse, so every later call would fail with the same message.
    private var handle: tjhandle

    /// Creates a decoder. The corresponding C function is `tjInitDecompress`.
    package init() throws(ImagingError) {
        guard let handle = tjInitDecompress() else {
            throw .codecUnavailable(codec: "TurboJPEG decompressor", message: String(cString: tjGetErrorStr2(nil)))
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Reads the size of a JPEG without decoding it.
    /// The corresponding C function is `tjDecompressHeader3`.
    package func header(_ jpeg: [UInt8]) throws(ImagingError) -> JPEGHeader {
        try Self.checkMarker(jpeg, operation: "read JPEG header")
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let rc = jpeg.withUnsafeBufferPointer { buffer in
            tjDecompressHeader3(handle, buffer.baseAddress, UInt(buffer.count), &width, &height, &subsampling, &colorspace)
        }
        if rc != 0 { throw lastError(operation: "read JPEG header") }
        guard width > 0, height > 0 else {
            throw .corruptJPEG(operation: "read JPEG header", message: "zero size \(width)x\(height)", isWarning: false)
        }
        return JPEGHeader(width: Int(width), height: Int(height), isGrayscale: colorspace == Int32(TJCS_GRAY.rawValue))
    }

    /// Decodes a JPEG at the given TurboJPEG scale.
    ///
    /// Damaged data throws `ImagingError.corruptJPEG`; with `strict` (the default) that includes
    /// data TurboJPEG only warns about (a truncated frame decodes to a grey bottom part, which
    /// must not reach face detection). The corresponding C function is `tjDecompress2`.
    package func decode(_ jpeg: [UInt8], to format: PixelFormat, scale: JPEGScale = .full, strict: Bool = true) throws(ImagingError)
        -> ScaledImage
    {
        var pixels: [UInt8] = []
        return try decode(jpeg, to: format, scale: scale, strict: strict, reusing: &pixels)
    }

    /// Decodes into `pixels`' storage: when it has the right size and no image still shares it
    /// (copy-on-write), nothing is allocated. The per-frame path keeps one such buffer, so 30
    /// frames a second do not allocate (and zero) a new image each.
    package func decode(
        _ jpeg: [UInt8], to format: PixelFormat, scale: JPEGScale, strict: Bool = true, reusing pixels: inout [UInt8]
    ) throws(ImagingError) -> ScaledImage {
        let header = try header(jpeg)
        let width = scale.scaled(header.width), height = scale.scaled(header.height)
        if pixels.count != width * height * format.channels { pixels = [UInt8](repeating: 0, count: width * height * format.channels) }
        let flags = strict ? Int32(TJFLAG_STOPONWARNING) : 0
        let rc = jpeg.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { destination in
                tjDecompress2(
                    handle, source.baseAddress, UInt(source.count), destination.baseAddress,
                    Int32(width), 0, Int32(height), Self.tjPixelFormat(format), flags)
            }
        }
        if rc != 0 {
            let error = lastError(operation: "decode JPEG")
            if strict { throw error }
            if case .corruptJPEG(_, _, isWarning: false) = error { throw error }
        }
        guard let image = Image(width: width, height: height, format: format, pixels: pixels) else {
            throw .invalidGeometry(operation: "decode JPEG", detail: "\(width)x\(height)")
        }
        return ScaledImage(image: image, scale: scale, originalWidth: header.width, originalHeight: header.height)
    }

    /// Decodes at the smallest TurboJPEG scale that still gives at least `minimumWidth` ×
    /// `minimumHeight` pixels, e.g. 640×480 → 320×240 for detection.
    package func decode(
        _ jpeg: [UInt8], to format: PixelFormat, atLeastWidth minimumWidth: Int, height minimumHeight: Int, strict: Bool = true
    ) throws(ImagingError) -> ScaledImage {
        let header = try header(jpeg)
        let scale = JPEGScale.smallest(forWidth: header.width, height: header.height, atLeastWidth: minimumWidth, height: minimumHeight)
        return try decode(jpeg, to: format, scale: scale, strict: strict)
    }

    /// The scaled decode above, into `pixels`' storage (see `decode(_:to:scale:strict:reusing:)`).
    package func decode(
        _ jpeg: [UInt8], to format: PixelFormat, atLeastWidth minimumWidth: Int, height minimumHeight: Int, strict: Bool = true,
        reusing pixels: inout [UInt8]
    ) throws(ImagingError) -> ScaledImage {
        let header = try header(jpeg)
        let scale = JPEGScale.smallest(forWidth: header.width, height: header.height, atLeastWidth: minimumWidth, height: minimumHeight)
        return try decode(jpeg, to: format, scale: scale, strict: strict, reusing: &pixels)
    }

    // A JPEG starts with SOI (FF D8). Checking it first gives a clear message for the common
    // mistakes (an empty frame, a PNG, a YUYV buffer) before TurboJPEG's generic one.
    private static func checkMarker(_ jpeg: [UInt8], operation: String) throws(ImagingError) {
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else {
            throw .corruptJPEG(
                operation: operation, message: jpeg.isEmpty ? "empty input" : "no SOI marker (\(jpeg.count) bytes)", isWarning: false)
        }
    }

    private func lastError(operation: String) -> ImagingError {
        let message = String(cString: tjGetErrorStr2(handle))
        let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
        if let fresh = tjInitDecompress() {
            tjDestroy(handle)
            handle = fresh
        }
        return .corruptJPEG(operation: operation, message: message, isWarning: isWarning)
    }

    static func tjPixelFormat(_ format: PixelFormat) -> Int32 {
        switch format {
        case .gray8: Int32(TJPF_GRAY.rawValue)
        case .rgb24: Int32(TJPF_RGB.rawValue)
        case .bgr24: Int32(TJPF_BGR.rawValue)
        }
    }
}
