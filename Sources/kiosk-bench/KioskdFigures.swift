// KioskdFigures: the release kioskd from outside: start → READY=1, CPU share idle and busy at 30 fps, RSS, binary size.
import Foundation
import KioskCore

#if canImport(Glibc)
import Glibc
#endif

struct KioskdFigures {
    let scenes: BenchScenes
    let directory: URL
    let quick: Bool

    func measure(say: (String) -> Void) async throws -> [BenchFigure] {
        let harness = try KioskdHarness(directory: directory)
        guard harness.available else {
            throw BenchError("no kioskd next to this binary (\(harness.kioskd.path)); build it: swift build -c release --product kioskd")
        }
        harness.startServer()
        defer { harness.stopServer() }
        let idle = try scenes.writeFolder("kioskd-idle", in: directory, count: 30, person: false)
        let person = try scenes.writeFolder("kioskd-person", in: directory, count: 60, person: true)
        let window: Double = quick ? 15 : 60

        // Start-up: launch → READY=1 (model load, GPIO console backend, first frame); memory after.
        var ready: [Double] = [], startRSS: [Double] = []
        for round in 0..<(quick ? 3 : 5) {
            let run = try harness.launch(frames: idle, name: "start\(round)")
            if let r = run.ready { ready.append(r.milliseconds) }
            try await Task.sleep(for: .seconds(2))
            if let rss = run.probe.residentMB() { startRSS.append(rss) }
            run.stop()
        }

        say("kioskd idle, gate on")
        let idleOn = try await cpuShare(harness, frames: idle, name: "idle-on", gate: true, seconds: window)
        say("kioskd idle, gate off (reference)")
        let idleOff = try await cpuShare(harness, frames: idle, name: "idle-off", gate: false, seconds: min(window, 20))
        say("kioskd with a person in view")
        let busy = try await cpuShare(harness, frames: person, name: "person", gate: true, seconds: window)
        ready += [idleOn.ready, idleOff.ready, busy.ready].compactMap { $0 }

        var figures: [BenchFigure] = []
        let cpuSamples = { (r: CPURun) in
            "\(r.windows.count) window\(r.windows.count == 1 ? "" : "s") of 10 s after a 3 s warm-up (median; range \(fmt(BenchStats(r.windows).min))–\(fmt(BenchStats(r.windows).max)) %)"
        }
        do {
            let share = BenchStats(idleOn.windows).median
            let (v, m) = underOrOver(share, goal: 10, unit: "% of a core")
            figures.append(
                BenchFigure(
                    name: "CPU share of one core, nobody in view, camera replay at 30 fps (kioskd, /proc CPU time)",
                    measured: "\(fmt(share)) % (\(fmt(window, 0)) s)", goal: "≤ 10 %", verdict: v, margin: m,
                    reference:
                        "the same with pipeline.idle_gate off: \(fmt(BenchStats(idleOff.windows).median)) %; the issue's debug kioskd: 39 %",
                    samples: cpuSamples(idleOn),
                    limit: v == .miss ? "the half-scale JPEG decode of every frame and the replay's file reads" : nil,
                    values: ["percent": share, "gate_off_percent": BenchStats(idleOff.windows).median]))
        }
        do {
            let share = BenchStats(busy.windows).median
            let (v, m) = underOrOver(share, goal: 60, unit: "% of a core")
            figures.append(
                BenchFigure(
                    name: "CPU share of one core, a person in view, 30 fps (kioskd; each check-in answered by \(harness.serverNote))",
                    measured: "\(fmt(share)) % (\(fmt(window, 0)) s)", goal: "≤ 60 %", verdict: v, margin: m, reference: nil,
                    samples: cpuSamples(busy), limit: v == .miss ? "YuNet on every frame while a face is in view" : nil,
                    values: ["percent": share]))
        }
        do {
            let s = BenchStats(ready)
            let (v, m) = underOrOver(s.median / 1000, goal: 1.0, unit: "s", digits: 2)
            figures.append(
                BenchFigure(
                    name: "process start → READY=1 (kioskd: model load, console GPIO, outbox, first replayed frame)",
                    measured: "\(fmt(s.median / 1000, 3)) s median, \(fmt(s.max / 1000, 3)) s max", goal: "≤ 1.0 s", verdict: v,
                    margin: m, reference: nil, samples: "\(s.count) launches; range \(fmt(s.min, 0))–\(fmt(s.max, 0)) ms",
                    limit: v == .miss ? "YuNet model load and OpenCV start-up" : nil, values: ["median_ms": s.median, "max_ms": s.max]))
        }
        do {
            let size = Self.fileMB(harness.kioskd.path)
            let stripped = Self.strippedMB(harness.kioskd.path, directory: directory)
            let rss = BenchStats(startRSS).median
            let linkage =
                switch Self.sharedSwiftRuntime(harness.kioskd.path) {
                case false?: "Swift runtime and Foundation linked in (--static-swift-stdlib, as packaged)"
                case true?: "Swift runtime and Foundation shared (a development build, not as packaged)"
                case nil: "linkage unknown (ldd failed)"
                }
            figures.append(
                BenchFigure(
                    name: "kioskd binary size; resident memory at idle",
                    measured:
                        "binary \(fmt(size)) MB as built\(stripped.map { ", \(fmt($0)) MB stripped" } ?? ""); RSS \(fmt(rss)) MB 2 s after READY=1, \(fmt(idleOn.endRSS)) MB after \(fmt(window, 0)) s idle",
                    goal: "reported", verdict: .reported, margin: "", reference: nil,
                    samples:
                        "RSS from /proc/<pid>/status VmRSS, median of \(startRSS.count) launches; \(linkage); the system libraries (OpenCV, libcurl, SQLite, TurboJPEG) shared, not counted in the size",
                    values: ["binary_mb": size, "stripped_mb": stripped ?? .nan, "rss_start_mb": rss, "rss_idle_mb": idleOn.endRSS]))
        }
        return figures
    }

