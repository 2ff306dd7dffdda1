/// A rectangle in pixel coordinates (origin top-left).
package struct PixelRect: Sendable, Hashable, CustomStringConvertible {
    package var x: Int
    package var y: Int
    package var width: Int
    package var height: Int

    package init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    package var maxX: Int { x + width }
    package var maxY: Int { y + height }
    package var isEmpty: Bool { width <= 0 || height <= 0 }

    /// Grown on each side by `fraction` of its own width (left/right) and height (top/bottom);
    /// 0.25 turns a tight face box into one with forehead, chin and ears.
    package func expanded(by fraction: Double) -> PixelRect {
        let dx = Int((Double(width) * fraction).rounded()), dy = Int((Double(height) * fraction).rounded())
        return PixelRect(x: x - dx, y: y - dy, width: width + 2 * dx, height: height + 2 * dy)
    }

    /// The part that lies inside a `width` × `height` image (possibly empty).
    package func clamped(toWidth imageWidth: Int, height imageHeight: Int) -> PixelRect {
        let left = min(max(x, 0), imageWidth), top = min(max(y, 0), imageHeight)
        let right = min(max(maxX, 0), imageWidth), bottom = min(max(maxY, 0), imageHeight)
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }

    package var description: String { "\(width)x\(height)@(\(x),\(y))" }
}

/// How `resized` samples.
package enum ResizeMethod: Sendable, Hashable {
    /// Area averaging when shrinking (no aliasing, what a face crop wants), bilinear when growing.
    case automatic
    /// Bilinear interpolation (pixel centres aligned, as OpenCV's INTER_LINEAR).
    case bilinear
    /// Each output pixel is the average of the source area it covers.
    case area
}

extension Image {
    /// Cuts `rect` grown by `margin` (a fraction per side, see `PixelRect.expanded(by:)`),
    /// clamped to the image, and says which rectangle was actually cut.
    /// Throws `emptyCrop` when nothing of it lies inside the image.
    package func cropped(to rect: PixelRect, margin: Double = 0) throws(ImagingError) -> (image: Image, rect: PixelRect) {
        let region = rect.expanded(by: margin).clamped(toWidth: width, height: height)
        guard !region.isEmpty else {
            throw .emptyCrop(x: rect.x, y: rect.y, width: rect.width, height: rect.height, imageWidth: width, imageHeight: height)
        }
        let channels = format.channels, rowBytes = region.width * channels
        var out = [UInt8](repeating: 0, count: rowBytes * region.height)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<region.height {
                    let from = ((region.y + row) * width + region.x) * channels
                    // Row copy; both ranges are inside their buffers by the clamp above.
                    for i in 0..<rowBytes { dst[row * rowBytes + i] = src[from + i] }
                }
            }
        }
        var image = Image(width: region.width, height: region.height, format: format, filledWith: 0)
        image.pixels = out
        return (image, region)
    }

    /// A resized copy. Throws `invalidGeometry` for non-positive sizes.
    package func resized(width newWidth: Int, height newHeight: Int, method: ResizeMethod = .automatic) throws(ImagingError) -> Image {
        guard newWidth > 0, newHeight > 0 else {
            throw .invalidGeometry(operation: "resize", detail: "target \(newWidth)x\(newHeight)")
        }
        if newWidth == width && newHeight == height { return self }
        let useArea: Bool =
            switch method {
            case .area: true
            case .bilinear: false
            case .automatic: newWidth <= width && newHeight <= height
            }
        var image = Image(width: newWidth, height: newHeight, format: format, filledWith: 0)
        image.pixels = useArea ? areaResample(newWidth, newHeight) : bilinearResample(newWidth, newHeight)
        return image
    }

    private func bilinearResample(_ newWidth: Int, _ newHeight: Int) -> [UInt8] {
        let channels = format.channels
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        // Precompute horizontal taps: source index and weight (fixed point, 11 bits).
        let sx = Double(width) / Double(newWidth), sy = Double(height) / Double(newHeight)
        func taps(_ count: Int, _ scale: Double, _ limit: Int) -> [(Int, Int, Int)] {
            (0..<count).map { i in
                let f = max((Double(i) + 0.5) * scale - 0.5, 0)
                let i0 = min(Int(f), limit - 1), i1 = min(i0 + 1, limit - 1)
                let w = Int(((f - Double(i0)) * 2048).rounded())
                return (i0, i1, min(max(w, 0), 2048))
            }
        }
        let xt = taps(newWidth, sx, width), yt = taps(newHeight, sy, height)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<newHeight {
                    let (y0, y1, wy) = yt[oy]
                    let r0 = y0 * width * channels, r1 = y1 * width * channels
                    for ox in 0..<newWidth {
                        let (x0, x1, wx) = xt[ox]
                        for c in 0..<channels {
                            let a = Int(src[r0 + x0 * channels + c]), b = Int(src[r0 + x1 * channels + c])
                            let p = Int(src[r1 + x0 * channels + c]), q = Int(src[r1 + x1 * channels + c])
                            let top = a * (2048 - wx) + b * wx, bottom = p * (2048 - wx) + q * wx
                            let v = (top * (2048 - wy) + bottom * wy + (1 << 21)) >> 22
                            dst[(oy * newWidth + ox) * channels + c] = Self.clamp(v)
                        }
                    }
                }
            }
        }
        return out
    }

    // Separable box filter with fractional edge weights: exact area averaging for any factor.
    private func areaResample(_ newWidth: Int, _ newHeight: Int) -> [UInt8] {
        let channels = format.channels
        func weights(_ count: Int, _ source: Int) -> [[(Int, Float)]] {
            let scale = Double(source) / Double(count)
            return (0..<count).map { i in
                let start = Double(i) * scale, end = Double(i + 1) * scale
                var list: [(Int, Float)] = []
                var s = Int(start)
                while Double(s) < end && s < source {
                    let overlap = min(end, Double(s + 1)) - max(start, Double(s))
                    if overlap > 0 { list.append((s, Float(overlap / scale))) }
                    s += 1
                }
                return list
            }
        }
        let wx = weights(newWidth, width), wy = weights(newHeight, height)
        // Horizontal pass into floats (height × newWidth), then vertical.
        var horizontal = [Float](repeating: 0, count: height * newWidth * channels)
        pixels.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { tmp in
                for y in 0..<height {
                    let row = y * width * channels, outRow = y * newWidth * channels
                    for ox in 0..<newWidth {
                        for c in 0..<channels {
                            var sum: Float = 0
                            for (sx, w) in wx[ox] { sum += Float(src[row + sx * channels + c]) * w }
                            tmp[outRow + ox * channels + c] = sum
                        }
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        horizontal.withUnsafeBufferPointer { tmp in
            out.withUnsafeMutableBufferPointer { dst in
                let rowLength = newWidth * channels
                for oy in 0..<newHeight {
                    for i in 0..<rowLength {
                        var sum: Float = 0
                        for (sy, w) in wy[oy] { sum += tmp[sy * rowLength + i] * w }
                        dst[oy * rowLength + i] = Self.clamp(Int(sum + 0.5))
                    }
                }
            }
        }
        return out
    }
}
