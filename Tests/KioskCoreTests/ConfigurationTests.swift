// Configuration loading: defaults, file/environment/flag overrides, bad values, cross-key rules, durations.
import Foundation
import TestSupport
import Testing

@testable import KioskCore

@Suite("Configuration loading")
struct ConfigurationTests {
    func write(_ yaml: String) throws -> String {
        let dir = try TestAssets.temporaryDirectory("kiosk-config")
        let path = dir.appendingPathComponent("kioskd.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults load with no file")
    func defaults() async throws {
        let config = try await ConfigurationLoader(file: nil).load()
        #expect(config == KioskConfiguration())
        #expect(config.policy.offline == .failSecure)
    }

    @Test("the file, then the environment, then flags, each overriding the one before")
    func layering() async throws {
        let path = try write(
            """
            api:
              url: https://faces.example.com
              project_id: 7
            pipeline:
              cooldown: 8s
              selection_window: 400ms
            policy:
              allowed_statuses: [APPROVED, VISITOR]
              schedule:
                - mon-fri 07:00-19:00
            """)
        let config = try await ConfigurationLoader(
            file: path,
            environment: ["KIOSK_API_PROJECT_ID": "9", "KIOSK_PIPELINE_COOLDOWN": "10s", "UNRELATED": "x"],
            overrides: ["pipeline.cooldown": "12s"]
        ).load()
        #expect(config.api.url == "https://faces.example.com")
        #expect(config.api.projectID == 9)
        #expect(config.pipeline.cooldown == .seconds(12))
        #expect(config.pipeline.selectionWindow == .milliseconds(400))
        #expect(config.policy.allowedStatuses == ["APPROVED", "VISITOR"])
        #expect(config.policy.schedule == ["mon-fri 07:00-19:00"])
    }

    @Test("every bad value is reported with its key and source, not replaced by a default")
    func badValues() async throws {
        let path = try write(
            """
            api:
              project_id: seven
            pipeline:
              cooldown: 5 parsecs
            policy:
              offline: maybe
              schedule: [ "someday 07:00-19:00" ]
            pipline:
              cooldown: 5s
            """)
        let error = await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader(file: path, environment: ["KIOSK_CAMERA_FPS": "fast"]).load()
        }
        let issues = try #require(error).issues
        let keys = Set(issues.map(\.key))
        #expect(keys == ["api.project_id", "pipeline.cooldown", "policy.offline", "policy.schedule", "pipline.cooldown", "camera.fps"])
        #expect(issues.first { $0.key == "camera.fps" }?.source == "environment KIOSK_CAMERA_FPS")
        #expect(issues.first { $0.key == "api.project_id" }?.source == path)
        #expect(issues.first { $0.key == "pipline.cooldown" }?.message.contains("did you mean 'pipeline.cooldown'") == true)
        #expect(issues.first { $0.key == "policy.offline" }?.message.contains("fail_secure") == true)
    }

    @Test("a missing file or broken YAML names the file")
    func fileProblems() async throws {
        let missing = await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader(file: "/nonexistent/kioskd.yaml").load()
        }
        #expect(missing?.fileProblem?.contains("/nonexistent/kioskd.yaml") == true)
        let path = try write("api: [unclosed\n")
        let broken = await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader(file: path).load()
        }
        #expect(broken?.fileProblem?.contains("not valid YAML") == true)
    }

    @Test("flags must be key=value and name known keys")
    func flags() async throws {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parseOverrides(["cooldown"]) }
        let parsed = try ConfigurationLoader.parseOverrides(["pipeline.cooldown=3s", "api.condition={\"a\":1}"])
        #expect(parsed["api.condition"] == "{\"a\":1}")
        let error = await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader(file: nil, overrides: ["pipeline.cooldwn": "3s"]).load()
        }
        #expect(error?.issues.first?.source == "flag --set")
    }

    @Test("cross-key rules: replay needs a path, condition must be a JSON object")
    func crossKeys() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader(file: nil, overrides: ["camera.source": "replay", "api.condition": "[1]"]).load()
        }
        #expect(Set(error?.issues.map(\.key) ?? []) == ["camera.replay.path", "api.condition"])
    }

    @Test("the shipped example files load cleanly")
    func shippedFiles() async throws {
        for name in ["kioskd.yaml", "demo.yaml"] {
            let path = TestAssets.repositoryRoot.appendingPathComponent("config/\(name)").path
            _ = try await ConfigurationLoader(file: path).load()
        }
    }

    @Test(
        "durations",
        arguments: [
            ("600ms", Duration.milliseconds(600)), ("3s", .seconds(3)), ("1.5s", .milliseconds(1500)),
            ("2", .seconds(2)), ("5m", .seconds(300)), ("7d", .seconds(604_800)),
        ])
    func durations(text: String, expected: Duration) {
        #expect(ConfigDuration.parse(text) == expected)
    }

    @Test("bad durations", arguments: ["", "fast", "-1s", "3 parsecs", "ms"])
    func badDurations(text: String) {
        #expect(ConfigDuration.parse(text) == nil)
    }
}
