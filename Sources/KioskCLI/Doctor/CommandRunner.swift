// CommandRunner: runs a system tool (systemctl, journalctl) with a time limit, for doctor and report.
import Foundation

/// What a finished (or stopped) command printed.
struct CommandOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// True when the command was killed at its time limit.
    var timedOut: Bool
}

/// Runs other programs without blocking the cooperative pool and without waiting forever.
enum CommandRunner {
    /// The first of `candidates` that exists and is executable.
    static func find(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `path` with `arguments`; kills it (SIGKILL) after `limit`. Nil when it cannot be started.
    static func run(_ path: String, _ arguments: [String], within limit: Duration) async -> CommandOutput? {
        await Bounded.blocking("command", within: limit + .seconds(1)) {
            runBlocking(path, arguments, limit: limit)
        } ?? nil
    }

    private static func runBlocking(_ path: String, _ arguments: [String], limit: Duration) -> CommandOutput? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        // Plain, untranslated, unpaged output.
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        environment["SYSTEMD_PAGER"] = ""
        environment["SYSTEMD_COLORS"] = "0"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let killer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit.secondsValue, execute: killer)
        // Read both pipes to the end before waiting: a full pipe would block the child.
        let group = DispatchGroup()
        let errData = LockedData()
        group.enter()
        DispatchQueue(label: "kioskctl.command.stderr").async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let timedOut = !killer.isCancelled && process.terminationReason == .uncaughtSignal
        killer.cancel()
        return CommandOutput(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self), timedOut: timedOut)
    }
}

/// Bytes handed from a reader thread to the waiting one (the group's wait orders the accesses).
private final class LockedData: @unchecked Sendable {
    private var data = Data()
    func set(_ value: Data) { data = value }
    func get() -> Data { data }
}
