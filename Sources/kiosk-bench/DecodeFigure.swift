// DecodeFigure: the detection path's half-scale decode of a 640×480 MJPEG frame vs TurboJPEG's tjbench, same frames.
import Foundation
import Imaging
import KioskCore
import TestSupport

/// `JPEGDecoder.decode(scale 1/2, reusing:)` (what `FrameAnalyzer` runs on every frame) against
/// `tjbench -scale 1/2 -bgr` (Debian's libjpeg-turbo-progs) on the same five 640×480 q85
/// frames, rounds alternating. tjbench reports Mpixel/s of the full-size image; converted to
/// ms per frame as `kiosk-bench imaging` does.
struct DecodeFigure {
    let directory: URL
    let rounds: Int
    let tjbench = "/usr/bin/tjbench"
    static let photos = [
        "images/mpl/grace_hopper.jpg", "images/facerec/obama.jpg", "images/facerec/biden.jpg", "images/ocvdoc/home.jpg",
        "images/ocvdoc/building.jpg",
    ]

    func measure() throws -> BenchFigure {
        let encoder = try JPEGEncoder(), decoder = try JPEGDecoder()
        var frames: [[UInt8]] = [], files: [String] = []
        for (n, photo) in Self.photos.enumerated() {
            let image = try ImageFile.load(TestAssets.faceImage(photo), format: .rgb24).resized(width: 640, height: 480, method: .area)
            let bytes = try encoder.encode(image, quality: 85)
            let file = directory.appendingPathComponent("decode\(n).jpg")
            try Data(bytes).write(to: file)
            frames.append(bytes)
            files.append(file.path)
        }
        let haveReference = FileManager.default.isExecutableFile(atPath: tjbench)
        var ours: [Double] = [], theirs: [Double] = []
        var buffer: [UInt8] = []
        let half = JPEGScale(numerator: 1, denominator: 2)
        for _ in 0..<rounds {
            if haveReference {
                let times = files.compactMap {
                    tj([$0, "-bgr", "-scale", "1/2", "-benchtime", "0.5", "-warmup", "0.2", "-nowrite", "-quiet"])
                }
                theirs.append(BenchStats(times).median)
            }
            var times: [Double] = []
            for frame in frames {
                _ = try decoder.decode(frame, to: .bgr24, scale: half, reusing: &buffer)
                let start = ContinuousClock.now
                for _ in 0..<50 { _ = try decoder.decode(frame, to: .bgr24, scale: half, reusing: &buffer) }
                times.append((ContinuousClock.now - start).seconds * 1000 / 50)
            }
            ours.append(BenchStats(times).median)
        }
        let o = BenchStats(ours), t = BenchStats(theirs)
        return BenchFigure(
            name: "half-scale decode of a 640×480 MJPEG frame to 320×240 BGR (the detection path's decode)",
            measured: "\(fmt(o.median, 2)) ms", goal: "reported", verdict: .reported, margin: "",
            reference: haveReference
                ? "tjbench -scale 1/2 -bgr: \(fmt(t.median, 2)) ms; ratio \(fmt(o.median / t.median, 2))×"
                : "tjbench not installed (apt-get install libjpeg-turbo-progs)",
            samples:
                "\(frames.count) frames × 50 runs × \(rounds) rounds (alternating); round medians \(fmt(o.min, 2))–\(fmt(o.max, 2)) ms"
                + (haveReference ? " (tjbench \(fmt(t.min, 2))–\(fmt(t.max, 2)))" : ""),
            values: ["ms": o.median, "tjbench_ms": t.count > 0 ? t.median : .nan])
    }

    /// tjbench's decompression rate (the last number of its data row, Mpixel/s) as ms per 640×480 frame.
    private func tj(_ arguments: [String]) -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tjbench)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let row = output.split(separator: "\n").last(where: { $0.contains("(TD)") || $0.contains("(TS)") }),
            let rate = row.split(separator: " ").last.flatMap({ Double($0) }), rate > 0
        else { return nil }
        return 640.0 * 480.0 / 1e6 / rate * 1e3
    }
}
