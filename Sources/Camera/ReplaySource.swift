// ReplaySource: frames from image folders, MJPEG files or scripts, paced like a camera (demos, tests).
import Imaging
import Threading

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// Frames from files instead of a camera: a folder of JPEG/PNG images, an MJPEG recording, or a
/// script staging "a day at the door" (which picture, for how long). Same `FrameSource`
/// interface as `V4L2Camera`, so the whole agent runs without a camera: demos, tests, and
/// replaying a customer's recording in the field.
///
/// Frames are paced on an absolute schedule (frame n at start + n/fps), so a slow consumer
/// does not slow the clock: like a real camera, it sees the newest frame and the rest drop.
package struct ReplaySource: FrameSource {
    /// Where the frames come from.
    package enum Input: Sendable, Hashable {
        /// Every `.jpg`/`.jpeg`/`.png` file in the folder, sorted by name, one frame each.
        case folder(String)
        /// Concatenated JPEG frames (`.mjpeg`/`.mjpg`), one frame each.
        case mjpegFile(String)
        /// These files, in this order, one frame each.
        case files([String])
        /// A text file of `<image file> <seconds>` lines (relative paths from the script's
        /// folder; `#` starts a comment): each image is shown for that long at the frame rate.
        case script(String)
    }

    /// One image and how many consecutive frames show it.
    enum Content: Sendable, Hashable {
        case file(String)
        case bytes([UInt8])
    }

    struct Segment: Sendable, Hashable {
        var content: Content
        var frameCount: Int
    }

    package let name: String
    package let framesPerSecond: Double
    package let loops: Bool
    /// Keep every frame for the consumer instead of only the newest (see `init`).
    package let deliversEveryFrame: Bool
    let segments: [Segment]
    private let stats = StatisticsBox()

    /// Lists the frames now (so a bad path fails at start, naming it) without decoding them.
    /// `framesPerSecond` must be positive; `loop` restarts at the end instead of finishing.
    /// `deliverEveryFrame` queues frames instead of dropping stale ones: for analysing a
    /// recording frame by frame (and deterministic tests); a live pipeline leaves it off so it
    /// behaves exactly as with a camera.
    package init(_ input: Input, framesPerSecond: Double = 15, loop: Bool = true, deliverEveryFrame: Bool = false) throws(CameraError) {
        guard framesPerSecond > 0, framesPerSecond <= 1000 else {
            throw .replay(path: "\(input)", problem: "frame rate \(framesPerSecond) must be in 0 < fps <= 1000")
        }
        self.framesPerSecond = framesPerSecond
        self.loops = loop
        self.deliversEveryFrame = deliverEveryFrame
        switch input {
        case .folder(let path):
            let files = try Self.imageFiles(in: path)
            segments = files.map { Segment(content: .file($0), frameCount: 1) }
            name = "replay of \(files.count) images in \(path)"
        case .files(let paths):
            segments = paths.map { Segment(content: .file($0), frameCount: 1) }
            name = "replay of \(paths.count) images"
        case .mjpegFile(let path):
            let data = try Self.read(path)
            let frames = MJPEGSplitter.split(data)
            segments = frames.map { Segment(content: .bytes($0), frameCount: 1) }
            name = "replay of \(path) (\(frames.count) frames)"
        case .script(let path):
            segments = try Self.parseScript(path, framesPerSecond: framesPerSecond)
            name = "replay script \(path)"
        }
        guard !segments.isEmpty else {
            throw .replay(path: "\(input)", problem: "no JPEG or PNG frames found")
        }
    }

    /// Frames in one pass (before looping).
    package var frameCount: Int { segments.reduce(0) { $0 + $1.frameCount } }

    package var statistics: CaptureStatistics { stats.snapshot }
    package func reportCorrupt() { stats.update { $0.corrupt += 1 } }

    package func frames() -> AsyncThrowingStream<Frame, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Frame, any Error>.makeStream(
            bufferingPolicy: deliversEveryFrame ? .unbounded : .bufferingNewest(1))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.stop() }
        let segments = self.segments, fps = self.framesPerSecond, loops = self.loops, stats = self.stats, name = self.name
        let refused = DedicatedThread.start {
            Self.play(segments: segments, fps: fps, loops: loops, name: name, stats: stats, stop: stop, continuation: continuation)
        }
        if let refused {
            continuation.finish(
                throwing: CameraError.replay(path: name, problem: "could not start a thread (\(String(cString: strerror(refused))))"))
        }
        return stream
    }

    // MARK: Playback (on its own thread: file reads and PNG decoding block)

    private static func play(
        segments: [Segment], fps: Double, loops: Bool, name: String, stats: StatisticsBox, stop: StopFlag,
        continuation: AsyncThrowingStream<Frame, any Error>.Continuation
    ) {
        guard let decoder = try? JPEGDecoder() else {
            continuation.finish(throwing: CameraError.replay(path: name, problem: "TurboJPEG unavailable"))
            return
        }
        stats.setState("replaying")
        defer { stats.setState("finished") }
        let periodNanoseconds = UInt64(1e9 / fps)
        let start = MonotonicTime.now()
        var emitted: UInt64 = 0
        repeat {
            var usable = 0
            for segment in segments {
                let frame = load(segment.content, decoder: decoder)
                if frame == nil { stats.update { $0.corrupt += 1 } }
                for _ in 0..<segment.frameCount {
                    let due = MonotonicTime(nanoseconds: start.nanoseconds + emitted * periodNanoseconds)
                    let now = MonotonicTime.now()
                    if due > now { CaptureThread.sleep(due.duration(since: now), unless: stop.flag) }
                    if stop.isStopped {
                        continuation.finish()
                        return
                    }
                    emitted += 1
                    guard let (width, height, payload) = frame else { continue }
                    usable += 1
                    let time = MonotonicTime.now()
                    stats.recordCaptured(at: time)
                    let result = continuation.yield(
                        Frame(sequence: emitted, timestamp: time, width: width, height: height, payload: payload))
                    stats.recordYield(result)
                    if case .terminated = result { return }
                }
            }
            if usable == 0 {
                continuation.finish(throwing: CameraError.replay(path: name, problem: "none of the frames could be decoded"))
                return
            }
        } while loops && !stop.isStopped
        continuation.finish()
    }

    /// A frame's size and payload: JPEGs stay compressed (the consumer decodes them scaled,
    /// as with MJPEG from a camera); PNGs are decoded to RGB. Nil when unreadable or damaged.
    private static func load(_ content: Content, decoder: JPEGDecoder) -> (Int, Int, Frame.Payload)? {
        let bytes: [UInt8]
        switch content {
        case .bytes(let data): bytes = data
        case .file(let path):
            guard let data = try? ImageFile.readBytes(at: path) else { return nil }
            bytes = data
        }
        switch ImageFile.sniff(bytes) {
        case .jpeg:
            guard let header = try? decoder.header(bytes) else { return nil }
            return (header.width, header.height, .jpeg(bytes))
        case .png:
            guard let image = try? PNGDecoder.decode(bytes, to: .rgb24) else { return nil }
            return (image.width, image.height, .image(image))
        case nil:
            return nil
        }
    }

    // MARK: Inputs

    static func read(_ path: String) throws(CameraError) -> [UInt8] {
        do { return try ImageFile.readBytes(at: path) } catch { throw .replay(path: path, problem: error.description) }
    }

    static func imageFiles(in folder: String) throws(CameraError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw .replay(path: folder, problem: "cannot list the folder (\(error)); check the path")
        }
        let extensions: Set<String> = ["jpg", "jpeg", "png"]
        return names.filter { name in
            guard let dot = name.lastIndex(of: ".") else { return false }
            return extensions.contains(name[name.index(after: dot)...].lowercased())
        }.sorted().map { folder.hasSuffix("/") ? folder + $0 : folder + "/" + $0 }
    }

    static func parseScript(_ path: String, framesPerSecond: Double) throws(CameraError) -> [Segment] {
        let text = String(decoding: try read(path), as: UTF8.self)
        let base = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        var segments: [Segment] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2, let seconds = Double(fields[1]), seconds > 0 else {
                throw .replay(path: path, problem: "line \(number + 1): expected `<image file> <seconds>`, got \"\(line)\"")
            }
            let file = fields[0].hasPrefix("/") ? String(fields[0]) : base + fields[0]
            guard FileManager.default.fileExists(atPath: file) else {
                throw .replay(path: path, problem: "line \(number + 1): \(file) does not exist")
            }
            segments.append(Segment(content: .file(file), frameCount: max(1, Int((seconds * framesPerSecond).rounded()))))
        }
        return segments
    }
}
