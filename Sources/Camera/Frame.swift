// Frame: one captured frame with its monotonic timestamp, decoded at reduced scale or full size on demand.
package import Imaging

#if canImport(Glibc)
import Glibc
#endif

/// A point on the system's monotonic clock (`CLOCK_MONOTONIC`), the clock V4L2 drivers stamp
/// buffers with. Comparable across sources, unaffected by wall-clock changes (NTP, RTC).
package struct MonotonicTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since an arbitrary point (boot).
    package let nanoseconds: UInt64

    package init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Now, read from `CLOCK_MONOTONIC`.
    package static func now() -> MonotonicTime {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicTime(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    /// The time from `earlier` to `self` (zero if `earlier` is later).
    package func duration(since earlier: MonotonicTime) -> Duration {
        nanoseconds >= earlier.nanoseconds ? .nanoseconds(Int64(nanoseconds - earlier.nanoseconds)) : .zero
    }

    package static func < (lhs: MonotonicTime, rhs: MonotonicTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    package var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

/// One captured frame. Pixels are copied out of the driver's buffer, so a frame is an
/// independent value that may cross threads and outlive the capture session.
///
/// Frames may contain faces (biometric data): never log or persist the payload.
package struct Frame: Sendable {
    /// What the frame carries, as the source produced it (decoding is left to the consumer,
    /// which can then decode at reduced scale for detection and at full size for the crop).
    package enum Payload: Sendable {
        /// A JPEG (an MJPEG frame or a replayed JPEG file).
        case jpeg([UInt8])
        /// An already decoded image (a replayed PNG, or a converted format).
        case image(Image)
        /// Packed YUYV 4:2:2 as the driver delivered it; `bytesPerLine` may include padding.
        case yuyv([UInt8], bytesPerLine: Int)
    }

    /// Increases by one per frame the source produced (gaps mean dropped frames).
    package let sequence: UInt64
    /// When the sensor captured it: the driver's timestamp for V4L2 devices, the time of
    /// emission for replayed frames.
    package let timestamp: MonotonicTime
    package let width: Int
    package let height: Int
    package let payload: Payload

    package init(sequence: UInt64, timestamp: MonotonicTime, width: Int, height: Int, payload: Payload) {
        self.sequence = sequence
        self.timestamp = timestamp
        self.width = width
        self.height = height
        self.payload = payload
    }

    /// Decodes the frame at the smallest cost that still gives at least `minimumWidth` ×
    /// `minimumHeight` (TurboJPEG scaled decode for JPEG; area resize otherwise) and says which
    /// scale was used so boxes can be mapped back to the full frame.
    ///
    /// Pass the caller's own `decoder` (one per thread). A damaged JPEG throws
    /// `ImagingError.corruptJPEG`: skip the frame and report it with `FrameSource.reportCorrupt()`.
    package func decoded(to format: PixelFormat, atLeastWidth minimumWidth: Int, height minimumHeight: Int, using decoder: JPEGDecoder)
        throws(ImagingError) -> ScaledImage
    {
        switch payload {
        case .jpeg(let bytes):
            return try decoder.decode(bytes, to: format, atLeastWidth: minimumWidth, height: minimumHeight)
        case .yuyv(let bytes, let bytesPerLine):
            // Largest even factor that stays at or above the requested size (or 1).
            var factor = 1
            while width / (factor * 2) >= minimumWidth && height / (factor * 2) >= minimumHeight { factor *= 2 }
            let image = try Image(yuyv: bytes, width: width, height: height, bytesPerLine: bytesPerLine, format: format, reducedBy: factor)
            return ScaledImage(
                image: image, scale: JPEGScale(numerator: 1, denominator: factor), originalWidth: width, originalHeight: height)
        case .image:
            let full = try image(format: format, using: decoder)
            let factor = max(1, min(full.width / max(minimumWidth, 1), full.height / max(minimumHeight, 1)))
            if factor == 1 { return ScaledImage(image: full, scale: .full, originalWidth: full.width, originalHeight: full.height) }
            let reduced = try full.resized(width: full.width / factor, height: full.height / factor, method: .area)
            return ScaledImage(
                image: reduced, scale: JPEGScale(numerator: 1, denominator: factor), originalWidth: full.width, originalHeight: full.height)
        }
    }

    /// The full-size frame in `format`.
    package func image(format: PixelFormat, using decoder: JPEGDecoder) throws(ImagingError) -> Image {
        switch payload {
        case .jpeg(let bytes):
            return try decoder.decode(bytes, to: format).image
        case .image(let image):
            return image.converted(to: format)
        case .yuyv(let bytes, let bytesPerLine):
            return try Image(yuyv: bytes, width: width, height: height, bytesPerLine: bytesPerLine, format: format)
        }
    }

    /// The frame as a JPEG: the original bytes when it is one (no re-encode), else encoded.
    package func jpegBytes(quality: Int = 90, using decoder: JPEGDecoder, encoder: JPEGEncoder) throws(ImagingError) -> [UInt8] {
        if case .jpeg(let bytes) = payload { return bytes }
        return try encoder.encode(image(format: .rgb24, using: decoder), quality: quality)
    }
}
