// Image operations: YUYV and colour conversions, reduced YUYV conversion, crop, resize and drawing.
import Imaging
import Testing

@Suite("Conversions, crop, resize, drawing")
struct ImageOperationTests {
    /// A synthetic YUYV frame: Y ramps along x, U/V fixed.
    static func yuyvPattern(width: Int, height: Int, padding: Int, u: UInt8, v: UInt8) -> [UInt8] {
        let stride = width * 2 + padding
        var buffer = [UInt8](repeating: 0xEE, count: stride * height)
        for y in 0..<height {
            for pair in 0..<(width / 2) {
                let o = y * stride + pair * 4
                buffer[o] = UInt8((2 * pair) % 220 + 16)
                buffer[o + 1] = u
                buffer[o + 2] = UInt8((2 * pair + 1) % 220 + 16)
                buffer[o + 3] = v
            }
        }
        return buffer
    }

    @Test("YUYV to gray takes the luma bytes expanded to full range, honouring a padded stride")
    func yuyvGray() throws {
        let buffer = Self.yuyvPattern(width: 64, height: 8, padding: 16, u: 128, v: 128)
        let gray = try Image(yuyv: buffer, width: 64, height: 8, bytesPerLine: 144, format: .gray8)
        for x in 0..<64 {
            let expected = (Double(x % 220) * 255 / 219).rounded()
            #expect(abs(Double(gray.pixels[3 * 64 + x]) - expected) <= 1)
        }
        #expect(gray.pixels[0] == 0)
        // Gray straight from YUYV matches gray from the colour conversion.
        let colour = try Image(yuyv: buffer, width: 64, height: 8, bytesPerLine: 144, format: .rgb24).converted(to: .gray8)
        #expect(zip(gray.pixels, colour.pixels).allSatisfy { abs(Int($0) - Int($1)) <= 2 })
    }

    @Test("YUYV to RGB/BGR: neutral chroma gives grey levels, BT.601 red gives red")
    func yuyvColour() throws {
        let neutral = Self.yuyvPattern(width: 16, height: 2, padding: 0, u: 128, v: 128)
        let rgb = try Image(yuyv: neutral, width: 16, height: 2, format: .rgb24)
        // Y=16 is black in limited range; equal chroma gives equal channels.
        #expect(rgb.pixels[0] == 0 && rgb.pixels[1] == 0 && rgb.pixels[2] == 0)
        #expect(rgb.pixels[3] == rgb.pixels[4] && rgb.pixels[4] == rgb.pixels[5])
        // BT.601 limited-range red is Y=81, U=90, V=240.
        let red: [UInt8] = [81, 90, 81, 240]
        let bgr = try Image(yuyv: red, width: 2, height: 1, format: .bgr24)
        #expect(bgr.pixels[2] >= 250 && bgr.pixels[1] <= 5 && bgr.pixels[0] <= 5)
        #expect(try Image(yuyv: red, width: 2, height: 1, format: .rgb24) == bgr.converted(to: .rgb24))
    }

    @Test("YUYV with a short buffer or odd width is an error, not a crash")
    func yuyvInvalid() {
        #expect(throws: ImagingError.self) { try Image(yuyv: [1, 2, 3], width: 2, height: 1, format: .gray8) }
        #expect(throws: ImagingError.self) { try Image(yuyv: [UInt8](repeating: 0, count: 100), width: 3, height: 2, format: .gray8) }
    }

    @Test("colour to gray uses BT.601 weights; gray to colour replicates")
    func grayConversion() throws {
        let rgb = try #require(Image(width: 2, height: 1, format: .rgb24, pixels: [255, 0, 0, 0, 0, 255]))
        let gray = rgb.converted(to: .gray8)
        #expect(gray.pixels == [77, 29])
        #expect(rgb.converted(to: .bgr24).converted(to: .gray8) == gray)
        #expect(gray.converted(to: .bgr24).pixels == [77, 77, 77, 29, 29, 29])
    }

