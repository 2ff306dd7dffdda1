// A check-in is never recorded twice beyond what its classification allows; TLS failures keep the door shut.
import AiDeeSimulator
import DoorIO
import FaceAiDee
import Foundation
import Logging
import Outbox
import SimulatorTestSupport
import TestSupport
import Testing

@testable import KioskCore

/// A check-in is never recorded twice except where the classification says it may be, and
/// then at most once more: counted on `aidee-sim`, through the real libcurl transport, the real
/// `FaceAiDeeGateway`, the real outbox drainer and the decision recorder on a real SQLite file.
@Suite(
    "Duplicate delivery: queue and live path against aidee-sim", .serialized,
    .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
struct DuplicateDeliveryTests {
    struct Site {
        let sim: AiDeeSimulatorServer
        let gateway: FaceAiDeeGateway
        let face: [UInt8]
        let directory: URL
        let database: OutboxDatabase
        var store: OutboxStore { OutboxStore(database: database) }
        var journal: EventJournal { EventJournal(database: database) }

        /// Runs `body` with a fresh site; the gateway, the simulator and the outbox are closed
        /// at the end.
        static func with<T>(_ body: (Site) async throws -> T) async throws -> T {
            let configuration = SimulatorConfiguration.forTests(
                accounts: [.init(username: "kiosk", password: "pw")], projects: [.init(id: 1, name: "Lobby")], faultSeed: 5)
            return try await withSimulator(configuration) { sim in
                let site = try await start(sim)
                do {
                    let result = try await body(site)
                    await site.stop()
                    return result
                } catch {
                    await site.stop()
                    throw error
                }
            }
        }

        private static func start(_ sim: AiDeeSimulatorServer) async throws -> Site {
            let face = try TestAssets.faceImageBytes("images/facerec/obama.jpg")
            let user = try await sim.createUser(projectID: 1, status: "APPROVED")
            _ = try await sim.enrollFace(projectID: 1, userID: user, image: face)
            let (key, secret) = try await sim.issueCredentials(username: "kiosk", password: "pw")
            var configuration = KioskConfiguration()
            configuration.api.url = "http://127.0.0.1:\(sim.port)"
            let client = try FaceAiDeeClient(
                configuration: configuration.apiClientConfiguration,
                credentials: APICredentials(key: key, secret: secret))
            let directory = try TestAssets.temporaryDirectory("kiosk-duplicates")
            let database = try await OutboxDatabase.open(
                OutboxConfiguration(
                    stateDirectory: directory.path, key: .file(path: directory.path + "/outbox.key", generateIfMissing: true)))
            return Site(
                sim: sim, gateway: FaceAiDeeGateway(client: client, projectID: 1, condition: CheckInCondition(), option: nil),
                face: face, directory: directory, database: database)
        }

        func drainer(_ policy: AmbiguousDeliveryPolicy) -> OutboxDrainer {
            OutboxDrainer(store: store, sender: gateway, configuration: DrainConfiguration(ambiguous: policy))
        }

        func recorder(_ policy: AmbiguousDeliveryPolicy) -> DecisionRecorder {
            DecisionRecorder(
                journal: journal, outbox: store, status: StatusBoard(),
                logger: Logger.quiet, ambiguous: policy)
        }

        func enqueue() async throws {
            try await store.enqueue(OutboxPayload(jpeg: face, conditionJSON: "", option: ""), capturedAt: Date())
        }

        func serverCheckIns() async throws -> Int { try await sim.checkIns(projectID: 1).count }

        func entries(_ kind: JournalKind) async throws -> [JournalEvent] {
            try await journal.entries(limit: 100, kinds: [kind]).map(\.event)
        }

        private func stop() async {
            await gateway.shutdown()
            database.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func anUnreadable200IsDeliveredOnceAndNeverPostedAgain() async throws {
        try await Site.with { site in
            try await site.enqueue()
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .malformedSuccess)])
            let drainer = site.drainer(.retry)
            guard case .delivered = await drainer.drainOnce() else {
                Issue.record("an unreadable 200 was not a delivery")
                return
            }
            #expect(await drainer.drainOnce() == .idle(nextDue: nil))
            #expect(try await site.serverCheckIns() == 1)
            let late = try await site.entries(.lateOutcome)
            guard case .lateOutcome(let record)? = late.first else {
                Issue.record("no late outcome journaled")
                return
            }
            #expect(record.delivered && record.status == 200)
            #expect(record.summary.contains("contract warning"))
            #expect(record.summary.contains(#"{"result":{"uid":"u-1""#), "\(record.summary)")
        }
    }

    @Test func noAnswerUnderRetryIsPostedExactlyOnceMore() async throws {
        try await Site.with { site in
            try await site.enqueue()
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .dropAfterProcessing)])
            let drainer = site.drainer(.retry)
            guard case .retryScheduled = await drainer.drainOnce() else {
                Issue.record("an unanswered post was not rescheduled under retry")
                return
            }
            #expect(try await site.serverCheckIns() == 1)
            let duplicates = try await site.entries(.possibleDuplicate)
            #expect(duplicates.count == 1)
            // The second post gets no answer either: dropped, never a third post.
            try await site.store.retry(id: nil)
            guard case .droppedUnanswered = await drainer.drainOnce() else {
                Issue.record("a second unanswered post was not dropped")
                return
            }
            #expect(try await site.serverCheckIns() == 2)
            #expect(await drainer.drainOnce() == .idle(nextDue: nil))
            let status = try await site.store.status()
            #expect(status.counters.ambiguous == 2 && status.counters.droppedAmbiguous == 1 && status.items == 0)
            let drops = try await site.entries(.drop)
            #expect(drops.contains { if case .drop(let r) = $0 { r.reason == .ambiguous } else { false } })
        }
    }

    @Test func noAnswerUnderRetryThenAnAnswerIsJournaledAsAPossibleDuplicate() async throws {
        try await Site.with { site in
            try await site.enqueue()
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .dropAfterProcessing)])
            let drainer = site.drainer(.retry)
            _ = await drainer.drainOnce()
            site.sim.faults.set([])
            try await site.store.retry(id: nil)
            guard case .delivered = await drainer.drainOnce() else {
                Issue.record("the second post was not delivered")
                return
            }
            // The documented duplicate: the server recorded the first post and the one more.
            #expect(try await site.serverCheckIns() == 2)
            guard case .lateOutcome(let record)? = try await site.entries(.lateOutcome).first else {
                Issue.record("no late outcome")
                return
            }
            #expect(record.summary.contains("possible duplicate"))
        }
    }

    @Test func noAnswerUnderGiveUpIsNeverPostedAgain() async throws {
        try await Site.with { site in
            try await site.enqueue()
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .dropAfterProcessing)])
            let drainer = site.drainer(.giveUp)
            guard case .droppedUnanswered = await drainer.drainOnce() else {
                Issue.record("an unanswered post was not dropped under give_up")
                return
            }
            site.sim.faults.set([])
            #expect(await drainer.drainOnce() == .idle(nextDue: nil))
            #expect(try await site.serverCheckIns() == 1)
            #expect(try await site.entries(.possibleDuplicate).isEmpty)
        }
    }

    @Test func aNetworkFailureBeforeSendingIsRetriedWithoutDuplicates() async throws {
        try await Site.with { site in
            try await site.enqueue()
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .status(503))])
            let drainer = site.drainer(.giveUp)
            for _ in 0..<3 {
                guard case .retryScheduled = await drainer.drainOnce() else {
                    Issue.record("a 503 was not retryable")
                    return
                }
                try await site.store.retry(id: nil)
            }
            site.sim.faults.set([])
            guard case .delivered = await drainer.drainOnce() else {
                Issue.record("not delivered after the server came back")
                return
            }
            #expect(try await site.serverCheckIns() == 1)
        }
    }

    /// The live door path: an unanswered check-in is queued (retry) or only journaled (give_up).
    @Test(arguments: [AmbiguousDeliveryPolicy.retry, .giveUp])
    func liveCheckInWithoutAnAnswer(_ policy: AmbiguousDeliveryPolicy) async throws {
        try await Site.with { site in
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .dropAfterProcessing)])
            let outcome = await site.gateway.checkIn(jpeg: site.face)
            guard case .unanswered = outcome else {
                Issue.record("expected unanswered, got \(outcome)")
                return
            }
            var settings = PolicySettings()
            settings.offline = .failOpen
            let decision = try DecisionPolicy(settings: settings).decide(outcome, at: Date())
            #expect(decision.reason == .grantedOffline && decision.queueForLater)
            await site.recorder(policy).record(
                decision, outcome: outcome, latencies: StageLatencies(), jpeg: site.face,
                conditionJSON: "", option: nil, keepImage: false)
            site.sim.faults.set([])
            let drainer = site.drainer(policy)
            while case .delivered = await drainer.drainOnce() {}
            let expected = policy == .retry ? 2 : 1
            #expect(try await site.serverCheckIns() == expected, "\(policy)")
            #expect(try await site.store.status().counters.ambiguous == 1)
            #expect(try await site.entries(.possibleDuplicate).count == (policy == .retry ? 1 : 0))
        }
    }

    /// The live door path: an unreadable 200 is a contract fault at the door, never queued.
    @Test func liveUnreadable200IsAFaultAndNotQueued() async throws {
        try await Site.with { site in
            site.sim.faults.set([FaultRule(operation: "checkIn", kind: .malformedSuccess)])
            let outcome = await site.gateway.checkIn(jpeg: site.face)
            let decision = try DecisionPolicy(settings: PolicySettings()).decide(outcome, at: Date())
            #expect(decision.reason == .unreadableAnswer && decision.fault && !decision.queueForLater && !decision.granted)
            #expect(decision.detail.contains("u-1"))
            #expect(try await site.serverCheckIns() == 1)
        }
    }
}

