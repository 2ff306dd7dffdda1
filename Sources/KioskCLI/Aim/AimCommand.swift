// `kioskctl aim`: a live view for mounting and aiming the camera, built on kioskd's own frame
// source, detector and quality scorer.
import ArgumentParser
import Camera
import Dispatch
import FaceDetection
import Foundation
import Imaging
import KioskCore
import Logging
import Synchronization

/// `kioskctl aim [--once] [--json]`.
struct AimCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "aim",
        abstract: "Aim the camera: live map of the frame, the face's box, size, quality and advice.",
        discussion: """
            Uses kioskd's configuration (camera.*, detection.*, pipeline.detection_width) and \
            its own frame source, detector and quality scorer. The view is redrawn in place \
            (cursor home, clear to end of line) and fits 80x24, also on a serial console. \
            --once prints one sample and exits (0 also when no face is in view: see "face"); \
            --once --json prints it as JSON (docs/KIOSKCTL.md); --json alone prints one JSON \
            object per line. The camera streams to one program at a time: while kioskd runs \
            it holds the camera and aim says so (exit 75); stop kioskd first.
            """
    ).compactUsage("kioskctl aim [<options>]")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print one sample and exit.")
    var once = false

    @Option(help: "Redraws per second (0.5 to 10; lower it on slow serial lines).")
    var refresh = 4.0

    @Option(help: "Frames to let pass before the --once sample, so auto exposure settles.")
    var warmUp = 5

    @Option(help: "Give up after this many seconds without a frame.")
    var timeout = 10.0

    func validate() throws {
        guard (0.5...10).contains(refresh) else { throw ValidationError("--refresh must be between 0.5 and 10") }
        guard (0...300).contains(warmUp) else { throw ValidationError("--warm-up must be between 0 and 300") }
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
    }

    func run() async throws {
        let configuration = try await global.loadConfiguration()
        let agent = KioskAgent(configuration: configuration, logger: Logger(label: "kioskctl", factory: { _ in SwiftLogNoOpLogHandler() }))
        let analyzer: FrameAnalyzer
        do {
            analyzer = try agent.makeAnalyzer()
        } catch {
            throw CommandFailure(.configuration, "\(error)")
        }
        let source: any FrameSource
        do {
            source = try KioskAgent.makeSource(configuration.camera)
        } catch {
            throw CommandFailure(.configuration, "\(error)")
        }
        let sourceName = configuration.camera.source == .replay ? "replay" : configuration.camera.device
        global.note("camera: \(source.name); detector: \(configuration.detection.model)")
        let settings = AimSettings(
            source: sourceName, minFaceSize: configuration.detection.minFaceSize,
            configuredFramesPerSecond: Double(
                configuration.camera.source == .replay ? configuration.camera.replayFPS : configuration.camera.fps),
            once: once, json: global.json, refresh: refresh, warmUp: warmUp, timeout: .milliseconds(Int64(timeout * 1000)),
            interactive: isatty(STDOUT_FILENO) == 1)
        do {
            try await AimSession(source: source, analyzer: analyzer, settings: settings).run()
        } catch let error as CameraError {
            if case .deviceCall(let device, _, let code) = error, code == EBUSY {
                throw CommandFailure(
                    .temporary, DeviceHolder.busyMessage(device: device, holders: DeviceHolder.holders(of: device)), kind: "busy")
            }
            throw error
        }
    }
}

/// What a session needs from the command line and the configuration.
struct AimSettings: Sendable {
    var source: String
    var minFaceSize: Int
    var configuredFramesPerSecond: Double
    var once: Bool
    var json: Bool
    var refresh: Double
    var warmUp: Int
    var timeout: Duration
    var interactive: Bool
}

/// Reads frames, analyses a few per second with kioskd's analyzer, and prints each sample.
struct AimSession: Sendable {
    let source: any FrameSource
    let analyzer: FrameAnalyzer
    let settings: AimSettings