    @Test("crop with margin is clamped to the image and reports the real rectangle")
    func crop() throws {
        var image = Image(width: 100, height: 80, format: .rgb24)
        for i in 0..<(100 * 80) { image.pixels[3 * i] = UInt8(i % 100) }  // red = x
        let (face, rect) = try image.cropped(to: PixelRect(x: 80, y: -10, width: 40, height: 40), margin: 0.25)
        #expect(rect == PixelRect(x: 70, y: 0, width: 30, height: 40))
        #expect(face.width == 30 && face.height == 40)
        #expect(face.pixels[0] == 70)
        #expect(throws: ImagingError.self) { try image.cropped(to: PixelRect(x: 200, y: 0, width: 10, height: 10)) }
    }

    @Test("area shrink averages; bilinear keeps flat areas flat; sizes are exact")
    func resize() throws {
        // A 1-pixel checkerboard shrinks to mid grey with area averaging.
        var checker = Image(width: 64, height: 48, format: .gray8)
        for y in 0..<48 { for x in 0..<64 where (x + y) % 2 == 0 { checker.pixels[y * 64 + x] = 255 } }
        let half = try checker.resized(width: 32, height: 24)
        #expect(half.pixels.allSatisfy { $0 == 127 || $0 == 128 })
        let odd = try checker.resized(width: 21, height: 17, method: .area)
        #expect(odd.width == 21 && odd.height == 17)
        #expect(odd.pixels.allSatisfy { abs(Int($0) - 128) <= 20 })
        let flat = Image(width: 10, height: 10, format: .bgr24, filledWith: 99)
        let big = try flat.resized(width: 37, height: 23)
        #expect(big.width == 37 && big.height == 23 && big.pixels.allSatisfy { $0 == 99 })
        #expect(throws: ImagingError.self) { try flat.resized(width: 0, height: 5) }
    }

    @Test("drawing clips to the image and uses the image's channel order")
    func drawing() {
        var image = Image(width: 20, height: 20, format: .bgr24)
        image.drawRectangle(PixelRect(x: -5, y: 2, width: 15, height: 10), color: .red, thickness: 1)
        image.drawPoint(x: 19, y: 19, color: .green, radius: 3)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.pixels[(y * 20 + x) * 3..<(y * 20 + x) * 3 + 3]) }
        #expect(pixel(0, 2) == [0, 0, 255])
        #expect(pixel(9, 5) == [0, 0, 255])  // right edge at x = 9
        #expect(pixel(5, 5) == [0, 0, 0])  // inside stays untouched
        #expect(pixel(18, 18) == [0, 255, 0])
    }
}

@Suite("YUYV reduced conversion")
struct YUYVReductionTests {
    @Test("reducing by 2 or 4 equals converting at full size then area-shrinking (within rounding)", arguments: [2, 4])
    func matchesFullPath(factor: Int) throws {
        var buffer = [UInt8](repeating: 0, count: 64 * 32 * 2)
        for i in stride(from: 0, to: buffer.count, by: 4) {
            // Values inside the gamut: the colour conversion clips nothing, so averaging before
            // or after it agrees within rounding.
            buffer[i] = UInt8(60 + (i / 4) % 120)
            buffer[i + 1] = UInt8(118 + (i / 64) % 20)
            buffer[i + 2] = UInt8(60 + (i / 8) % 120)
            buffer[i + 3] = UInt8(138 - (i / 128) % 20)
        }
        for format in [PixelFormat.gray8, .bgr24] {
            let reduced = try Image(yuyv: buffer, width: 64, height: 32, format: format, reducedBy: factor)
            #expect(reduced.width == 64 / factor && reduced.height == 32 / factor)
            let reference = try Image(yuyv: buffer, width: 64, height: 32, format: format)
                .resized(width: 64 / factor, height: 32 / factor, method: .area)
            let worst = zip(reduced.pixels, reference.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 6, "\(format) differs by \(worst)")
        }
        #expect(throws: ImagingError.self) { try Image(yuyv: buffer, width: 64, height: 32, format: .gray8, reducedBy: 3) }
    }
}
