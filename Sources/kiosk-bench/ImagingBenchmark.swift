// `kiosk-bench imaging`: per-frame cost of the camera → detection path at 640x480 (decode with
// and without TurboJPEG scaling, YUYV conversion, encode), next to TurboJPEG's own `tjbench` on
// the same frames, so a regression in our wrapper shows as a gap to the reference.
import ArgumentParser
import Foundation
import Imaging
import TestSupport

struct ImagingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imaging",
        abstract: "Imaging: decode+downscale and encode time per 640x480 frame, vs TurboJPEG's tjbench.",
        discussion: """
            Frames are face-set photos resized to 640x480 and encoded at quality 85 (4:2:0), like a \
            USB camera's MJPEG. Each figure is the median over all frames of the best of --rounds \
            runs. The reference is /usr/bin/tjbench (Debian libjpeg-turbo-progs) on the same frames: \
            its Mpixel/s is converted to ms per 640x480 frame (it counts the JPEG's full size, also \
            when scaling). Build in release mode for figures that mean anything (make bench).
            """
    )

    @Option(help: "Timed runs per frame and round.")
    var runs = 20

    @Option(help: "Rounds; the best of each counts.")
    var rounds = 3

    @Option(help: "TurboJPEG's benchmark tool.")
    var tjbench = "/usr/bin/tjbench"

    static let photos = [
        "images/mpl/grace_hopper.jpg", "images/facerec/obama.jpg", "images/facerec/biden.jpg",
        "images/skimage/astronaut.png", "images/ocvdoc/home.jpg",
    ]

    func run() throws {
        guard TestAssets.available else {
            throw ValidationError("assets missing at \(TestAssets.root.path): run scripts/fetch-assets.sh (or make setup)")
        }
        let decoder = try JPEGDecoder(), encoder = try JPEGEncoder()
        var images: [Image] = []
        for photo in Self.photos {
            let url = TestAssets.faceImage(photo)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            images.append(try ImageFile.load(url, format: .rgb24).resized(width: 640, height: 480))
        }
        guard !images.isEmpty else { throw ValidationError("none of the benchmark photos is in \(TestAssets.faceImages.path)") }
        let frames = try images.map { try encoder.encode($0, quality: 85) }
        let yuyvFrames = images.map(Self.yuyv)
        let sizes = frames.map(\.count).sorted()
        print(
            "imaging, \(frames.count) frames of 640x480 (MJPEG q85, \(sizes[sizes.count / 2] / 1024) KiB median), \(runs) runs x \(rounds) rounds"
        )

        func report(_ label: String, _ body: (Int) throws -> Void) rethrows {
            let ms = try median(frames.indices.map { index in try best { try body(index) } })
            print("  \(label.padding(toLength: 52, withPad: " ", startingAt: 0)) \(String(format: "%7.2f", ms)) ms/frame")
        }
        let half = JPEGScale(numerator: 1, denominator: 2)
        try report("decode full 640x480 -> bgr24") { _ = try decoder.decode(frames[$0], to: .bgr24) }
        try report("decode scaled 1/2 -> 320x240 bgr24 (detection path)") { _ = try decoder.decode(frames[$0], to: .bgr24, scale: half) }
        try report("decode scaled 1/2 -> 320x240 gray8") { _ = try decoder.decode(frames[$0], to: .gray8, scale: half) }
        try report("decode full + area resize to 320x240 (avoided)") {
            _ = try decoder.decode(frames[$0], to: .bgr24).image.resized(width: 320, height: 240, method: .area)
        }
        try report("read header only") { _ = try decoder.header(frames[$0]) }
        try report("encode 640x480 rgb24 q90 4:2:0") { _ = try encoder.encode(images[$0], quality: 90) }
        try report("encode face crop ~200x250 q90") {
            _ = try encoder.encode(
                images[$0].cropped(to: PixelRect(x: 240, y: 120, width: 160, height: 200), margin: 0.12).image, quality: 90)
        }
        try report("YUYV 640x480 -> bgr24 320x240 (reduced in one pass)") {
            _ = try Image(yuyv: yuyvFrames[$0], width: 640, height: 480, format: .bgr24, reducedBy: 2)
        }
        try report("YUYV 640x480 -> bgr24 640x480") { _ = try Image(yuyv: yuyvFrames[$0], width: 640, height: 480, format: .bgr24) }
        try reference(frames: frames, images: images)
    }

    /// Best time of `rounds`, each the mean of `runs`, in milliseconds.
    private func best(_ body: () throws -> Void) rethrows -> Double {
        var bestMs = Double.infinity
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            for _ in 0..<runs { try body() }
            let elapsed = ContinuousClock.now - start
            let ms = (Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15) / Double(runs)
            bestMs = min(bestMs, ms)
        }
        return bestMs
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    // MARK: Reference: tjbench on the same frames

    private func reference(frames: [[UInt8]], images: [Image]) throws {
        guard FileManager.default.isExecutableFile(atPath: tjbench) else {
            print("  reference: \(tjbench) not found (apt-get install libjpeg-turbo-progs); skipped")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-bench-imaging-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var full: [Double] = [], half: [Double] = [], gray: [Double] = [], encode: [Double] = []
        for (index, frame) in frames.enumerated() {
            let jpeg = dir.appendingPathComponent("frame\(index).jpg"), ppm = dir.appendingPathComponent("frame\(index).ppm")
            try Data(frame).write(to: jpeg)
            try Data(Array("P6\n640 480\n255\n".utf8) + images[index].pixels).write(to: ppm)
            let common = ["-benchtime", "0.5", "-warmup", "0.2", "-nowrite", "-quiet"]
            full += tj([jpeg.path, "-bgr"] + common, column: .decompress).map { [$0] } ?? []
            half += tj([jpeg.path, "-bgr", "-scale", "1/2"] + common, column: .decompress).map { [$0] } ?? []
            gray += tj([jpeg.path, "-scale", "1/2", "-grayscale"] + common, column: .decompress).map { [$0] } ?? []
            encode += tj([ppm.path, "90", "-rgb", "-subsamp", "420", "-componly"] + common, column: .compress).map { [$0] } ?? []
        }
        print("  reference tjbench (same frames, ms per 640x480 frame):")
        print(String(format: "    decompress full -> BGR               %7.2f", median(full)))
        print(String(format: "    decompress -scale 1/2 -> BGR         %7.2f", median(half)))
        print(String(format: "    decompress -scale 1/2 -grayscale     %7.2f", median(gray)))
        print(String(format: "    compress q90 4:2:0 from RGB          %7.2f", median(encode)))
    }

    private enum Column { case compress, decompress }

    /// Runs tjbench and converts its Mpixel/s for a 640x480 frame to ms; nil when it fails.
    private func tj(_ arguments: [String], column: Column) -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tjbench)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // The data row: "RGB  (TD)  4:2:0  90  640  480  222.9  18.17  N/A" (compress) or
        // "BGR  (TD)  YCbCr  4:2:0  640  480  N/A  N/A  374.0" (decompress).
        guard let row = output.split(separator: "\n").last(where: { $0.contains("(TD)") || $0.contains("(TS)") }) else { return nil }
        let fields = row.split(separator: " ").map(String.init)
        let numbers = fields.compactMap(Double.init)
        let rate: Double?
        switch column {
        case .decompress: rate = fields.last.flatMap(Double.init)
        case .compress: rate = numbers.count >= 5 ? numbers[numbers.count - 2] : nil  // before the ratio
        }
        guard let rate, rate > 0 else { return nil }
        return 640.0 * 480.0 / 1e6 / rate * 1e3
    }

    /// RGB → YUYV (BT.601 limited range), a stand-in for a YUYV camera frame.
    static func yuyv(_ image: Image) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.width * image.height * 2)
        let p = image.pixels
        for i in stride(from: 0, to: image.width * image.height, by: 2) {
            var ys = [0, 0], us = 0, vs = 0
            for k in 0..<2 {
                let r = Int(p[3 * (i + k)]), g = Int(p[3 * (i + k) + 1]), b = Int(p[3 * (i + k) + 2])
                ys[k] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16
                us += ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128
                vs += ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128
            }
            out[2 * i] = UInt8(clamping: ys[0])
            out[2 * i + 1] = UInt8(clamping: us / 2)
            out[2 * i + 2] = UInt8(clamping: ys[1])
            out[2 * i + 3] = UInt8(clamping: vs / 2)
        }
        return out
    }
}