    func run() async throws {
        let clock = ContinuousClock()
        let lastFrame = LastFrameTime(clock.now)
        let luma = try LumaSampler()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.loop(luma: luma, lastFrame: lastFrame, clock: clock)
            }
            group.addTask {
                // Without frames the stream waits (a missing camera is waited for, as kioskd
                // does): say so instead of showing a frozen screen.
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    let since = clock.now - lastFrame.value.withLock { $0 }
                    if since > settings.timeout {
                        throw CommandFailure(
                            .failure,
                            "no frame from \(source.name) for \(Int(since.aimMilliseconds / 1000)) s (camera: \(source.statistics.state)); check the cable and `kioskctl camera list`"
                        )
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func loop(luma: LumaSampler, lastFrame: LastFrameTime, clock: ContinuousClock) async throws {
        let interval = Duration.milliseconds(Int64(1000 / settings.refresh))
        var nextDraw = clock.now
        var seen = 0
        var firstDraw = true
        for try await frame in source.frames() {
            lastFrame.value.withLock { $0 = clock.now }
            seen += 1
            if settings.once, seen <= settings.warmUp { continue }
            guard clock.now >= nextDraw else { continue }
            let analysis: FrameAnalysis
            do {
                analysis = try await analyzer.analyze(frame)
            } catch {
                throw CommandFailure.classify(error)
            }
            if analysis.corrupt {
                source.reportCorrupt()
                continue
            }
            nextDraw = clock.now + interval
            let rate = source.statistics.framesPerSecond
            let sample = AimSample.make(
                analysis: analysis, luma: await luma.grid(of: frame), source: settings.source, minFaceSize: settings.minFaceSize,
                framesPerSecond: rate > 0 ? rate : nil, configuredFramesPerSecond: settings.configuredFramesPerSecond)
            // Written straight to the descriptor: a pipe must see each sample as it comes.
            if settings.json {
                write(try AimCommand.json(sample) + "\n")
            } else if settings.interactive && !settings.once {
                write((firstDraw ? "\u{1B}[2J" : "") + AimScreen.frame(AimScreen.render(sample, title: settings.source)))
            } else {
                write(AimScreen.render(sample, title: settings.source).joined(separator: "\n") + (settings.once ? "\n" : "\n\n"))
            }
            firstDraw = false
            if settings.once { return }
        }
        throw CommandFailure(.failure, "\(source.name) stopped delivering frames (camera: \(source.statistics.state))")
    }
}

/// The time of the newest frame, shared by the reading loop and its watchdog.
final class LastFrameTime: Sendable {
    let value: Mutex<ContinuousClock.Instant>

    init(_ start: ContinuousClock.Instant) { value = Mutex(start) }
}

private func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

extension AimCommand {
    /// One sample as one line of JSON (sorted keys).
    static func json(_ sample: AimSample) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(sample), as: UTF8.self)
    }
}

/// The frame's coarse luminance picture, decoded small (TurboJPEG scales while decoding) on
/// its own serial queue: JPEG decoding never runs on Swift's cooperative pool.
///
/// `@unchecked Sendable`: the decoder is touched only on `queue`.
final class LumaSampler: @unchecked Sendable {
    private let queue = DispatchQueue(label: "kioskctl.aim.luma")
    private let decoder: JPEGDecoder

    init() throws {
        decoder = try JPEGDecoder()
    }

    /// An empty grid when the frame cannot be decoded (the analysis already said whether it could).
    func grid(of frame: Frame) async -> LumaGrid {
        await withCheckedContinuation { continuation in
            queue.async {
                let grid =
                    (try? frame.decoded(to: .gray8, atLeastWidth: 80, height: 60, using: self.decoder)).map {
                        LumaGrid(gray: $0.image, columns: AimScreen.mapColumns, rows: AimScreen.mapRows)
                    } ?? .empty
                continuation.resume(returning: grid)
            }
        }
    }
}
