// kioskctl api as a user runs it: the built binary against aidee-sim, checking output, --json and exit codes.
import AiDeeSimulator
import Foundation
import SimulatorTestSupport
import TestSupport
import Testing

/// The built `kioskctl` next to the test bundle (`swift build --build-tests` builds both).
private let kioskctlPath: String = URL(fileURLWithPath: CommandLine.arguments[0])
    .deletingLastPathComponent().appendingPathComponent("kioskctl").path

private let canRun =
    FileManager.default.isExecutableFile(atPath: kioskctlPath)
    && FileManager.default.fileExists(atPath: TestAssets.faceDescriptorModel.path)

/// `kioskctl api` as a user runs it: the real binary, against aidee-sim on loopback, checking
/// output, `--json` and exit statuses.
@Suite("kioskctl api", .enabled(if: canRun, "needs the built kioskctl and the models (swift build --build-tests; scripts/fetch-assets.sh)"))
struct APICommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// A simulator, a folder with a config file and credentials, and a way to run kioskctl.
    final class Fixture: Sendable {
        let sim: AiDeeSimulatorServer
        let folder: URL
        var url: String { "http://127.0.0.1:\(sim.port)" }
        var credentials: String { folder.appendingPathComponent("credentials").path }
        var config: String { folder.appendingPathComponent("kioskd.yaml").path }

        init(sim: AiDeeSimulatorServer, folder: URL) {
            self.sim = sim
            self.folder = folder
        }

        /// Runs `body` with a fresh simulator and folder; both are gone at the end.
        static func with<T>(_ body: (Fixture) async throws -> T) async throws -> T {
            try await withSimulator(.threeAccountSite()) { sim in
                let folder = try TestAssets.temporaryDirectory("kioskctl-api")
                defer { try? FileManager.default.removeItem(at: folder) }
                // The config-file layer: only the project comes from here.
                try "api:\n  project_id: 1\n".write(
                    toFile: folder.appendingPathComponent("kioskd.yaml").path, atomically: true, encoding: .utf8)
                return try await body(Fixture(sim: sim, folder: folder))
            }
        }

        /// Runs `kioskctl api ARGS` with the server URL and credentials in the environment.
        func api(_ arguments: [String], environment extra: [String: String] = [:], standardInput: String = "pw\n") async throws -> Run {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KIOSK_") || $0.key == "KIOSK_ASSETS" }
            environment["KIOSK_API_URL"] = url
            environment["KIOSK_CREDENTIALS"] = credentials
            for (key, value) in extra { environment[key] = value }
            // The account password arrives on stdin (--password-stdin); other commands ignore it.
            return try await runProcess(kioskctlPath, ["api"] + arguments, environment: environment, standardInput: standardInput)
        }
    }

    @Test func keyIssueSavesMode0600AndHidesTheSecret() async throws {
        try await Fixture.with { fixture in
            let run = try await fixture.api(["key", "issue", "--username", "kiosk", "--password-stdin", "--save", fixture.credentials])
            #expect(run.status == 0, "\(run.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: fixture.credentials)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let saved = try String(contentsOfFile: fixture.credentials, encoding: .utf8)
            let secret = try #require(saved.split(separator: "\n").first { $0.hasPrefix("secret=") }?.dropFirst(7))
            #expect(!run.stdout.contains(secret))

            let json = try await fixture.api(["key", "issue", "--username", "kiosk", "--password-stdin", "--json", "--show-secret"])
            #expect(json.status == 0)
            #expect((json.json["secret"] as? String)?.count == 20)
            #expect(json.json["key"] is String)

            let refused = try await fixture.api(["key", "issue", "--username", "viewer", "--password-stdin", "--json"])
            #expect(refused.status == 77)
            let error = try #require(refused.json["error"] as? [String: Any])
            #expect(error["status"] as? Int == 403 && error["kind"] as? String == "auth" && error["exit_code"] as? Int == 77)
            #expect(
                try await fixture.api(["key", "issue", "--username", "kiosk", "--password-stdin"], standardInput: "bad\n").status == 77)
            // A password on the command line is refused before anything is sent, and says what to use.
            let onArgv = try await fixture.api(["key", "issue", "--username", "kiosk", "--password", "pw"])
            #expect(onArgv.status == 64 && onArgv.stderr.contains("--password-stdin"), "\(onArgv.stderr)")
            // Not on a terminal and no --password-stdin: a usage error, not a hang.
            #expect(try await fixture.api(["key", "issue", "--username", "kiosk"]).status == 64)
        }
    }

    @Test func tokensProjectsAndUsersWithExitCodes() async throws {
        try await Fixture.with { fixture in
            #expect(
                try await fixture.api(["key", "issue", "--username", "kiosk", "--password-stdin", "--save", fixture.credentials]).status
                    == 0)

            let token = try await fixture.api(["token", "issue", "--json"])
            #expect(token.status == 0)
            #expect((token.json["expire"] as? String)?.contains(".") == true)
            #expect(try await fixture.api(["token", "renew"]).status == 0)
            #expect(try await fixture.api(["token", "revoke"]).status == 0)

            let projects = try await fixture.api(["projects", "--json"])
            #expect(projects.status == 0)
            #expect((projects.json["projects"] as? [[String: Any]])?.map { $0["id"] as? Int } == [1])

            // No project anywhere: usage. From the config file: fine.
            #expect(try await fixture.api(["users", "create"]).status == 64)
            let created = try await fixture.api([
                "users", "create", "--config", fixture.config, "--group-id", "2", "--property", "site=seoul", "--json",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let userID = try #require(created.json["id"] as? Int)
            #expect(
                try await fixture.api(
                    ["users", "update", "--user", "\(userID)", "--group-id", "3"], environment: ["KIOSK_PROJECT_ID": "1"]
                )
                .status == 0)
            #expect(try await fixture.api(["users", "update", "--project", "1", "--user", "999", "--group-id", "3"]).status == 3)
            #expect(try await fixture.api(["users", "delete", "--project", "2", "--user", "\(userID)"]).status == 77)
            #expect(try await fixture.api(["users", "delete", "--project", "1", "--user", "\(userID)"]).status == 0)
            #expect(try await fixture.api(["users", "create", "--project", "1", "--property", "novalue"]).status == 64)
            #expect(try await fixture.api(["users", "create", "--project", "1", "--bogus"]).status == 64)
        }
    }

    @Test func facesAndRecognition() async throws {
        try await Fixture.with { fixture in
            #expect(
                try await fixture.api(["key", "issue", "--username", "kiosk", "--password-stdin", "--save", fixture.credentials]).status
                    == 0)
            let env = ["KIOSK_PROJECT_ID": "1"]
            let user = try #require(
                try await fixture.api(["users", "create", "--group-id", "1", "--json"], environment: env).json["id"] as? Int)
            let obama = TestAssets.faceImage("images/facerec/obama.jpg").path
            let added = try await fixture.api(
                ["faces", "add", "--user", "\(user)", "--image", obama, "--save-image", "--json"], environment: env)
            #expect(added.status == 0, "\(added.stderr)")
            let face = try #require(added.json["id"] as? Int)
            let listed = try await fixture.api(["faces", "list", "--user", "\(user)", "--json"], environment: env)
            #expect((listed.json["faces"] as? [[String: Any]])?.first?["has_image"] as? Bool == true)
            let out = fixture.folder.appendingPathComponent("back.jpg").path
            #expect(
                try await fixture.api(["faces", "get", "--user", "\(user)", "--face", "\(face)", "--out", out], environment: env).status
                    == 0)
            #expect(FileManager.default.contentsEqual(atPath: out, andPath: obama))

            let checkIn = try await fixture.api(
                ["check-in", "--image", TestAssets.faceImage("images/facerec/obama2.jpg").path, "--json", "--option", "2"], environment: env
            )
            #expect(checkIn.status == 0, "\(checkIn.stderr)")
            #expect(checkIn.json["user_id"] as? Int == user && checkIn.json["status"] as? String == "APPROVED")
            let excluded = try await fixture.api(
                ["check-in", "--image", TestAssets.faceImage("images/facerec/obama2.jpg").path, "--condition", #"{"group_id": 9}"#],
                environment: env)
            #expect(excluded.status == 4)
            let stranger = try await fixture.api(
                ["check-in", "--image", TestAssets.faceImage("images/facerec/biden.jpg").path, "--json"], environment: env)
            #expect(stranger.status == 3)
            #expect((stranger.json["error"] as? [String: Any])?["kind"] as? String == "not_found")
            let search = try await fixture.api(
                ["search", "--image", TestAssets.faceImage("images/facerec/obama2.jpg").path, "--json"], environment: env)
            #expect(search.json["matched"] as? Bool == true)

            #expect(
                try await fixture.api(
                    ["faces", "add", "--user", "\(user)", "--image", TestAssets.faceImage("images/ocvdoc/fruits.jpg").path],
                    environment: env
                ).status == 4)
            #expect(try await fixture.api(["check-in", "--image", "/nonexistent.jpg"], environment: env).status == 66)
            #expect(try await fixture.api(["check-in", "--image", obama, "--condition", "{bad"], environment: env).status == 64)
            #expect(try await fixture.api(["check-in", "--image", obama, "--option", "9"], environment: env).status == 5)
            #expect(
                try await fixture.api(["faces", "update", "--user", "\(user)", "--face", "\(face)", "--image", obama], environment: env)
                    .status
                    == 0)
            #expect(try await fixture.api(["faces", "delete", "--user", "\(user)", "--face", "\(face)"], environment: env).status == 0)
            #expect(try await fixture.api(["faces", "delete", "--user", "\(user)", "--face", "\(face)"], environment: env).status == 3)
            #expect(try await fixture.api(["faces", "delete-all", "--user", "\(user)"], environment: env).status == 0)

            fixture.sim.faults.set([FaultRule(operation: "listProjects", kind: .status(500))])
            #expect(try await fixture.api(["projects"]).status == 69)
        }
    }

    @Test func configurationAndNetworkFailures() async throws {
        try await Fixture.with { fixture in
            // No credentials file yet: configuration.
            let missing = try await fixture.api(["projects", "--json"])
            #expect(missing.status == 78)
            #expect((missing.json["error"] as? [String: Any])?["kind"] as? String == "credentials")
            #expect(
                try await fixture.api(["key", "issue", "--username", "kiosk", "--password-stdin", "--save", fixture.credentials]).status
                    == 0)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.credentials)
            let open = try await fixture.api(["projects"])
            #expect(open.status == 78 && open.stderr.contains("chmod 600"))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: fixture.credentials)

            let refused = try await fixture.api(["projects", "--url", "http://127.0.0.1:1", "--json"])
            #expect(refused.status == 75)
            #expect((refused.json["error"] as? [String: Any])?["kind"] as? String == "network")
            #expect(try await fixture.api(["projects", "--url", "ftp://x"]).status == 78)
        }
    }
}

/// Runs a program to completion without blocking a cooperative thread (the termination handler
/// resumes the task), returning its status and output.
func runProcess(_ path: String, _ arguments: [String], environment: [String: String], standardInput: String = "") async throws
    -> APICommandTests.Run
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = environment
    let folder = try TestAssets.temporaryDirectory("kioskctl-out")
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
    let inURL = folder.appendingPathComponent("stdin")
    try standardInput.write(to: inURL, atomically: true, encoding: .utf8)
    let input = try FileHandle(forReadingFrom: inURL)
    process.standardInput = input
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    try out.close()
    try err.close()
    try input.close()
    return APICommandTests.Run(
        status: status,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}
