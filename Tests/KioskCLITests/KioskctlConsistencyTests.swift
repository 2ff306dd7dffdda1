// One way of doing things across kioskctl: help, global options, exit classes, face files, passwords, state dir.
import ArgumentParser
import Foundation
import Outbox
import TestSupport
import Testing

@testable import Camera
@testable import DoorIO
@testable import FaceAiDee
@testable import KioskCLI
@testable import KioskCore

/// Every leaf command of the tree with its path, e.g. (["api", "faces", "get"], APIFacesCommand.Get.self).
func kioskctlLeaves() -> [(path: [String], command: any ParsableCommand.Type)] {
    func walk(_ command: any ParsableCommand.Type, _ path: [String]) -> [(path: [String], command: any ParsableCommand.Type)] {
        let subcommands = command.configuration.subcommands
        if subcommands.isEmpty { return [(path, command)] }
        return subcommands.flatMap { sub in walk(sub, path + [sub._commandName]) }
    }
    return walk(KioskControl.self, [])
}

@Suite("kioskctl consistency")
struct KioskctlConsistencyTests {
    @Test("every subcommand has help and offers --config, --json and --verbose")
    func helpAndGlobalOptions() throws {
        let leaves = kioskctlLeaves()
        #expect(leaves.count > 30)
        for (path, command) in leaves {
            let help = KioskControl.helpMessage(for: command, columns: 80)
            #expect(help.contains("USAGE: kioskctl \(path.joined(separator: " "))"), "\(path)")
            for option in ["--config <file>", "--json", "--verbose"] {
                #expect(help.contains(option), "`kioskctl \(path.joined(separator: " "))` lacks \(option)")
            }
            // A serial console is 80 columns: the usage line is the one ArgumentParser does not wrap.
            let usage = help.split(separator: "\n").first { $0.hasPrefix("USAGE: ") } ?? ""
            #expect(usage.count <= 80, "`kioskctl \(path.joined(separator: " "))`: a \(usage.count)-column usage line")
        }
    }

    @Test("exit classes: distinct values, usage is the parser's own, each documented in docs/KIOSKCTL.md")
    func exitClassesAreDocumentedOnce() throws {
        let values = KioskctlExit.allCases.map(\.rawValue)
        #expect(Set(values).count == values.count)
        #expect(KioskctlExit.usage.rawValue == ExitCode.validationFailure.rawValue)
        let doc = try String(
            contentsOf: TestAssets.repositoryRoot.appendingPathComponent("docs/KIOSKCTL.md"), encoding: .utf8)
        for exit in KioskctlExit.allCases {
            #expect(doc.contains("| \(exit.rawValue) | `\(exit.name)` |"), "docs/KIOSKCTL.md has no row for \(exit)")
        }
    }

    struct Classified: Sendable, CustomTestStringConvertible {
        var error: any Error & Sendable
        var exit: KioskctlExit
        var testDescription: String { "\(exit)" }
    }

    static let classified: [Classified] = [
        .init(error: ValidationError("bad"), exit: .usage),
        .init(error: CameraError.deviceCall(device: "/dev/video0", call: "VIDIOC_STREAMON", errno: EBUSY), exit: .temporary),
        .init(error: CameraError.deviceCall(device: "/dev/video0", call: "open", errno: ENOENT), exit: .failure),
        .init(error: CameraError.deviceCall(device: "/dev/video0", call: "open", errno: EACCES), exit: .permission),
        .init(
            error: DoorIOError.lineBusy(
                chip: "gpiochip0", line: GPIOLineDescription(role: "relay", selector: .offset(1), offset: 1, name: nil), consumer: "kioskd"),
            exit: .temporary),
        .init(error: OutboxError.databaseMissing(path: "/x/outbox.sqlite"), exit: .inputFile),
        .init(error: OutboxError.databaseCorrupt(path: "/x", movedTo: nil, reason: "bad"), exit: .dataError),
        .init(error: ConfigurationError(fileProblem: "bad file"), exit: .configuration),
        .init(error: FaceAiDeeError.http(operation: "x", status: 404, message: ""), exit: .notFound),
        .init(error: FaceAiDeeError.http(operation: "x", status: 401, message: ""), exit: .permission),
        .init(error: FaceAiDeeError.http(operation: "x", status: 503, message: ""), exit: .unavailable),
        .init(error: FaceAiDeeError.timeout(operation: "x", url: "http://127.0.0.1:1", seconds: 1), exit: .temporary),
        .init(error: CancellationError(), exit: .software),
    ]

