/// Colour conversions. Gray uses the BT.601 luma weights (what cameras and JPEG use), in
/// integer arithmetic: (77·R + 150·G + 29·B) / 256.
extension Image {
    /// The same picture in another pixel format (a copy; `self` when the format already matches).
    package func converted(to target: PixelFormat) -> Image {
        if target == format { return self }
        let count = width * height
        var out = [UInt8](repeating: 0, count: count * target.channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                switch (format, target) {
                case (.rgb24, .bgr24), (.bgr24, .rgb24):
                    for i in 0..<count {
                        dst[3 * i] = src[3 * i + 2]
                        dst[3 * i + 1] = src[3 * i + 1]
                        dst[3 * i + 2] = src[3 * i]
                    }
                case (.rgb24, .gray8), (.bgr24, .gray8):
                    let (r, b) = format == .rgb24 ? (0, 2) : (2, 0)
                    for i in 0..<count {
                        let luma = 77 * Int(src[3 * i + r]) + 150 * Int(src[3 * i + 1]) + 29 * Int(src[3 * i + b])
                        dst[i] = UInt8(truncatingIfNeeded: (luma + 128) >> 8)
                    }
                case (.gray8, .rgb24), (.gray8, .bgr24):
                    for i in 0..<count {
                        dst[3 * i] = src[i]
                        dst[3 * i + 1] = src[i]
                        dst[3 * i + 2] = src[i]
                    }
                default:
                    break  // same format, handled above
                }
            }
        }
        // The byte count matches by construction.
        return Image(width: width, height: height, format: target, pixels: out) ?? self
    }

    /// Converts a packed YUYV (YUY2, 4:2:2) camera buffer: Y0 U Y1 V for each pair of pixels.
    ///
    /// `bytesPerLine` is the driver's stride (often `width * 2`, sometimes padded). Gray output
    /// takes the Y bytes expanded from video range (16–235) to full range, so it matches gray
    /// decoded from a JPEG of the same scene; colour uses BT.601 limited range.
    package init(yuyv buffer: [UInt8], width: Int, height: Int, bytesPerLine: Int? = nil, format: PixelFormat) throws(ImagingError) {
        let stride = bytesPerLine ?? width * 2
        guard width > 0, height > 0, width % 2 == 0, stride >= width * 2 else {
            throw .invalidGeometry(operation: "convert YUYV", detail: "\(width)x\(height), \(stride) bytes per line (width must be even)")
        }
        guard buffer.count >= stride * (height - 1) + width * 2 else {
            throw .invalidGeometry(
                operation: "convert YUYV", detail: "\(buffer.count) bytes for \(width)x\(height) at \(stride) bytes per line")
        }
        var out = [UInt8](repeating: 0, count: width * height * format.channels)
        buffer.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                switch format {
                case .gray8:
                    Self.videoToFullRange.withUnsafeBufferPointer { table in
                        for y in 0..<height {
                            let row = y * stride, outRow = y * width
                            for x in 0..<width { dst[outRow + x] = table[Int(src[row + 2 * x])] }
                        }
                    }
                case .rgb24, .bgr24:
                    let (r, b) = format == .rgb24 ? (0, 2) : (2, 0)
                    for y in 0..<height {
                        let row = y * stride, outRow = y * width * 3
                        for pair in 0..<(width / 2) {
                            let s = row + 4 * pair
                            let u = Int(src[s + 1]) - 128, v = Int(src[s + 3]) - 128
                            // BT.601 limited range, 8.8 fixed point (as in the V4L2 docs).
                            let rv = 409 * v, gu = -100 * u, gv = -208 * v, bu = 516 * u
                            for k in 0..<2 {
                                let c = 298 * (Int(src[s + 2 * k]) - 16)
                                let o = outRow + 3 * (2 * pair + k)
                                dst[o + r] = Self.clamp((c + rv + 128) >> 8)
                                dst[o + 1] = Self.clamp((c + gu + gv + 128) >> 8)
                                dst[o + b] = Self.clamp((c + bu + 128) >> 8)
                            }
                        }
                    }
                }
            }
        }
        self.init(width: width, height: height, format: format, filledWith: 0)
        self.pixels = out
    }

    /// Y' in 16...235 → 0...255 (BT.601 video range to full range).
    static let videoToFullRange: [UInt8] = (0..<256).map { clamp(((($0 - 16) * 255 * 2 + 219) / (219 * 2))) }

    @inline(__always)
    static func clamp(_ value: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: min(max(value, 0), 255))
    }
}

