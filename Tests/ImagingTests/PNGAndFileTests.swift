// PNG decoding to every pixel format, corrupt input, and ImageFile's sniffing of content over extension.
import Foundation
import Imaging
import TestSupport
import Testing

@Suite("PNG decode and ImageFile")
struct PNGAndFileTests {
    @Test(
        "RGBA, RGB and gray PNGs decode to every format with their real sizes",
        arguments: [
            ("images/facerec/32bit.png", 626, 1200), ("images/skimage/astronaut.png", 512, 512), ("images/skimage/camera.png", 512, 512),
        ])
    func decodes(path: String, width: Int, height: Int) throws {
        let bytes = try TestAssets.faceImageBytes(path)
        for format in [PixelFormat.gray8, .rgb24, .bgr24] {
            let image = try PNGDecoder.decode(bytes, to: format)
            #expect(image.width == width && image.height == height && image.format == format)
        }
        let rgb = try PNGDecoder.decode(bytes, to: .rgb24)
        #expect(try PNGDecoder.decode(bytes, to: .bgr24) == rgb.converted(to: .bgr24))
    }

    @Test("a gray PNG expanded to RGB has equal channels")
    func grayToColour() throws {
        let rgb = try PNGDecoder.decode(TestAssets.faceImageBytes("images/skimage/camera.png"), to: .rgb24)
        #expect(rgb.pixels[300] == rgb.pixels[301] && rgb.pixels[301] == rgb.pixels[302])
    }

    @Test("truncated and foreign input throws corruptPNG")
    func corrupt() throws {
        let bytes = try TestAssets.faceImageBytes("images/skimage/astronaut.png")
        #expect(throws: ImagingError.self) { try PNGDecoder.decode(Array(bytes.prefix(bytes.count / 3)), to: .rgb24) }
        #expect(throws: ImagingError.self) { try PNGDecoder.decode(Array(bytes.prefix(40)), to: .rgb24) }
        #expect(throws: ImagingError.self) { try PNGDecoder.decode([], to: .rgb24) }
        #expect(throws: ImagingError.self) { try PNGDecoder.decode(TestAssets.faceImageBytes("images/mpl/grace_hopper.jpg"), to: .rgb24) }
    }

    @Test("ImageFile sniffs the content, not the extension")
    func sniffing() throws {
        let dir = try TestAssets.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A PNG misnamed .jpg still loads; a text file is refused with its path.
        let misnamed = dir.appendingPathComponent("really-a-png.jpg")
        try Data(TestAssets.faceImageBytes("images/skimage/astronaut.png")).write(to: misnamed)
        #expect(try ImageFile.load(misnamed, format: .bgr24).width == 512)
        let jpeg = try ImageFile.load(TestAssets.faceImage("images/mpl/grace_hopper.jpg"), format: .gray8)
        #expect(jpeg.width == 512 && jpeg.height == 600)
        let text = dir.appendingPathComponent("notes.png")
        try Data("hello".utf8).write(to: text)
        #expect(throws: ImagingError.unsupportedFileFormat(path: text.path)) { try ImageFile.load(text.path, format: .rgb24) }
        #expect(throws: ImagingError.self) { try ImageFile.load(dir.appendingPathComponent("missing.jpg").path, format: .rgb24) }
    }
}
