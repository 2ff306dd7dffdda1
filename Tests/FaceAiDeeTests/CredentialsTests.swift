import FaceAiDee
import Foundation
import Testing
import TestSupport

@Suite("API credentials file")
struct CredentialsTests {
    @Test func parsesKeyValueLines() throws {
        let credentials = try APICredentials.parse("# comment\nkey=00000000-0000-0000-0000-000000000000\nsecret = 6E686506B4B2516CDFBC\n")
        #expect(credentials.key == "00000000-0000-0000-0000-000000000000")
        #expect(credentials.secret == "6E686506B4B2516CDFBC")
    }

    @Test func parsesYAMLWithQuotes() throws {
        let credentials = try APICredentials.parse("---\nkey: \"abc\"\nsecret: 'S3CRET'\nnote: ignored\n")
        #expect(credentials == APICredentials(key: "abc", secret: "S3CRET"))
    }

    @Test func missingEntriesAreNamed() {
        #expect(throws: FaceAiDeeError.credentials(path: "<text>", problem: "no `secret` entry")) {
            try APICredentials.parse("key=abc\n")
        }
        #expect(throws: FaceAiDeeError.self) { try APICredentials.parse("just words\n") }
    }

    @Test func descriptionNeverShowsTheSecret() {
        let credentials = APICredentials(key: "abc", secret: "TOPSECRET")
        #expect(!credentials.description.contains("TOPSECRET"))
        #expect(!"\(credentials)".contains("TOPSECRET"))
        #expect(credentials.description.contains("abc"))
    }

    @Test func saveWritesMode0600AndLoadReadsItBack() throws {
        let folder = try TestAssets.temporaryDirectory("creds")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("api.credentials").path
        let credentials = APICredentials(key: "k-1", secret: "s-1")
        try credentials.save(to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try APICredentials.load(from: path) == credentials)
        // Saving again replaces the file.
        try APICredentials(key: "k-2", secret: "s-2").save(to: path)
        #expect(try APICredentials.load(from: path).key == "k-2")
    }

    @Test func looserModesAreRefusedWithTheFix() throws {
        let folder = try TestAssets.temporaryDirectory("creds")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("api.credentials").path
        try APICredentials(key: "k", secret: "s").save(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        do {
            _ = try APICredentials.load(from: path)
            Issue.record("a world-readable credentials file was accepted")
        } catch {
            #expect(error.description.contains("chmod 600"))
            #expect(error.disposition == .final)
        }
    }

    @Test func missingFileSaysHowToCreateIt() {
        do {
            _ = try APICredentials.load(from: "/nonexistent/api.credentials")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains("kioskctl api key issue"))
        }
    }
}

@Suite("Error classification")
struct ErrorClassificationTests {
    @Test(arguments: [
        (FaceAiDeeError.network(operation: "checkIn", url: "u", message: "refused"), FaceAiDeeError.Disposition.retryable),
        (.timeout(operation: "checkIn", url: "u", seconds: 1), .retryable),
        (.tls(operation: "checkIn", url: "u", message: "bad cert"), .retryable),
        (.http(operation: "checkIn", status: 500, message: "boom"), .retryable),
        (.http(operation: "checkIn", status: 503, message: "busy"), .retryable),
        (.http(operation: "checkIn", status: 429, message: "slow down"), .retryable),
        (.http(operation: "checkIn", status: 401, message: "expired"), .authentication),
        (.http(operation: "checkIn", status: 400, message: "bad"), .final),
        (.http(operation: "checkIn", status: 403, message: "forbidden"), .final),
        (.http(operation: "checkIn", status: 404, message: "no match"), .final),
        (.http(operation: "checkIn", status: 409, message: "condition"), .final),
        (.undecodableBody(operation: "checkIn", status: 200, detail: "html"), .retryable),
        (.configuration("bad url"), .final),
    ])
    func disposition(_ error: FaceAiDeeError, _ expected: FaceAiDeeError.Disposition) {
        #expect(error.disposition == expected)
    }

    @Test func messagesNameTheOperationAndTheNextStep() {
        let error = FaceAiDeeError.http(operation: "checkIn", status: 401, message: "token expired")
        #expect(error.description.contains("checkIn"))
        #expect(error.description.contains("token expired"))
        #expect(error.description.contains("API key"))
        let network = FaceAiDeeError.network(operation: "listProjects", url: "http://x", message: "Connection refused")
        #expect(network.description.contains("http://x"))
        #expect(network.description.contains("Connection refused"))
    }
}
