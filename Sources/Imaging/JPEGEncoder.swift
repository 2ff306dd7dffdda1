// JPEGEncoder: TurboJPEG encoding with a chosen quality and chroma subsampling, one handle per thread.
import CTurboJPEG

/// Chroma subsampling of an encoded JPEG.
package enum ChromaSubsampling: Sendable, Hashable {
    /// 4:2:0, the usual choice for photos and uploads (smallest files).
    case s420
    /// 4:2:2.
    case s422
    /// 4:4:4, no chroma loss (largest files).
    case s444

    var tjValue: Int32 {
        switch self {
        case .s420: Int32(TJSAMP_420.rawValue)
        case .s422: Int32(TJSAMP_422.rawValue)
        case .s444: Int32(TJSAMP_444.rawValue)
        }
    }
}

/// Encodes images to JPEG with TurboJPEG.
///
/// Owns one TurboJPEG handle, freed in `deinit`; not `Sendable` for the same reason as
/// `JPEGDecoder`: one encoder per thread or task.
package final class JPEGEncoder {
    private let handle: tjhandle

    /// Creates an encoder. The corresponding C function is `tjInitCompress`.
    package init() throws(ImagingError) {
        guard let handle = tjInitCompress() else {
            throw .codecUnavailable(codec: "TurboJPEG compressor", message: String(cString: tjGetErrorStr2(nil)))
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Encodes `image` at `quality` (1...100, clamped; 90 keeps faces sharp at a few tens of kB).
    /// Gray images become single-component JPEGs. The corresponding C function is `tjCompress2`.
    package func encode(_ image: Image, quality: Int = 90, subsampling: ChromaSubsampling = .s420) throws(ImagingError) -> [UInt8] {
        let quality = Int32(min(max(quality, 1), 100))
        let sampling = image.format == .gray8 ? Int32(TJSAMP_GRAY.rawValue) : subsampling.tjValue
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(
                handle, pixels.baseAddress, Int32(image.width), Int32(image.stride), Int32(image.height),
                JPEGDecoder.tjPixelFormat(image.format), &output, &size, sampling, quality, 0)
        }
        defer { if let output { tjFree(output) } }
        guard rc == 0, let output, size > 0 else {
            throw .encodeFailed(message: String(cString: tjGetErrorStr2(handle)))
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