    @Test("each kind of failure lands in its class", arguments: classified)
    func classification(_ c: Classified) {
        #expect(CommandFailure.classify(c.error).exit == c.exit, "\(c.error)")
    }

    @Test("the --json error object names class, kind, message and exit code")
    func jsonErrorShape() throws {
        let failure = CommandFailure(.temporary, "camera busy", kind: "busy")
        let error = try #require(failure.jsonObject["error"] as? [String: Any])
        #expect(error["class"] as? String == "temporary" && error["kind"] as? String == "busy")
        #expect(error["exit_code"] as? Int == 75 && error["message"] as? String == "camera busy")
    }

    @Test("--password-stdin: one line, its end removed; empty or several lines refused")
    func passwordFromStandardInput() throws {
        #expect(try PasswordInput.parse(Data("s3cret\n".utf8)) == "s3cret")
        #expect(try PasswordInput.parse(Data("s3cret\r\n".utf8)) == "s3cret")
        #expect(try PasswordInput.parse(Data("with space".utf8)) == "with space")
        for bad in ["", "\n", "a\nb\n"] {
            do {
                let parsed = try PasswordInput.parse(Data(bad.utf8))
                Issue.record("\(bad.debugDescription) gave \(parsed.debugDescription)")
            } catch {
                #expect(error.exit == .usage)
            }
        }
        #expect(throws: (any Error).self) {
            try KioskControl.parseAsRoot(["api", "key", "issue", "--username", "u", "--password", "pw"])
        }
    }

    @Test("face files: created 0600, never overwritten without --force, replaced 0600 with it, no symlink followed")
    func faceFiles() throws {
        let folder = try TestAssets.temporaryDirectory("kioskctl-facefile")
        defer { try? FileManager.default.removeItem(at: folder) }
        func mode(_ path: String) throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1 }
        let path = folder.appendingPathComponent("face.jpg").path
        try FaceFile.write([1, 2, 3], to: path, force: false)
        #expect(try mode(path) == 0o600)
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        #expect { try FaceFile.write([4], to: path, force: false) } throws: { error in
            (error as? CommandFailure)?.exit == .outputFile && "\(error)".contains("--force")
        }
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try FaceFile.write([4, 5], to: path, force: true)
        #expect(try mode(path) == 0o600)
        #expect(FileManager.default.contents(atPath: path) == Data([4, 5]))
        let link = folder.appendingPathComponent("link.jpg").path
        let target = folder.appendingPathComponent("elsewhere").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(throws: CommandFailure.self) { try FaceFile.write([6], to: link, force: false) }
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(throws: CommandFailure.self) { try FaceFile.write([6], to: folder.path + "/no/such/dir/x.jpg", force: false) }
    }
}

/// The built binary: state directory from the configuration, exit classes, face files, 80 columns.
@Suite(
    "kioskctl consistency (binary)",
    .enabled(if: KioskctlBinary.exists && TestAssets.available, "needs the built kioskctl and the assets"))
struct KioskctlBinaryConsistencyTests {
    /// A state directory with a real (empty) queue database, and a configuration naming it.
    static func withState<T>(_ body: (_ folder: URL, _ state: String, _ config: String) async throws -> T) async throws -> T {
        let folder = try TestAssets.temporaryDirectory("kioskctl-state")
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = folder.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let database = try await OutboxDatabase.open(OutboxConfiguration(stateDirectory: state))
        database.close()
        let config = folder.appendingPathComponent("kioskd.yaml").path
        try "outbox:\n  state_directory: \(state)\n".write(toFile: config, atomically: true, encoding: .utf8)
        return try await body(folder, state, config)
    }

