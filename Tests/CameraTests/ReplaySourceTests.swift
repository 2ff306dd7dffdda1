// ReplaySource and MJPEG files: order, pacing, looping, frame dropping, scripts, bad and corrupt inputs.
import Foundation
import Imaging
import TestSupport
import Testing

@testable import Camera

@Suite("ReplaySource and MJPEG files")
struct ReplaySourceTests {
    /// A folder with three face JPEGs and one PNG, plus a non-image file that is ignored.
    static func faceFolder() throws -> URL {
        let dir = try TestAssets.temporaryDirectory("replay")
        let files = ["images/facerec/obama.jpg", "images/facerec/biden.jpg", "images/mpl/grace_hopper.jpg", "images/skimage/astronaut.png"]
        for (index, file) in files.enumerated() {
            let ext = file.hasSuffix(".png") ? "png" : "jpg"
            try Data(TestAssets.faceImageBytes(file)).write(to: dir.appendingPathComponent("frame\(index).\(ext)"))
        }
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("README.txt"))
        return dir
    }

    @Test("a folder replays its images in name order, JPEGs compressed and PNGs decoded")
    func folderOrder() async throws {
        let dir = try Self.faceFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try ReplaySource(.folder(dir.path), framesPerSecond: 50, loop: false, deliverEveryFrame: true)
        #expect(source.frameCount == 4)
        // With deliverEveryFrame the consumer gets every frame of a non-looping replay, then the end.
        var frames: [Frame] = []
        for try await frame in source.frames() { frames.append(frame) }
        #expect(frames.count == 4)
        #expect(frames.map(\.sequence) == [1, 2, 3, 4])
        #expect(frames[2].width == 512 && frames[2].height == 600)
        guard case .jpeg = frames[0].payload, case .image(let png) = frames[3].payload else {
            Issue.record("unexpected payloads")
            return
        }
        #expect(png.width == 512 && png.format == .rgb24)
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp })
        #expect(source.statistics.captured == 4)
    }

    @Test("frames are paced at the set rate (tolerant) and looping restarts at the first image")
    func pacingAndLooping() async throws {
        let dir = try Self.faceFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try ReplaySource(.folder(dir.path), framesPerSecond: 20, loop: true, deliverEveryFrame: true)
        let frames = try await CameraFixture.collect(source, count: 10)
        let span =
            Double(frames[9].timestamp.duration(since: frames[0].timestamp).components.attoseconds) / 1e18
            + Double(frames[9].timestamp.duration(since: frames[0].timestamp).components.seconds)
        // 9 intervals at 20 fps = 0.45 s; allow a loaded shared machine plenty of slack.
        #expect(span > 0.3 && span < 2.0, "span \(span) s")
        // Frame 5 is the first image again.
        #expect(frames.map(\.sequence) == Array(1...10))
        #expect(frames[4].width == frames[0].width && frames[4].height == frames[0].height)
        #expect(frames[5].width == frames[1].width)
    }

    @Test("a slow consumer gets the newest frame; older ones are dropped and counted")
    func newestWins() async throws {
        let dir = try Self.faceFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try ReplaySource(.folder(dir.path), framesPerSecond: 100, loop: true)
        var seen: [UInt64] = []
        for try await frame in source.frames() {
            seen.append(frame.sequence)
            if seen.count == 3 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        // 250 ms at 100 fps is ~25 frames; on a loaded machine far fewer, but never just one.
        #expect(seen[2] - seen[1] >= 2, "sequence numbers \(seen): stale frames were not dropped")
        #expect(source.statistics.dropped > 0)
    }

    @Test("an MJPEG file splits into its frames, even with EXIF thumbnails and garbage between")
    func mjpegSplitting() throws {
        let a = try TestAssets.faceImageBytes("images/facerec/obama.jpg")  // has an EXIF thumbnail
        let b = try TestAssets.faceImageBytes("images/mpl/grace_hopper.jpg")
        let data = a + [0, 0, 0x12] + b + a + Array(b.prefix(b.count / 2))  // last frame truncated
        let ranges = MJPEGSplitter.frameRanges(in: data)
        #expect(ranges.count == 3)
        let frames = MJPEGSplitter.split(data)
        #expect(frames.first == a && frames.dropFirst().first == b)
        #expect(frames.allSatisfy(MJPEGSplitter.looksComplete))
        #expect(!MJPEGSplitter.looksComplete(Array(b.prefix(b.count / 2))))
        #expect(MJPEGSplitter.looksComplete(b + [0, 0, 0, 0]))  // UVC zero padding
    }

    @Test("an MJPEG file replays as a source")
    func mjpegReplay() async throws {
        let dir = try TestAssets.temporaryDirectory("mjpeg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let frame = try JPEGEncoder().encode(CameraFixture.vgaImage(), quality: 80)
        let file = dir.appendingPathComponent("door.mjpeg")
        try Data(frame + frame + frame).write(to: file)
        let source = try ReplaySource(.mjpegFile(file.path), framesPerSecond: 60, loop: false, deliverEveryFrame: true)
        var count = 0
        let decoder = try JPEGDecoder()
        for try await frame in source.frames() {
            count += 1
            let scaled = try frame.decoded(to: .gray8, atLeastWidth: 320, height: 240, using: decoder)
            #expect(scaled.image.width == 320 && scaled.scale == JPEGScale(numerator: 1, denominator: 2))
        }
        #expect(count == 3)
    }

    @Test("a script shows each image for its duration")
    func script() async throws {
        let dir = try Self.faceFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("day.txt")
        try Data("# empty door, then a visitor\nframe3.png 0.2\nframe0.jpg  0.1  # Obama\n".utf8).write(to: script)
        let source = try ReplaySource(.script(script.path), framesPerSecond: 50, loop: false, deliverEveryFrame: true)
        #expect(source.frameCount == 15)
        var widths: [Int] = []
        for try await frame in source.frames() { widths.append(frame.width) }
        #expect(widths.count == 15)
        #expect(widths.prefix(10).allSatisfy { $0 == 512 })
        #expect(widths.suffix(5).allSatisfy { $0 != 512 })
    }

    @Test("bad inputs fail at construction and name the path")
    func badInputs() throws {
        let dir = try TestAssets.temporaryDirectory("replay-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: CameraError.self) { try ReplaySource(.folder(dir.path)) }  // empty
        #expect(throws: CameraError.self) { try ReplaySource(.folder(dir.path + "/missing")) }
        #expect(throws: CameraError.self) { try ReplaySource(.files(["x.jpg"]), framesPerSecond: 0) }
        let script = dir.appendingPathComponent("bad.txt")
        try Data("nothing-here.jpg 2\n".utf8).write(to: script)
        do {
            _ = try ReplaySource(.script(script.path))
            Issue.record("a script naming a missing file was accepted")
        } catch {
            #expect(error.description.contains("nothing-here.jpg"))
        }
    }

    @Test("a corrupt file in the replay is skipped and counted, the rest still play")
    func corruptFileSkipped() async throws {
        let dir = try Self.faceFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([0xFF, 0xD8, 0xFF] + Array(repeating: 0x42, count: 100)).write(to: dir.appendingPathComponent("frame1.jpg"))
        let source = try ReplaySource(.folder(dir.path), framesPerSecond: 100, loop: false, deliverEveryFrame: true)
        var count = 0
        for try await _ in source.frames() { count += 1 }
        #expect(count == 3)
        #expect(source.statistics.corrupt == 1)
    }
}
