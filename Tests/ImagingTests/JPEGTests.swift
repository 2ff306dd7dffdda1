// JPEG through TurboJPEG: header, decode to each format, scaled decode, encode quality, corrupt input.
import Imaging
import TestSupport
import Testing

@Suite("JPEG through TurboJPEG")
struct JPEGTests {
    @Test("header gives the size of a real photo without decoding it")
    func header() throws {
        let header = try JPEGDecoder().header(TestAssets.faceImageBytes("images/mpl/grace_hopper.jpg"))
        #expect(header.width == 512 && header.height == 600)
        #expect(!header.isGrayscale)
    }

    @Test("full decode to each pixel format has the header's size", arguments: [PixelFormat.gray8, .rgb24, .bgr24])
    func fullDecode(format: PixelFormat) throws {
        let decoded = try JPEGDecoder().decode(TestAssets.faceImageBytes("images/facerec/obama.jpg"), to: format)
        #expect(decoded.scale == .full)
        #expect(decoded.image.width == decoded.originalWidth && decoded.image.height == decoded.originalHeight)
        #expect(decoded.image.pixels.count == decoded.image.width * decoded.image.height * format.channels)
        #expect(decoded.image.format == format)
    }

    @Test("RGB and BGR decodes are the same pixels in swapped order")
    func channelOrder() throws {
        let bytes = try TestAssets.faceImageBytes("images/mpl/grace_hopper.jpg")
        let decoder = try JPEGDecoder()
        let rgb = try decoder.decode(bytes, to: .rgb24).image
        let bgr = try decoder.decode(bytes, to: .bgr24).image
        #expect(rgb.converted(to: .bgr24) == bgr)
    }

    @Test("a 640x480 frame decodes straight to 320x240 when at least 320x240 is asked for")
    func scaledDecodeVGA() throws {
        let frame = try Fixture.vgaFrame()
        let decoded = try JPEGDecoder().decode(frame, to: .bgr24, atLeastWidth: 320, height: 240)
        #expect(decoded.scale == JPEGScale(numerator: 1, denominator: 2))
        #expect(decoded.image.width == 320 && decoded.image.height == 240)
        #expect(decoded.originalWidth == 640 && decoded.originalHeight == 480)
        #expect(decoded.scale.toFullSize(100) == 200)
    }

    @Test("the chosen scale is never below the requested size and never upscales")
    func scaleChoice() {
        #expect(JPEGScale.supported.contains(.full))
        // 3/8 would give 240x180, too small for 300x200; the next larger is 1/2.
        #expect(JPEGScale.smallest(forWidth: 640, height: 480, atLeastWidth: 300, height: 200) == JPEGScale(numerator: 1, denominator: 2))
        #expect(JPEGScale.smallest(forWidth: 640, height: 480, atLeastWidth: 160, height: 120) == JPEGScale(numerator: 1, denominator: 4))
        #expect(JPEGScale.smallest(forWidth: 640, height: 480, atLeastWidth: 1000, height: 1000) == .full)
        for w in stride(from: 50, through: 640, by: 37) {
            let s = JPEGScale.smallest(forWidth: 640, height: 480, atLeastWidth: w, height: w * 3 / 4)
            #expect(s.scaled(640) >= w && s.scaled(480) >= w * 3 / 4 && s.value <= 1)
        }
    }

    @Test("encode at q90 and decode again stays close to the original (PSNR > 30 dB)")
    func roundTrip() throws {
        let original = try JPEGDecoder().decode(TestAssets.faceImageBytes("images/mpl/grace_hopper.jpg"), to: .rgb24).image
        let encoded = try JPEGEncoder().encode(original, quality: 90)
        let header = try JPEGDecoder().header(encoded)
        #expect(header.width == original.width && header.height == original.height)
        let again = try JPEGDecoder().decode(encoded, to: .rgb24).image
        let psnr = Fixture.psnr(original, again)
        #expect(psnr > 30, "PSNR \(psnr) dB")
        // Lower quality gives smaller files.
        let small = try JPEGEncoder().encode(original, quality: 40)
        #expect(small.count < encoded.count)
    }

    @Test("a gray image encodes as a single-component JPEG")
    func grayEncode() throws {
        let gray = try ImageFile.decode(TestAssets.faceImageBytes("images/skimage/camera.png"), format: .gray8)
        let encoded = try JPEGEncoder().encode(gray, quality: 90)
        #expect(try JPEGDecoder().header(encoded).isGrayscale)
        let again = try JPEGDecoder().decode(encoded, to: .gray8).image
        #expect(Fixture.psnr(gray, again) > 30)
    }

    @Test("truncated, empty and foreign input throws corruptJPEG and never crashes")
    func corruptInput() throws {
        let frame = try Fixture.vgaFrame()
        let decoder = try JPEGDecoder()
        // A USB camera cutting a frame short: header intact, scan data missing.
        let truncated = Array(frame.prefix(frame.count / 2))
        do {
            _ = try decoder.decode(truncated, to: .gray8)
            Issue.record("a truncated frame decoded in strict mode")
        } catch {
            guard case .corruptJPEG = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.contains("skip this frame"))
        }
        // Lenient decoding still yields a picture for the truncated frame (files, not cameras).
        #expect((try? decoder.decode(truncated, to: .gray8, strict: false)) != nil)
        #expect(throws: ImagingError.self) { try decoder.decode([], to: .rgb24) }
        #expect(throws: ImagingError.self) { try decoder.decode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0], to: .rgb24) }
        #expect(throws: ImagingError.self) { try decoder.decode(TestAssets.faceImageBytes("images/skimage/camera.png"), to: .rgb24) }
        // Random flips in the scan data: an error or a picture, never a crash.
        var flipped = frame
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 { flipped[Int.random(in: 600..<flipped.count, using: &generator)] ^= 0x5A }
        _ = try? decoder.decode(flipped, to: .bgr24)
        // The decoder is still usable after errors, including a failed header parse.
        #expect(try decoder.decode(frame, to: .gray8).image.width == 640)
        #expect(throws: ImagingError.self) { try decoder.header([0xFF, 0xD8, 0xFF] + Array(repeating: 0x42, count: 64)) }
        #expect(try decoder.header(frame).width == 640)
    }
}
