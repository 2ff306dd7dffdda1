// KioskdRun: the release kioskd as a child process (replay camera, console GPIO, aidee-sim on loopback), with its sd_notify READY.
import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `kioskd` binary (next to `kiosk-bench` in the same build) on a replay folder
/// at 30 fps, the console GPIO backend and a server on loopback, and watches it from outside:
/// the time from launch to `READY=1` on its `NOTIFY_SOCKET`, its CPU time and resident memory
/// from /proc. The server is `aidee-sim` from the same build when it is there (the person in
/// view is not enrolled: each check-in is a `no_match`), else a closed loopback port (each
/// check-in fails at once and is decided offline).
final class KioskdHarness {
    let binDirectory: URL
    let directory: URL
    let model: String
    var simulator: Process?
    var apiURL = "http://127.0.0.1:9"
    var serverNote = "no server (closed loopback port)"
    let credentials: URL

    init(directory: URL) throws {
        binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        self.directory = directory
        model = TestAssets.yunetModel.path
        credentials = directory.appendingPathComponent("credentials")
        try "key=bench\nsecret=bench-secret\n".write(to: credentials, atomically: true, encoding: .utf8)
        chmod(credentials.path, 0o600)
        let key = directory.appendingPathComponent("outbox.key")
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: key)
        chmod(key.path, 0o600)
    }

    var kioskd: URL { binDirectory.appendingPathComponent("kioskd") }
    var available: Bool { FileManager.default.isExecutableFile(atPath: kioskd.path) }

    /// Starts aidee-sim and issues an API key with kioskctl, when both are in the build.
    func startServer() {
        let sim = binDirectory.appendingPathComponent("aidee-sim"), ctl = binDirectory.appendingPathComponent("kioskctl")
        guard FileManager.default.isExecutableFile(atPath: sim.path), FileManager.default.isExecutableFile(atPath: ctl.path),
            let port = Self.freePort()
        else { return }
        let process = Process()
        process.executableURL = sim
        process.arguments = [
            "--port", "\(port)", "--data", directory.appendingPathComponent("sim").path,
            "--models", TestAssets.root.appendingPathComponent("models").path,
            "--account", "bench:bench-password", "--project", "1:Lobby", "--log-level", "error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        simulator = process
        let url = "http://127.0.0.1:\(port)"
        for _ in 0..<100 {
            let issue = Process()
            issue.executableURL = ctl
            issue.arguments = ["api", "key", "issue", "--username", "bench", "--password-stdin", "--save", credentials.path]
            issue.environment = ProcessInfo.processInfo.environment.merging(
                ["KIOSK_API_URL": url, "KIOSK_PROJECT_ID": "1"], uniquingKeysWith: { $1 })
            issue.standardOutput = FileHandle.nullDevice
            issue.standardError = FileHandle.nullDevice
            let password = Pipe()
            issue.standardInput = password
            if (try? issue.run()) != nil {
                password.fileHandleForWriting.write(Data("bench-password\n".utf8))
                try? password.fileHandleForWriting.close()
                issue.waitUntilExit()
                if issue.terminationStatus == 0 {
                    apiURL = url
                    serverNote = "aidee-sim (same build) on loopback; the person is not enrolled"
                    return
                }
            }
            usleep(100_000)
        }
    }

    func stopServer() {
        guard let simulator, simulator.isRunning else { return }
        simulator.terminate()
        simulator.waitUntilExit()
    }

    /// One kioskd run on `frames` (a folder, looped at 30 fps).
    final class Run {
        let process: Process
        let launchedAt: ContinuousClock.Instant
        /// Launch → `READY=1`, or nil when it never came.
        var ready: Duration?
        var probe: ProcessProbe { ProcessProbe(pid: "\(process.processIdentifier)") }

        init(process: Process, launchedAt: ContinuousClock.Instant) {
            self.process = process
            self.launchedAt = launchedAt
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    func launch(frames: URL, name: String, gate: Bool = true) throws -> Run {
        let state = directory.appendingPathComponent("state-\(name)")
        let yaml = """
            camera:
              source: replay
              replay:
                path: \(frames.path)
                fps: 30
                loop: true
            detection:
              model: \(model)
            pipeline:
              idle_gate: \(gate)
            door:
              backend: console
            api:
              url: \(apiURL)
              project_id: 1
              credentials_file: \(credentials.path)
            outbox:
              state_directory: \(state.path)
              key_file: \(directory.appendingPathComponent("outbox.key").path)
            status:
              file: \(directory.appendingPathComponent("status-\(name).json").path)

            """
        let config = directory.appendingPathComponent("kioskd-\(name).yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let socketPath = directory.appendingPathComponent("notify-\(name)").path
        let listener = try NotifyListener(path: socketPath)
        let process = Process()
        process.executableURL = kioskd
        process.arguments = ["--config", config.path, "--log-level", "error"]
        process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": socketPath], uniquingKeysWith: { $1 })
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        let run = Run(process: process, launchedAt: start)
        if listener.waitForReady(timeout: .seconds(30)) { run.ready = ContinuousClock.now - start }
        listener.close()
        return run
    }

    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}

/// The receiving end of `NOTIFY_SOCKET`, as systemd has it: a Unix datagram socket.
final class NotifyListener {
    let fd: Int32
    let path: String

    init(path: String) throws {
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        self.path = path
        guard fd >= 0 else { throw BenchError("cannot create the notify socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw BenchError("notify socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw BenchError("cannot bind the notify socket \(path): errno \(errno)") }
    }

    /// Waits for a datagram holding `READY=1`.
    func waitForReady(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 200) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0, String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").contains("READY=1") { return true }
        }
        return false
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