    @Test("queue and events read outbox.state_directory from --config; --state-dir and KIOSK_STATE_DIRECTORY override it")
    func stateDirectoryFromConfiguration() async throws {
        try await Self.withState { folder, state, config in
            let status = try await KioskctlBinary.run(["queue", "status", "--config", config, "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.json["items"] as? Int == 0)
            let events = try await KioskctlBinary.run(["events", "--config", config, "--json"])
            #expect(events.status == 0, "\(events.stderr)")
            #expect(events.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || events.stdout.contains("[]"))
            let list = try await KioskctlBinary.run(["queue", "list", "--config", config])
            #expect(list.status == 0 && list.stdout.contains("queue empty"), "\(list.stderr)")

            let elsewhere = folder.appendingPathComponent("empty").path
            try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
            let overridden = try await KioskctlBinary.run(["queue", "status", "--config", config, "--state-dir", elsewhere, "--json"])
            #expect(overridden.status == 66, "no database there: \(overridden.stdout)")
            #expect((overridden.json["error"] as? [String: Any])?["class"] as? String == "input_file")
            let fromEnvironment = try await KioskctlBinary.run(
                ["queue", "status", "--config", config], environment: ["KIOSK_STATE_DIRECTORY": elsewhere])
            #expect(fromEnvironment.status == 66)
            #expect(fromEnvironment.stderr.contains(elsewhere))
            let verbose = try await KioskctlBinary.run(["queue", "status", "--config", config, "--verbose"])
            #expect(verbose.stderr.contains("state directory: \(state)"))
        }
    }

    @Test("status: no status file is 69 (kioskd not running), a damaged one 65; status.file from --config")
    func statusExitClasses() async throws {
        try await Self.withState { folder, _, _ in
            let statusFile = folder.appendingPathComponent("status.json").path
            let config = folder.appendingPathComponent("status.yaml").path
            try "status:\n  file: \(statusFile)\n".write(toFile: config, atomically: true, encoding: .utf8)
            let missing = try await KioskctlBinary.run(["status", "--config", config, "--json"])
            #expect(missing.status == 69 && missing.stderr.contains(statusFile), "\(missing.stderr)")
            #expect((missing.json["error"] as? [String: Any])?["exit_code"] as? Int == 69)
            try "not json".write(toFile: statusFile, atomically: true, encoding: .utf8)
            #expect(try await KioskctlBinary.run(["status", "--config", config]).status == 65)
        }
    }

    @Test("detect --annotate writes 0600, refuses to overwrite without --force; text fits 80 columns")
    func detectAnnotate() async throws {
        let folder = try TestAssets.temporaryDirectory("kioskctl-detect")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("annotated.jpg").path
        let image = TestAssets.faceImage("images/facerec/obama.jpg").path
        let arguments = ["detect", "--image", image, "--model", TestAssets.yunetModel.path, "--annotate", out]
        let first = try await KioskctlBinary.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o600)
        // The lines that name a file are as long as its path; every other line fits.
        for line in first.stdout.split(separator: "\n") where !line.contains(folder.path) && !line.contains(image) {
            #expect(line.count <= 80, "\(line)")
        }
        let again = try await KioskctlBinary.run(arguments)
        #expect(again.status == 73 && again.stderr.contains("--force"), "\(again.stderr)")
        #expect(try await KioskctlBinary.run(arguments + ["--force"]).status == 0)
    }

    @Test("camera snapshot refuses an existing file before it touches the camera")
    func snapshotRefusesExisting() async throws {
        let folder = try TestAssets.temporaryDirectory("kioskctl-snapshot")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("snap.jpg").path
        try Data([0]).write(to: URL(fileURLWithPath: out))
        let run = try await KioskctlBinary.run(["camera", "snapshot", "--device", "/dev/video-none", "--out", out, "--json"])
        #expect(run.status == 73, "\(run.stderr)")
        #expect((run.json["error"] as? [String: Any])?["class"] as? String == "output_file")
    }
}
