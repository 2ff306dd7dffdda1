// The password prompt on a real pseudo-terminal: echo off while asking, back on however it ends.
import Foundation
import TestSupport
import Testing

@Suite struct PasswordPromptTests {
    /// A kernel pseudo-terminal pair: kioskctl reads from the follower side as from a console;
    /// the test reads what it prints on the leader side and checks the follower's settings.
    final class PseudoTerminal {
        let leader: Int32
        let follower: Int32

        init() throws {
            // posix_openpt and friends are hidden from Swift's Glibc module; /dev/ptmx with the
            // two ioctls behind them (unlock, number) is the same kernel call path.
            leader = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            guard leader >= 0, ioctl(leader, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0,
                ioctl(leader, 0x8004_5430 /* TIOCGPTN */, &number) == 0
            else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            follower = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
            guard follower >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            _ = fcntl(leader, F_SETFL, fcntl(leader, F_GETFL) | O_NONBLOCK)
        }

        deinit {
            close(follower)
            close(leader)
        }

        var echoes: Bool {
            var settings = termios()
            return tcgetattr(follower, &settings) == 0 && settings.c_lflag & tcflag_t(ECHO) != 0
        }

        /// What kioskctl has written so far (the leader side is non-blocking).
        func drain(into output: inout String) {
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = read(leader, &buffer, buffer.count)
                guard count > 0 else { return }
                output += String(decoding: buffer[0..<count], as: UTF8.self)
            }
        }
    }

    /// Starts `kioskctl api key issue` on the terminal and waits until it asks with echo off.
    private func promptOn(_ terminal: PseudoTerminal) async throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KioskctlBinary.path)
        process.arguments = ["api", "key", "issue", "--username", "kiosk"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KIOSK_") }
        // Nothing is sent before the password is in; a loopback port nobody listens on anyway.
        environment["KIOSK_API_URL"] = "http://127.0.0.1:9"
        process.environment = environment
        let console = FileHandle(fileDescriptor: terminal.follower, closeOnDealloc: false)
        process.standardInput = console
        process.standardError = console
        process.standardOutput = console
        try process.run()
        var output = ""
        let asked = await waitUntil(.seconds(30)) {
            terminal.drain(into: &output)
            return output.contains("Password:") && !terminal.echoes
        }
        #expect(asked, "kioskctl did not ask with echo off; it printed: \(output)")
        return process
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalAtThePromptGivesTheTerminalItsEchoBack(signal: Int32) async throws {
        try #require(KioskctlBinary.exists, "build kioskctl first: swift build --build-tests")
        let terminal = try PseudoTerminal()
        #expect(terminal.echoes)
        let process = try await promptOn(terminal)
        kill(process.processIdentifier, signal)
        #expect(await waitUntil(.seconds(30)) { !process.isRunning })
        // The signal still ends the process the way it would have (the shell sees 128+N).
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        #expect(terminal.echoes, "the terminal was left without echo after signal \(signal)")
    }

    @Test func anAnsweredPromptGivesTheTerminalItsEchoBack() async throws {
        try #require(KioskctlBinary.exists, "build kioskctl first: swift build --build-tests")
        let terminal = try PseudoTerminal()
        let process = try await promptOn(terminal)
        _ = "pw\n".utf8CString.withUnsafeBufferPointer { write(terminal.leader, $0.baseAddress, 3) }
        #expect(await waitUntil(.seconds(30)) { !process.isRunning })
        // Nothing listens on port 9: the network exit code, after the prompt is done.
        #expect(process.terminationStatus == 75)
        #expect(terminal.echoes)
    }
}
