/// Splits a Motion-JPEG file (JPEG frames one after another, as `ffmpeg -f mjpeg` or a
/// camera dump writes them) into frames, and checks single frames for completeness.
///
/// Frames are found by walking the JPEG marker structure rather than searching for FF D9,
/// so an EXIF thumbnail (a JPEG inside the APP1 segment) does not cut a frame short.
package enum MJPEGSplitter {
    /// The byte ranges of the frames in `data`. Garbage between frames is skipped; a final
    /// frame without its end marker (a truncated recording) is left out.
    package static func frameRanges(in data: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = nextSOI(in: data, from: 0)
        while let soi = start {
            if let end = endOfImage(in: data, soi: soi) {
                ranges.append(soi..<end)
                start = nextSOI(in: data, from: end)
            } else {
                start = nextSOI(in: data, from: soi + 2)
            }
        }
        return ranges
    }

    /// The frames in `data` as separate JPEGs.
    package static func split(_ data: [UInt8]) -> [[UInt8]] {
        frameRanges(in: data).map { Array(data[$0]) }
    }

    /// True when `jpeg` starts with SOI and ends with EOI (allowing the zero padding some
    /// UVC cameras leave after it). A frame failing this was cut short on the wire.
    package static func looksComplete(_ jpeg: [UInt8]) -> Bool {
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return false }
        var end = jpeg.count
        let limit = max(2, jpeg.count - 4096)
        while end > limit && jpeg[end - 1] == 0 { end -= 1 }
        return end >= 4 && jpeg[end - 2] == 0xFF && jpeg[end - 1] == 0xD9
    }

    private static func nextSOI(in data: [UInt8], from index: Int) -> Int? {
        var i = index
        while i + 2 < data.count {
            if data[i] == 0xFF && data[i + 1] == 0xD8 && data[i + 2] == 0xFF { return i }
            i += 1
        }
        return nil
    }

    /// The index just past the EOI of the image starting at `soi`, or nil if malformed/truncated.
    private static func endOfImage(in data: [UInt8], soi: Int) -> Int? {
        var i = soi + 2
        let n = data.count
        while i + 1 < n {
            guard data[i] == 0xFF else { return nil }
            var marker = data[i + 1]
            while marker == 0xFF {  // fill bytes before a marker
                i += 1
                guard i + 1 < n else { return nil }
                marker = data[i + 1]
            }
            switch marker {
            case 0xD9:
                return i + 2
            case 0xD0...0xD7, 0x01:
                i += 2  // markers without a length
            case 0xDA:
                // Start of scan: skip its header, then the entropy-coded data up to the next
                // real marker (FF 00 is a stuffed byte, FF D0–D7 are restart markers).
                guard i + 3 < n else { return nil }
                i += 2 + (Int(data[i + 2]) << 8 | Int(data[i + 3]))
                while i + 1 < n {
                    if data[i] == 0xFF, data[i + 1] != 0x00, !(0xD0...0xD7).contains(data[i + 1]), data[i + 1] != 0xFF { break }
                    i += 1
                }
                if i + 1 >= n { return nil }
            default:
                guard i + 3 < n else { return nil }
                let length = Int(data[i + 2]) << 8 | Int(data[i + 3])
                guard length >= 2 else { return nil }
                i += 2 + length
            }
        }
        return nil
    }
}
