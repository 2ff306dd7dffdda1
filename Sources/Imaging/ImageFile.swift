// ImageFile: loads JPEG or PNG files and bytes, telling the format from the content, not the extension.
#if canImport(FoundationEssentials)
package import Foundation
#else
#endif

/// Loading images from files: the format is sniffed from the content, not the extension.
package enum ImageFile {
    /// The container a byte buffer holds.
    package enum Kind: Sendable, Hashable {
        case jpeg, png
    }

    /// JPEG (SOI marker) or PNG (signature), or nil.
    package static func sniff(_ bytes: [UInt8]) -> Kind? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.starts(with: PNGDecoder.signature) { return .png }
        return nil
    }

    /// Reads a whole file.
    package static func readBytes(at path: String) throws(ImagingError) -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .fileUnreadable(path: path, reason: "\(error)")
        }
    }

    /// Loads a JPEG or PNG file as `format`.
    package static func load(_ path: String, format: PixelFormat) throws(ImagingError) -> Image {
        let bytes = try readBytes(at: path)
        return try decode(bytes, format: format, path: path)
    }

    /// Loads a JPEG or PNG file as `format`.
    package static func load(_ url: URL, format: PixelFormat) throws(ImagingError) -> Image {
        try load(url.path, format: format)
    }

    /// Decodes JPEG or PNG bytes; `path` only names the source in errors.
    package static func decode(_ bytes: [UInt8], format: PixelFormat, path: String = "<memory>") throws(ImagingError) -> Image {
        switch sniff(bytes) {
        case .jpeg:
            // Files (unlike camera frames) are decoded leniently: a photo with a harmless
            // warning is still a usable photo.
            return try JPEGDecoder().decode(bytes, to: format, strict: false).image
        case .png:
            return try PNGDecoder.decode(bytes, to: format)
        case nil:
            throw .unsupportedFileFormat(path: path)
        }
    }
}
