// MemoryGrowthFigure: resident memory of the agent after start, 10k and 100k frames replayed as fast as it goes.
import Camera
import DoorIO
import Foundation
import KioskCore
import Logging
import Synchronization
import TestSupport

/// The agent (`KioskAgent`, the stand-in server that matches at once, console GPIO) in this
/// process, on a replay at up to 1000 fps (newest frame wins, as with a camera) of a loop of
/// 90 empty frames and 30 with a person, so detection, selection, check-ins, the journal and
/// the door all run. Resident memory (`VmRSS`) is read when the replay has delivered 10,000
/// and `total` frames.
struct MemoryGrowthFigure {
    let scenes: BenchScenes
    let directory: URL
    let total: Int

    func measure() async throws -> BenchFigure {
        let idle = try scenes.writeFolder("memory-idle", in: directory, count: 90, person: false)
        let person = try scenes.writeFolder("memory-person", in: directory, count: 30, person: true)
        var lines: [String] = []
        for n in 0..<90 { lines.append(idle.appendingPathComponent(String(format: "%04d.jpg", n)).path + " 0.001") }
        for n in 0..<30 { lines.append(person.appendingPathComponent(String(format: "%04d.jpg", n)).path + " 0.001") }
        let script = directory.appendingPathComponent("memory-script.txt")
        try lines.joined(separator: "\n").write(to: script, atomically: true, encoding: .utf8)

        var c = KioskConfiguration()
        c.camera.source = .replay
        c.camera.replayPath = script.path
        c.detection.model = TestAssets.yunetModel.path
        c.door.backend = .console
        c.door.relayPulse = .milliseconds(100)
        c.pipeline.absenceToReset = .milliseconds(50)
        c.pipeline.cooldown = .milliseconds(200)
        c.outbox.stateDirectory = directory.appendingPathComponent("memory-state").path
        c.outbox.keyFile = "outbox.key"
        c.status.file = directory.appendingPathComponent("memory-status.json").path

        // Every tenth of the run too, so a plateau and a steady climb (a leak) look different.
        let checkpoints = Set([1_000, 10_000] + stride(from: total / 10, through: total, by: max(1, total / 10)).map { $0 } + [total])
        let counter = Shared<Int>(0)
        let readings = Shared<[Int: Double]>([:])
        let done = AsyncStream<Void>.makeStream()
        var agent = KioskAgent(
            configuration: c, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }), environment: [:])
        agent.doorBackend = ConsoleBackend(sink: { _ in })
        agent.frameSource = TappedFrameSource(try ReplaySource(.script(script.path), framesPerSecond: 1000, loop: true)) { _ in
            let n = counter.mutex.withLock { count -> Int in
                count += 1
                return count
            }
            if checkpoints.contains(n) {
                readings.mutex.withLock { $0[n] = ProcessProbe.current.residentMB() ?? .nan }
                if n == total { done.continuation.yield() }
            }
        }
        agent.gateway = InstantMatchGateway()
        let started = ContinuousClock.now
        let task = Task { [agent] in try await agent.run() }
        for await _ in done.stream { break }
        let elapsed = ContinuousClock.now - started
        // Cancelling is the graceful stop; do not wait for ever if it hangs.
        task.cancel()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await task.value }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }
            await group.next()
            group.cancelAll()
        }

        let r = readings.mutex.withLock { $0 }
        let first = r[1_000] ?? .nan, ten = r[10_000] ?? .nan, last = r[total] ?? .nan
        let growth = last - ten
        let (v, m) = underOrOver(growth, goal: 1.0, unit: "MB", digits: 2)
        let label = total >= 1000 ? "\(total / 1000)k" : "\(total)"
        let series = r.keys.sorted().filter { $0 > 10_000 }.map { fmt(r[$0] ?? .nan) }.joined(separator: ", ")
        return BenchFigure(
            name: "resident memory after start, 10k and \(label) frames replayed as fast as it goes (growth 10k → \(label))",
            measured: "\(fmt(first)) MB after 1k, \(fmt(ten)) MB after 10k, \(fmt(last)) MB after \(label): growth \(fmt(growth, 2)) MB",
            goal: "growth ≤ 1 MB from 10k to 100k", verdict: v, margin: m, reference: nil,
            samples:
                "RSS (MB) after each further tenth: \(series); one run, \(total) frames in \(fmt(elapsed.seconds, 0)) s (\(fmt(Double(total) / elapsed.seconds, 0)) frames/s delivered; newest frame wins, so not all were analysed); the agent in the bench process",
            limit: v == .miss
                ? "see the tenths: a steady climb is a leak, steps that stop are malloc keeping freed memory (MallocTuning)" : nil,
            values: ["rss_1k_mb": first, "rss_10k_mb": ten, "rss_end_mb": last, "growth_mb": growth])
    }
}
