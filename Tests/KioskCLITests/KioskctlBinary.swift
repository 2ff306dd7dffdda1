// The built kioskctl as the tests run it: its path, and a run with a clean KIOSK_* environment.
import Foundation
import TestSupport

/// The built `kioskctl` next to the test bundle (`swift build --build-tests` builds both).
enum KioskctlBinary {
    static let path: String = URL(fileURLWithPath: CommandLine.arguments[0])
        .deletingLastPathComponent().appendingPathComponent("kioskctl").path

    static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Runs `kioskctl ARGS` with no inherited KIOSK_* variables (except the assets folder), so
    /// the machine's own settings cannot leak in.
    static func run(_ arguments: [String], environment extra: [String: String] = [:], standardInput: String = "") async throws
        -> APICommandTests.Run
    {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KIOSK_") || $0.key == "KIOSK_ASSETS" }
        for (key, value) in extra { environment[key] = value }
        return try await runProcess(path, arguments, environment: environment, standardInput: standardInput)
    }
}
