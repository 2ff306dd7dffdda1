// `kioskctl report`: a bundle made from a state full of secrets and face images holds none of them; 0600, --force.
import AiDeeSimulator
import FaceAiDee
import Foundation
import KioskCore
import Outbox
import SimulatorTestSupport
import TestSupport
import Testing

@testable import KioskCLI

@Suite("kioskctl report", .serialized)
struct ReportTests {
    /// Unpacks a .tar.gz into a new folder and returns every regular file in it.
    static func unpack(_ archive: String) throws -> [URL] {
        let folder = try TestAssets.temporaryDirectory("kioskctl-report-unpacked")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-xzf", archive, "-C", folder.path]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        var files: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url) }
        }
        return files
    }

    @Test func theBundleHoldsNoImageTokenKeyOrSecret() async throws {
        let fixture = try DoctorFixture.make()
        defer { fixture.remove() }
        try await withSimulator(.threeAccountSite()) { sim in
            // The secrets of a real terminal: API key and secret, the outbox key, a token.
            let (key, secret) = try await sim.issueCredentials(username: "kiosk", password: "pw")
            try APICredentials(key: key, secret: secret).save(to: fixture.credentials)
            let outboxKey = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.outboxKey)))
            let token = try await sim.issueToken(username: "kiosk", password: "pw")
            try Data(token.utf8).write(to: URL(fileURLWithPath: fixture.state + "/token"))

            // Saved face images, a queue with journal events, a status file.
            let face = [UInt8](try Data(contentsOf: TestAssets.faceImage("images/facerec/obama.jpg")))
            let images = fixture.state + "/images"
            let keeper = ImageKeeper(directory: images, maxAge: .seconds(3600), maxCount: 10)
            _ = try keeper.keep(face, at: Date(), outcome: "granted")
            let database = try await OutboxDatabase.open(
                OutboxConfiguration(stateDirectory: fixture.state, key: .file(path: fixture.outboxKey, generateIfMissing: false)))
            try await EventJournal(database: database).record(.error(ErrorRecord(component: "test", message: "a journal line")))
            database.close()
            let status = fixture.state + "/status.json"
            try StatusSnapshot().jsonData().write(to: URL(fileURLWithPath: status))

            try fixture.writeConfig(
                url: "http://127.0.0.1:\(sim.port)",
                extra: """
                    status:
                      file: \(status)
                    privacy:
                      keep_images: true
                      keep_images_directory: \(images)

                    """)
            let environment = ["KIOSK_API_TOKEN": token, "KIOSK_API_PROJECT_ID": "1"]
            // The bundle's doctor run, with time limits stretched for a loaded test machine.
            let doctor = await DoctorRunner.run(
                configFile: fixture.config, environment: environment, pulseRelay: false, unit: fixture.unit,
                limitScale: DoctorFixture.limitScale)
            let files = await ReportBundle(configFile: fixture.config, environment: environment, unit: fixture.unit, doctor: doctor).files()
            let out = fixture.folder.appendingPathComponent("bundle.tar.gz").path
            try ReportBundle.write(files, to: out, force: false)

            let mode = try #require(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? NSNumber)
            #expect(mode.intValue == 0o600)
            #expect(!FileManager.default.fileExists(atPath: fixture.state + "/outbox.key"), "the bundle reads no payload key, makes none")

            let unpacked = try Self.unpack(out)
            let names = Set(unpacked.map(\.lastPathComponent))
            for expected in ["config.yaml", "doctor.json", "status.json", "events.json", "versions.txt", "system.txt", "unit-journal.txt"] {
                #expect(names.contains(expected), "\(expected) in \(names.sorted())")
            }
            // Every token the server ever issued, including the doctor's own.
            var tokens = try await sim.store.allTokens()
            tokens.append(token)
            #expect(tokens.count >= 2, "the doctor got a token too")
            let forbidden: [(String, [UInt8])] =
                [("API key", Array(key.utf8)), ("API secret", Array(secret.utf8)), ("outbox key", outboxKey)]
                + [("outbox key hex", Array(outboxKey.map { String(format: "%02x", $0) }.joined().utf8))]
                + [("outbox key base64", Array(Data(outboxKey).base64EncodedString().utf8))]
                + tokens.map { ("token", Array($0.utf8)) }
                + [("face image", Array(face[100..<164]))]
            for file in unpacked {
                let bytes = [UInt8](try Data(contentsOf: file))
                #expect(!bytes.starts(with: [0xFF, 0xD8, 0xFF]), "\(file.lastPathComponent) is a JPEG")
                #expect(!bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(file.lastPathComponent) is a PNG")
                for (what, needle) in forbidden {
                    #expect(!Self.contains(bytes, needle), "\(file.lastPathComponent) contains the \(what)")
                }
            }
            // The bundle is useful: the doctor ran against the server, the journal is there.
            let doctorJSON = try String(
                contentsOf: try #require(unpacked.first { $0.lastPathComponent == "doctor.json" }), encoding: .utf8)
            #expect(doctorJSON.contains("\"server.token\""))
            let events = try String(contentsOf: try #require(unpacked.first { $0.lastPathComponent == "events.json" }), encoding: .utf8)
            #expect(events.contains("a journal line"))
            let environmentText = try String(
                contentsOf: try #require(unpacked.first { $0.lastPathComponent == "environment.txt" }), encoding: .utf8)
            #expect(environmentText.contains("KIOSK_API_TOKEN=<redacted>"), "\(environmentText)")
            #expect(environmentText.contains("KIOSK_API_PROJECT_ID=1"))

            // Never overwritten without --force; with it, still 0600.
            #expect(throws: ReportError.self) { try ReportBundle.write(files, to: out, force: false) }
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: out)
            try ReportBundle.write(files, to: out, force: true)
            let again = try #require(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? NSNumber)
            #expect(again.intValue == 0o600)
        }
    }

    @Test func redactorRemovesSecretShapedValues() {
        var redactor = SecretRedactor()
        redactor.add("s3cr3t-value-123")
        let text = """
            api:
              url: https://door:hunter22@api.example.com
              password: "letmein99"
              credentials_file: /etc/kiosk-agent/credentials
              token_renew_margin: 60s
            KIOSK_API_SECRET=abcdefgh
            an error mentioning s3cr3t-value-123 in passing
            """
        let redacted = redactor.redact(text)
        #expect(!redacted.contains("hunter22"))
        #expect(!redacted.contains("letmein99"))
        #expect(!redacted.contains("abcdefgh"))
        #expect(!redacted.contains("s3cr3t-value-123"))
        #expect(redacted.contains("credentials_file: /etc/kiosk-agent/credentials"))
        #expect(redacted.contains("token_renew_margin: 60s"))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && Array(haystack[index..<index + needle.count]) == needle { return true }
            index += 1
        }
        return false
    }
}
