// `kioskctl doctor` on the host: each fault it claims to find (server, TLS, credentials, clock,
// queue, secret files), the report's 80-column text, JSON shape and exit statuses.
import AiDeeSimulator
import FaceAiDee
import Foundation
import KioskCore
import Outbox
import SimulatorTestSupport
import TestSupport
import Testing

@testable import KioskCLI

/// A folder with a configuration, credentials, an outbox key and a state directory, and a way
/// to run chosen groups of the doctor's checks on it (the same runner `kioskctl doctor` uses).
struct DoctorFixture {
    let folder: URL
    var config: String { folder.appendingPathComponent("kioskd.yaml").path }
    var credentials: String { folder.appendingPathComponent("credentials").path }
    var outboxKey: String { folder.appendingPathComponent("outbox.key").path }
    var state: String { folder.appendingPathComponent("state").path }
    /// This test's user as the service user: the files it makes are then correctly owned.
    var unit: InstalledUnit {
        let me = (try? FileManager.default.attributesOfItem(atPath: folder.path)[.ownerAccountName] as? String) ?? "root"
        return InstalledUnit(path: nil, user: me, credentials: [:])
    }

    static func make() throws -> DoctorFixture {
        let folder = try TestAssets.temporaryDirectory("kioskctl-doctor")
        let fixture = DoctorFixture(folder: folder)
        try FileManager.default.createDirectory(atPath: fixture.state, withIntermediateDirectories: true)
        try APICredentials(key: "00000000-0000-0000-0000-000000000000", secret: "not-a-real-secret-0").save(to: fixture.credentials)
        _ = FileManager.default.createFile(
            atPath: fixture.outboxKey, contents: Data((0..<32).map { UInt8($0 * 7 & 0xff) }), attributes: [.posixPermissions: 0o600])
        return fixture
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// Writes kioskd.yaml: the server at `url`, no camera, console door, this folder's files.
    func writeConfig(url: String, projectID: Int = 1, caFile: String? = nil, door: String? = nil, extra: String = "") throws {
        var text = """
            api:
              url: \(url)
              project_id: \(projectID)
              credentials_file: \(credentials)
              connect_timeout: 2s
              request_timeout: 3s

            """
        if let caFile { text += "  ca_file: \(caFile)\n" }
        text += """
            detection:
              model: \(TestAssets.yunetModel.path)
            \(door ?? "door:\n  backend: console")
            outbox:
              state_directory: \(state)
              key_file: \(outboxKey)

            """
        try (text + extra).write(toFile: config, atomically: true, encoding: .utf8)
    }

    func run(_ groups: Set<String>) async -> DoctorReport {
        await DoctorRunner.run(
            configFile: config, environment: [:], pulseRelay: false, unit: unit,
            groups: DoctorCheckGroup.all.filter { groups.contains($0.id) }, limitScale: Self.limitScale)
    }

    /// Group time limits stretched for a test machine running many suites at once (and the
    /// qemu guest): the limits themselves are not what these tests check.
    static let limitScale = 5.0
}

extension DoctorReport {
    func result(_ id: String) -> DoctorResult? { results.first { $0.id == id } }
    func status(_ id: String) -> DoctorStatus? { result(id)?.status }
}

/// A TCP port nothing listens on (bound once by the kernel, then released).
func doctorUnusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite("kioskctl doctor: report format and exit statuses")
struct DoctorReportTests {
    @Test func exitStatusIsZeroOneOrTwo() {
        let ok = DoctorResult.ok("a", "fine")
        let warn = DoctorResult.warning("b", "hmm", fix: "look")
        let bad = DoctorResult.failed("c", "broken", fix: "mend")
        #expect(DoctorReport(configFile: "x", results: [ok], elapsedMilliseconds: 1).exitCode == 0)
        #expect(DoctorReport(configFile: "x", results: [ok, warn], elapsedMilliseconds: 1).exitCode == 2)
        #expect(DoctorReport(configFile: "x", results: [ok, warn, bad], elapsedMilliseconds: 1).exitCode == 1)
    }

