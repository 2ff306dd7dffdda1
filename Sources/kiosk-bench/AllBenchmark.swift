// `kiosk-bench all`: every figure of issue 17 in one table (or JSON): goal, verdict, same-run reference, spread.
import ArgumentParser
import Foundation
import KioskCore
import TestSupport
import Threading

struct AllBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "The terminal's figures in one table: idle and busy CPU, per-frame path, face-to-door, start-up, memory, journal, size.",
        discussion: """
            Build in release mode (scripts/bench.sh does). kioskd, kioskctl and aidee-sim are run from the \
            folder this binary is in. The full run takes about 12 minutes on 2 cores; --quick about 4 \
            (shorter CPU windows, fewer rounds, 10k -> 30k frames for memory). Figures: \
            CPU share = kioskd's /proc CPU time over wall time while it replays 30 fps for the window \
            (median of 10 s windows); per-frame path = FrameAnalyzer (scaled decode, YuNet, quality) \
            + BestFrameSelector on the face set at 640x480 MJPEG, against cv2.imdecode(REDUCED_COLOR_2) + \
            YuNet in Python (scripts/bench/frame_path_reference.py), alternating rounds.
            """)

    @Flag(help: "Print JSON instead of the table.")
    var json = false

    @Flag(help: "A shorter run (about 5 minutes): fewer rounds and shorter windows.")
    var quick = false

    @Option(help: "Python interpreter with cv2 (Debian's python3-opencv) for the references.")
    var python = "/usr/bin/python3"

    @Option(help: "Frames for the memory figure (default 100,000; 30,000 with --quick); more for a longer soak.")
    var memoryFrames: Int?

    @Option(help: "Only these figures (repeatable): cpu, path, door, bound, memory, journal.")
    var only: [String] = []

    func run() async throws {
        // As kioskd's start does: the memory and path figures run the agent in this process.
        MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
        guard TestAssets.available else {
            throw ValidationError("assets missing at \(TestAssets.root.path): run scripts/fetch-assets.sh (or make setup)")
        }
        let directory = try TestAssets.temporaryDirectory("kiosk-bench-all")
        defer { try? FileManager.default.removeItem(at: directory) }
        let wanted = Set(only)
        func want(_ name: String) -> Bool { wanted.isEmpty || wanted.contains(name) }
        func say(_ line: String) {
            FileHandle.standardError.write(Data(("kiosk-bench all: " + line + "\n").utf8))
        }
        var figures: [BenchFigure] = []
        let scenes = try BenchScenes()

        if want("path") {
            say("per-frame path vs Python/OpenCV (alternating rounds)")
            figures += try await FramePathFigure(python: python, rounds: quick ? 3 : 5, directory: directory).measure()
        }
        if want("path") {
            say("half-scale decode vs tjbench (alternating rounds)")
            figures.append(try DecodeFigure(directory: directory, rounds: quick ? 3 : 5).measure())
        }
        if want("bound") {
            say("idle scene gate: first detection with and without it")
            figures.append(try await GateBoundFigure(scenes: scenes).measure())
        }
        if want("door") {
            say("first face frame -> door signal, gate on and off")
            figures += try await FaceToDoorFigure(scenes: scenes, directory: directory, rounds: quick ? 6 : 8).measure()
        }
        if want("cpu") {
            say("kioskd: start-up, idle and busy CPU, memory (\(quick ? "15" : "60") s windows)")
            figures += try await KioskdFigures(scenes: scenes, directory: directory, quick: quick).measure(say: say)
        }
        if want("memory") {
            let frames = memoryFrames ?? (quick ? 30_000 : 100_000)
            say("resident memory over \(frames) frames replayed as fast as it goes")
            figures.append(try await MemoryGrowthFigure(scenes: scenes, directory: directory, total: frames).measure())
        }
        if want("journal") {
            say("journal: 150,000 events, kioskctl events")
            figures.append(try await JournalFigure(directory: directory).measure())
        }
        // Every option that changes what was measured, so a pasted table says how to get it again.
        let command =
            "kiosk-bench all" + (quick ? " --quick" : "") + (memoryFrames.map { " --memory-frames \($0)" } ?? "")
            + only.map { " --only \($0)" }.joined() + (json ? " --json" : "")
        let report = BenchReport(machine: .current(), command: command, figures: figures)
        print(try json ? report.json() : report.table())
    }
}
