// Decoding into a reused buffer: the same pixels as a fresh decode, and an image still held is never overwritten.
import Imaging
import TestSupport
import Testing

@Suite("JPEG decode into a reused buffer")
struct JPEGDecoderReuseTests {
    @Test("two frames through one buffer give the pixels of fresh decodes; the first image stays intact")
    func reuse() throws {
        let decoder = try JPEGDecoder()
        let first = try Fixture.vgaFrame()
        let second = try JPEGEncoder().encode(
            ImageFile.decode(TestAssets.faceImageBytes("images/facerec/obama.jpg"), format: .rgb24).resized(width: 640, height: 480),
            quality: 85)
        var buffer: [UInt8] = []
        let a = try decoder.decode(first, to: .bgr24, atLeastWidth: 320, height: 240, reusing: &buffer)
        #expect(a.image.width == 320 && a.image.height == 240)
        #expect(a.image == (try decoder.decode(first, to: .bgr24, atLeastWidth: 320, height: 240)).image)
        // `a` still holds the storage: the next decode must not write into it (copy-on-write).
        let kept = a.image
        let b = try decoder.decode(second, to: .bgr24, atLeastWidth: 320, height: 240, reusing: &buffer)
        #expect(b.image == (try decoder.decode(second, to: .bgr24, atLeastWidth: 320, height: 240)).image)
        #expect(kept == (try decoder.decode(first, to: .bgr24, atLeastWidth: 320, height: 240)).image)
        #expect(kept != b.image)
    }
}