    @Test func textFitsEightyColumnsWithSymbolsAndFixes() {
        let long = String(repeating: "word ", count: 40) + "/a/very/long/path/" + String(repeating: "x", count: 120)
        let report = DoctorReport(
            configFile: "x",
            results: [
                .ok("config", "valid"), .warning("clock", long, fix: long),
                .failed("server.tls", "certificate refused", fix: "renew it"),
            ], elapsedMilliseconds: 1234)
        let lines = report.text().split(separator: "\n")
        for line in lines { #expect(line.count <= 80, "\(line)") }
        #expect(lines[0].hasPrefix("✓ config"))
        #expect(lines.contains { $0.hasPrefix("! clock") })
        #expect(lines.contains { $0.hasPrefix("✗ server.tls") })
        #expect(lines.contains { $0.contains("fix: renew it") })
        #expect(lines.last == "1 ok, 1 warning, 1 failed (1.2 s)")
        // Nothing is lost in the wrapping.
        let joined = lines.joined(separator: " ").split(separator: " ").joined()
        #expect(joined.contains(String(repeating: "x", count: 120)))
    }

    @Test func jsonListsEveryCheckWithIdStatusFindingFix() throws {
        let report = DoctorReport(
            configFile: "/etc/k.yaml", results: [.ok("config", "valid"), .failed("queue.integrity", "damaged", fix: "move it")],
            elapsedMilliseconds: 5)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(object["exit_code"] as? Int == 1)
        #expect(object["config"] as? String == "/etc/k.yaml")
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count == 2)
        for check in checks {
            #expect(Set(check.keys) == ["id", "status", "finding", "fix"])
        }
        #expect(checks[1]["status"] as? String == "failed")
        #expect((object["summary"] as? [String: Int]) == ["ok": 1, "warning": 0, "failed": 1])
    }

    @Test func unitFileGivesUserAndCredentials() {
        let unit = InstalledUnit.parse(
            "[Service]\nUser=kiosk\nLoadCredential=credentials:/etc/kiosk-agent/credentials\nLoadCredential=outbox.key:/etc/kiosk-agent/outbox.key\n",
            path: "/x")
        #expect(unit.user == "kiosk")
        #expect(unit.credentials == ["credentials": "/etc/kiosk-agent/credentials", "outbox.key": "/etc/kiosk-agent/outbox.key"])
    }
}

@Suite("kioskctl doctor: configuration, secret files and queue")
struct DoctorLocalTests {
    @Test func healthyFilesAndQueue() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try fixture.writeConfig(url: "http://127.0.0.1:9")
        // A real queue database, made as kioskd makes it.
        let database = try await OutboxDatabase.open(
            OutboxConfiguration(stateDirectory: fixture.state, key: .file(path: fixture.outboxKey, generateIfMissing: false)))
        database.close()
        let report = await fixture.run(["secrets", "queue"])
        #expect(report.status("config") == .ok, "\(report.text())")
        #expect(report.status("credentials") == .ok, "\(report.text())")
        #expect(report.status("outbox.key") == .ok, "\(report.text())")
        #expect(report.status("queue.integrity") == .ok, "\(report.text())")
        #expect(report.result("queue.depth")?.finding.hasPrefix("0 waiting") == true, "\(report.text())")
        #expect(report.status("queue.space") != .failed)
        // A second user next to kioskd opens the queue without the payload key, and never makes
        // one (as root, a new key file in the state directory would lock kioskd out of it).
        #expect(!FileManager.default.fileExists(atPath: fixture.state + "/outbox.key"))
    }