extension Image {
    /// Converts a YUYV buffer and shrinks it by an integer `factor` in one pass (box average of
    /// each factor×factor block), so detection gets ~320×240 from a 640×480 YUYV frame without
    /// converting every full-size pixel first. `factor` must be 1 or even.
    package init(yuyv buffer: [UInt8], width: Int, height: Int, bytesPerLine: Int? = nil, format: PixelFormat, reducedBy factor: Int)
        throws(ImagingError)
    {
        if factor == 1 {
            try self.init(yuyv: buffer, width: width, height: height, bytesPerLine: bytesPerLine, format: format)
            return
        }
        let stride = bytesPerLine ?? width * 2
        guard factor >= 2, factor % 2 == 0, width >= factor, height >= factor, width % 2 == 0, stride >= width * 2 else {
            throw .invalidGeometry(operation: "convert YUYV", detail: "reduce \(width)x\(height) by \(factor) (factor must be 1 or even)")
        }
        guard buffer.count >= stride * (height - 1) + width * 2 else {
            throw .invalidGeometry(
                operation: "convert YUYV", detail: "\(buffer.count) bytes for \(width)x\(height) at \(stride) bytes per line")
        }
        let outWidth = width / factor, outHeight = height / factor
        let pixelsPerBlock = factor * factor, pairsPerBlock = factor * factor / 2
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * format.channels)
        buffer.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Self.videoToFullRange.withUnsafeBufferPointer { table in
                    if factor == 2 {
                        // The common case (640x480 -> 320x240), unrolled: one macropixel per row pair.
                        let (r, b) = format == .rgb24 ? (0, 2) : (2, 0)
                        for oy in 0..<outHeight {
                            let row0 = 2 * oy * stride, row1 = row0 + stride
                            for ox in 0..<outWidth {
                                let s0 = row0 + 4 * ox, s1 = row1 + 4 * ox
                                let y = (Int(src[s0]) + Int(src[s0 + 2]) + Int(src[s1]) + Int(src[s1 + 2]) + 2) >> 2
                                if format == .gray8 {
                                    dst[oy * outWidth + ox] = table[y]
                                    continue
                                }
                                let u = ((Int(src[s0 + 1]) + Int(src[s1 + 1]) + 1) >> 1) - 128
                                let v = ((Int(src[s0 + 3]) + Int(src[s1 + 3]) + 1) >> 1) - 128
                                let c = 298 * (y - 16), o = (oy * outWidth + ox) * 3
                                dst[o + r] = Self.clamp((c + 409 * v + 128) >> 8)
                                dst[o + 1] = Self.clamp((c - 100 * u - 208 * v + 128) >> 8)
                                dst[o + b] = Self.clamp((c + 516 * u + 128) >> 8)
                            }
                        }
                        return
                    }
                    for oy in 0..<outHeight {
                        for ox in 0..<outWidth {
                            var sumY = 0, sumU = 0, sumV = 0
                            for dy in 0..<factor {
                                var s = (oy * factor + dy) * stride + ox * factor * 2
                                for _ in 0..<(factor / 2) {
                                    sumY += Int(src[s]) + Int(src[s + 2])
                                    sumU += Int(src[s + 1])
                                    sumV += Int(src[s + 3])
                                    s += 4
                                }
                            }
                            let y = (sumY + pixelsPerBlock / 2) / pixelsPerBlock
                            let o = (oy * outWidth + ox) * format.channels
                            switch format {
                            case .gray8:
                                dst[o] = table[y]
                            case .rgb24, .bgr24:
                                let u = (sumU + pairsPerBlock / 2) / pairsPerBlock - 128
                                let v = (sumV + pairsPerBlock / 2) / pairsPerBlock - 128
                                let c = 298 * (y - 16)
                                let (r, b) = format == .rgb24 ? (0, 2) : (2, 0)
                                dst[o + r] = Self.clamp((c + 409 * v + 128) >> 8)
                                dst[o + 1] = Self.clamp((c - 100 * u - 208 * v + 128) >> 8)
                                dst[o + b] = Self.clamp((c + 516 * u + 128) >> 8)
                            }
                        }
                    }
                }
            }
        }
        self.init(width: outWidth, height: outHeight, format: format, filledWith: 0)
        self.pixels = out
    }
}
