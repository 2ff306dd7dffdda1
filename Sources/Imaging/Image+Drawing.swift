/// A colour for the drawing helpers, independent of the image's channel order.
package struct PixelColor: Sendable, Hashable {
    package var red: UInt8
    package var green: UInt8
    package var blue: UInt8

    package init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    package static let green = PixelColor(red: 0, green: 255, blue: 0)
    package static let red = PixelColor(red: 255, green: 0, blue: 0)
    package static let yellow = PixelColor(red: 255, green: 255, blue: 0)
    package static let white = PixelColor(red: 255, green: 255, blue: 255)
}

/// Tiny drawing helpers for diagnostics (`kioskctl detect --annotate`): outlines and dots,
/// clipped to the image, so callers can pass boxes that stick out of the frame.
extension Image {
    /// Draws the outline of `rect`, `thickness` pixels wide, inside the rectangle's edges.
    package mutating func drawRectangle(_ rect: PixelRect, color: PixelColor, thickness: Int = 2) {
        let t = max(1, thickness)
        fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: t), color)
        fill(PixelRect(x: rect.x, y: rect.maxY - t, width: rect.width, height: t), color)
        fill(PixelRect(x: rect.x, y: rect.y, width: t, height: rect.height), color)
        fill(PixelRect(x: rect.maxX - t, y: rect.y, width: t, height: rect.height), color)
    }

    /// Draws a filled square dot of `radius` around (`x`, `y`) (e.g. a landmark).
    package mutating func drawPoint(x: Int, y: Int, color: PixelColor, radius: Int = 2) {
        let r = max(0, radius)
        fill(PixelRect(x: x - r, y: y - r, width: 2 * r + 1, height: 2 * r + 1), color)
    }

    private mutating func fill(_ rect: PixelRect, _ color: PixelColor) {
        let region = rect.clamped(toWidth: width, height: height)
        guard !region.isEmpty else { return }
        let luma: Int = 77 * Int(color.red) + 150 * Int(color.green) + 29 * Int(color.blue)
        let value: [UInt8] =
            switch format {
            case .gray8: [Self.clamp((luma + 128) >> 8)]
            case .rgb24: [color.red, color.green, color.blue]
            case .bgr24: [color.blue, color.green, color.red]
            }
        let channels = format.channels, imageWidth = width
        pixels.withUnsafeMutableBufferPointer { dst in
            for y in region.y..<region.maxY {
                for x in region.x..<region.maxX {
                    let o = (y * imageWidth + x) * channels
                    for c in 0..<channels { dst[o + c] = value[c] }
                }
            }
        }
    }
}