    @Test func invalidConfigurationSaysWhatCheckConfigSays() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try fixture.writeConfig(url: "http://127.0.0.1:9", extra: "camera:\n  fps: many\n")
        let report = await fixture.run(["secrets"])
        let config = try #require(report.result("config"))
        #expect(config.status == .failed)
        #expect(config.finding.contains("camera.fps"), "\(config.finding)")
        #expect(report.exitCode == 1)
    }

    @Test func secretFilesReadableByOthersFail() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try fixture.writeConfig(url: "http://127.0.0.1:9")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.outboxKey)
        var report = await fixture.run(["secrets"])
        let key = try #require(report.result("outbox.key"))
        #expect(key.status == .failed)
        #expect(key.finding.contains("0644") && key.fix.contains("chmod 600"), "\(key)")
        // Owned by someone else than the service user.
        var other = fixture.unit
        other.user = "kiosk-doctor-nobody"
        report = await DoctorRunner.run(
            configFile: fixture.config, environment: [:], pulseRelay: false, unit: other,
            groups: DoctorCheckGroup.all.filter { $0.id == "secrets" }, limitScale: DoctorFixture.limitScale)
        let credentials = try #require(report.result("credentials"))
        #expect(credentials.status == .failed && credentials.fix.contains("chown kiosk-doctor-nobody"), "\(credentials)")
    }

    @Test func kioskdReportingTheQueueUnavailableFails() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        let statusFile = fixture.folder.appendingPathComponent("status.json").path
        try fixture.writeConfig(url: "http://127.0.0.1:9", extra: "status:\n  file: \(statusFile)\n")
        let database = try await OutboxDatabase.open(
            OutboxConfiguration(stateDirectory: fixture.state, key: .file(path: fixture.outboxKey, generateIfMissing: false)))
        database.close()
        var snapshot = StatusSnapshot()
        snapshot.queue.available = false
        snapshot.queue.unavailableReason = "state directory is read-only"
        try snapshot.jsonData().write(to: URL(fileURLWithPath: statusFile))
        let report = await fixture.run(["queue"])
        let state = try #require(report.result("queue.state"))
        #expect(state.status == .failed && state.finding.contains("read-only"), "\(report.text())")
        #expect(report.status("queue.integrity") == .ok)
    }

    @Test func aCorruptQueueFails() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try fixture.writeConfig(url: "http://127.0.0.1:9")
        let path = OutboxConfiguration(stateDirectory: fixture.state, key: OutboxKeySource.none).databasePath
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let report = await fixture.run(["queue"])
        let integrity = try #require(report.result("queue.integrity"))
        #expect(integrity.status == .failed, "\(report.text())")
        #expect(report.exitCode == 1)
        // The doctor changes nothing: the damaged file is still there, not moved aside.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x5A, count: 8192))
    }

    @Test func theBinaryPrintsJSONAndExitsOneOnAFailure() async throws {
        let kioskctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kioskctl").path
        try #require(FileManager.default.isExecutableFile(atPath: kioskctl), "needs the built kioskctl")
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        // No camera at this path: at least one failure.
        try fixture.writeConfig(url: "http://127.0.0.1:9", extra: "camera:\n  device: /dev/video-doctor-test\n")
        let unitFile = fixture.folder.appendingPathComponent("kioskd.service").path
        try "[Service]\nUser=\(fixture.unit.user)\n".write(toFile: unitFile, atomically: true, encoding: .utf8)
        let run = try await runProcess(
            kioskctl, ["doctor", "--config", fixture.config, "--json", "--unit-file", unitFile], environment: [:])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let checks = try #require(run.json["checks"] as? [[String: Any]])
        #expect(checks.count > 10)
        for check in checks { #expect(Set(check.keys) == ["id", "status", "finding", "fix"]) }
        #expect(checks.contains { $0["id"] as? String == "camera.open" && $0["status"] as? String == "failed" })
        #expect(run.json["exit_code"] as? Int == 1)
        // The text form: 80 columns.
        let text = try await runProcess(kioskctl, ["doctor", "--config", fixture.config, "--unit-file", unitFile], environment: [:])
        #expect(text.status == 1)
        for line in text.stdout.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
    }

    @Test func withoutSystemdOrUnitItWarnsAndDoesNotCrash() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try fixture.writeConfig(url: "http://127.0.0.1:9")
        let report = await fixture.run(["systemd"])
        let systemd = try #require(report.results.first { $0.id.hasPrefix("systemd") })
        // A build host has no kioskd unit (or no systemd at all): never a crash, never "ok" for a missing unit.
        #expect(report.results.allSatisfy { $0.id == "config" || $0.id.hasPrefix("systemd") })
        #expect(systemd.status != .ok || report.results.contains { $0.id == "systemd.unit" })
    }
}

@Suite("kioskctl doctor: the server (aidee-sim and TLS test servers on loopback)", .serialized)
struct DoctorServerTests {
    static func credentials(_ sim: AiDeeSimulatorServer, into fixture: DoctorFixture) async throws {
        let (key, secret) = try await sim.issueCredentials(username: "kiosk", password: "pw")
        try APICredentials(key: key, secret: secret).save(to: fixture.credentials)
    }