    struct CPURun {
        var windows: [Double]
        var ready: Double?
        var endRSS: Double
    }

    private func cpuShare(_ harness: KioskdHarness, frames: URL, name: String, gate: Bool, seconds: Double) async throws -> CPURun {
        let run = try harness.launch(frames: frames, name: name, gate: gate)
        defer { run.stop() }
        guard let ready = run.ready else { throw BenchError("kioskd (\(name)) did not send READY=1 within 30 s") }
        try await Task.sleep(for: .seconds(3))
        var windows: [Double] = []
        let count = max(1, Int(seconds / 10))
        for _ in 0..<count {
            guard let cpu0 = run.probe.cpuSeconds() else { throw BenchError("kioskd (\(name)) stopped") }
            let t0 = ContinuousClock.now
            try await Task.sleep(for: .seconds(10))
            guard let cpu1 = run.probe.cpuSeconds() else { throw BenchError("kioskd (\(name)) stopped") }
            windows.append((cpu1 - cpu0) / (ContinuousClock.now - t0).seconds * 100)
        }
        return CPURun(windows: windows, ready: ready.milliseconds, endRSS: run.probe.residentMB() ?? .nan)
    }

    static func fileMB(_ path: String) -> Double {
        Double(((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0) / 1_048_576
    }

    /// The size after `strip` (what a package installs), when binutils is there.
    /// Whether `path` needs libswiftCore.so (a development build) or carries the Swift runtime
    /// (`--static-swift-stdlib`, as packaged); nil when `ldd` cannot tell.
    static func sharedSwiftRuntime(_ path: String) -> Bool? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? output.contains("libswiftCore.so") : nil
    }

    static func strippedMB(_ path: String, directory: URL) -> Double? {
        let out = directory.appendingPathComponent("kioskd.stripped").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strip")
        process.arguments = ["-o", out, path]
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? fileMB(out) : nil
    }
}