/// A TLS failure at the door is a fault, never "offline": fail-open does not open the door.
@Suite("TLS failure at the door (openssl s_server on loopback)", .serialized)
struct TLSDoorTests {
    @Test func aBadCertificateKeepsTheDoorShutUnderFailOpen() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await OpenSSLTestServer.start(
            certificate: certificates.certificate(.expired), key: certificates.key(.expired), port: try Self.freePort())
        defer { server.stop() }
        var configuration = KioskConfiguration()
        configuration.api.url = server.url
        configuration.api.caFile = certificates.caFile
        let client = try FaceAiDeeClient(
            configuration: configuration.apiClientConfiguration,
            credentials: APICredentials(key: "k", secret: "s"))
        let gateway = FaceAiDeeGateway(client: client, projectID: 1, condition: CheckInCondition(), option: nil)
        let outcome = await gateway.checkIn(jpeg: [0xFF, 0xD8, 0xFF, 0xD9])
        guard case .untrustedServer(let reason) = outcome else {
            Issue.record("expected untrustedServer, got \(outcome)")
            return
        }
        #expect(reason.contains("certificate has expired"), "\(reason)")
        var settings = PolicySettings()
        settings.offline = .failOpen
        let decision = try DecisionPolicy(settings: settings).decide(outcome, at: Date())
        #expect(!decision.granted && decision.reason == .untrustedServer && decision.fault)
        #expect(decision.detail.contains("certificate has expired"))
        #expect(CheckInPipeline.doorSignals(for: decision).contains(.fault))
    }

    @Test func insecureTransportIsNamed() {
        var c = KioskConfiguration()
        c.api.url = "http://127.0.0.1:8080"
        #expect(c.insecureTransportWarning == nil)
        c.api.url = "http://api.example.com"
        #expect(c.insecureTransportWarning?.contains("plain http") == true)
        c.api.url = "https://api.example.com"
        #expect(c.insecureTransportWarning == nil)
        c.api.verifyTLS = false
        #expect(c.insecureTransportWarning?.contains("api.verify_tls is off") == true)
        var snapshot = StatusSnapshot()
        snapshot.insecureTransport = c.insecureTransportWarning
        snapshot.ambiguousDeliveries = 3
        #expect(snapshot.prometheusText().contains("kiosk_insecure_transport 1"))
        #expect(snapshot.prometheusText().contains("kiosk_ambiguous_deliveries_total 3"))
        // Status files from before these fields still decode.
        let old =
            #"{"version":"0.1.0","pid":1,"state":"idle","decisions":{},"camera":{"source":"","connected":false,"fps":0,"frames_captured":0,"frames_dropped":0,"frames_corrupt":0},"queue":{"depth":0,"bytes":0,"dropped":0,"delivered":0},"server":{"url":""},"door":"idle","started_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#
        #expect((try? StatusSnapshot.decode(Data(old.utf8)))?.ambiguousDeliveries == nil)
    }

    static func freePort() throws -> Int {
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
}