    @Test func healthyServer() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try await withSimulator(.threeAccountSite()) { sim in
            try await Self.credentials(sim, into: fixture)
            try fixture.writeConfig(url: "http://127.0.0.1:\(sim.port)")
            let report = await fixture.run(["server"])
            for id in ["config", "server.dns", "server.tcp", "server.tls", "server.http", "clock", "server.token", "server.project"] {
                #expect(report.status(id) == .ok, "\(id): \(report.text())")
            }
            #expect(report.exitCode == 0)
            // The doctor's token is revoked at the end: it leaves nothing behind on the server.
            for token in try await sim.store.allTokens() {
                #expect(try await sim.store.account(forToken: token) == nil)
            }
        }
    }

    @Test func wrongURLs() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try fixture.writeConfig(url: "http://127.0.0.1:\(try doctorUnusedPort())")
        var report = await fixture.run(["server"])
        #expect(report.status("server.dns") == .ok)
        #expect(report.status("server.tcp") == .failed, "\(report.text())")
        #expect(report.exitCode == 1)
        try await withSimulator(.threeAccountSite()) { sim in
            try await Self.credentials(sim, into: fixture)
            // A web server, but not the API under this path.
            try fixture.writeConfig(url: "http://127.0.0.1:\(sim.port)/elsewhere")
            report = await fixture.run(["server"])
            let http = try #require(report.result("server.http"))
            #expect(http.status == .failed && http.finding.contains("404"), "\(report.text())")
        }
    }

    @Test func refusedCredentialsAndForeignProject() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try await withSimulator(.threeAccountSite()) { sim in
            // The fixture's made-up key: the server refuses it.
            try fixture.writeConfig(url: "http://127.0.0.1:\(sim.port)")
            var report = await fixture.run(["server"])
            let token = try #require(report.result("server.token"))
            #expect(token.status == .failed, "\(report.text())")
            #expect(token.fix.contains("kioskctl api key issue"), "\(token)")
            #expect(report.status("server.http") == .ok)
            // A key that works, for a project the account is not in.
            try await Self.credentials(sim, into: fixture)
            try fixture.writeConfig(url: "http://127.0.0.1:\(sim.port)", projectID: 2)
            report = await fixture.run(["server"])
            #expect(report.status("server.token") == .ok)
            let project = try #require(report.result("server.project"))
            #expect(project.status == .failed && project.finding.contains("project 2"), "\(report.text())")
        }
    }

    @Test func simulatorDateOffsetRuleParses() throws {
        let rule = try FaultRule(argument: "*:date-offset=-90")
        #expect(rule.kind == .dateOffset(seconds: -90))
        let json = try JSONEncoder().encode(rule)
        #expect(try JSONDecoder().decode(FaultRule.self, from: json) == rule)
        #expect(String(decoding: json, as: UTF8.self).contains("\"date_offset_s\":-90"))
        #expect(throws: FaultRuleError.self) { try FaultRule(argument: "*:date-offset=999999999") }
    }

    @Test func skewedClockIsAWarning() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        let shifted = SimulatorConfiguration.threeAccountSite(faults: [FaultRule(operation: "*", kind: .dateOffset(seconds: 3600))])
        try await withSimulator(shifted) { sim in
            try await Self.credentials(sim, into: fixture)
            try fixture.writeConfig(url: "http://127.0.0.1:\(sim.port)")
            let report = await fixture.run(["server"])
            let clock = try #require(report.result("clock"))
            #expect(clock.status == .warning, "\(report.text())")
            #expect(clock.finding.contains("-3600 s") || clock.finding.contains("-3599 s"), "\(clock.finding)")
            #expect(clock.fix.contains("timedatectl"))
            #expect(report.exitCode == 2, "only warnings: \(report.text())")
        }
        // Within the tolerance: fine.
        let slight = SimulatorConfiguration.threeAccountSite(faults: [FaultRule(operation: "*", kind: .dateOffset(seconds: 10))])
        try await withSimulator(slight) { sim in
            try await Self.credentials(sim, into: fixture)
            try fixture.writeConfig(url: "http://127.0.0.1:\(sim.port)")
            #expect(await fixture.run(["server"]).status("clock") == .ok)
        }
    }

    @Test(arguments: [
        (TestCertificates.Leaf.expired, "EXPIRED"),
        (.wrongHost, "does NOT name 127.0.0.1"),
        (.selfSigned, "subject"),
    ])
    func badCertificates(leaf: TestCertificates.Leaf, described: String) async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await OpenSSLTestServer.start(
            certificate: certificates.certificate(leaf), key: certificates.key(leaf), port: try doctorUnusedPort())
        defer { server.stop() }
        try fixture.writeConfig(url: server.url, caFile: certificates.caFile)
        let report = await fixture.run(["server"])
        #expect(report.status("server.tcp") == .ok, "\(report.text())")
        let tls = try #require(report.result("server.tls"))
        #expect(tls.status == .failed, "\(report.text())")
        #expect(tls.finding.contains(described), "\(tls.finding)")
        #expect(tls.finding.contains("issuer"), "\(tls.finding)")
        #expect(report.result("server.token") == nil, "nothing is sent to a server that failed TLS")
    }

    @Test func goodCertificateShowsSubjectIssuerAndExpiry() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await OpenSSLTestServer.start(
            certificate: certificates.certificate(.good), key: certificates.key(.good), port: try doctorUnusedPort())
        defer { server.stop() }
        try fixture.writeConfig(url: server.url, caFile: certificates.caFile)
        let report = await fixture.run(["server"])
        let tls = try #require(report.result("server.tls"))
        // The test CA's leaf lives two days: trusted, but flagged as expiring soon.
        #expect(tls.status == .warning, "\(report.text())")
        #expect(tls.finding.contains("trusted") && tls.finding.contains("kiosk-agent test CA"), "\(tls.finding)")
        #expect(tls.finding.contains("expires in 1 days") || tls.finding.contains("expires in 2 days"), "\(tls.finding)")
        #expect(tls.finding.contains("names 127.0.0.1"), "\(tls.finding)")
    }
}
