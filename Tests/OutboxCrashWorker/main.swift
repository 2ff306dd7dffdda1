// outbox-crash-worker: a TEST TOOL, not part of the product. OutboxTests starts it as a child
// process and kills it with SIGKILL at random moments, to prove that every enqueue it
// acknowledged is delivered or still queued.
//
//   outbox-crash-worker run <state-dir> <url> <first-seq>   enqueue forever, drain concurrently;
//                                                          prints "ACK <seq>" after each durable enqueue
//   outbox-crash-worker drain <state-dir> <url>             drain until the queue is empty, exit 0
//   outbox-crash-worker enqueue <state-dir> <count>         enqueue <count> items, exit 0
//   outbox-crash-worker powercut|powercut-check|storage ...  the VM power-cut stage (PowerCutWorker.swift)
import Foundation
import Logging
import Outbox

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Posts "<seq>" to the receiver; 2xx is delivered, anything else is retryable.
struct HTTPSender: OutboxSender {
    let url: URL

    func deliver(_ delivery: OutboxDelivery) async -> DeliveryResult {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = 5
        request.setValue(delivery.item.uuid, forHTTPHeaderField: "X-Outbox-Item")
        request.httpBody = Data(seq(of: delivery).utf8)
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if (200..<300).contains(status) { return .delivered(DeliveredOutcome(status: status)) }
            return .retryable(reason: "HTTP \(status)")
        } catch {
            return .retryable(reason: "network: \(error.localizedDescription)")
        }
    }

    func renewAuthentication() async throws {}

    func seq(of delivery: OutboxDelivery) -> String {
        // conditionJSON is {"seq":N}
        String(delivery.payload.conditionJSON.filter(\.isNumber))
    }
}

func say(_ line: String) {
    // write(2) straight to the pipe: no stdio buffer can hold back an acknowledgement.
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

func openDatabase(_ stateDirectory: String) async -> OutboxDatabase {
    do {
        return try await OutboxDatabase.open(OutboxConfiguration(stateDirectory: stateDirectory))
    } catch {
        fail("\(error)")
    }
}

let drainConfiguration = DrainConfiguration(
    backoff: BackoffPolicy(base: .milliseconds(20), multiplier: 2, cap: .milliseconds(200), jitter: 0.5),
    breaker: CircuitBreaker(failureThreshold: 1000), idlePoll: .milliseconds(20))
let logger = Logger(label: "outbox-crash-worker", factory: { _ in SwiftLogNoOpLogHandler() })
let arguments = CommandLine.arguments

func payload(_ seq: Int) -> OutboxPayload {
    // A JPEG-looking buffer (SOI marker first) of a typical crop size.
    var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
    jpeg += (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seq) }
    return OutboxPayload(jpeg: jpeg + [0xFF, 0xD9], conditionJSON: "{\"seq\":\(seq)}")
}

// The power-cut modes open the database their own way (PowerCutWorker.swift).
if arguments.count >= 2, ["powercut", "powercut-check", "storage"].contains(arguments[1]) {
    exit(await PowerCutWorker.main(Array(arguments.dropFirst())))
}
guard arguments.count >= 3 else { fail("usage: outbox-crash-worker run|drain|enqueue <state-dir> ...") }
let database = await openDatabase(arguments[2])
let store = OutboxStore(database: database)

switch arguments[1] {
case "run":
    guard arguments.count == 5, let url = URL(string: arguments[3]), let first = Int(arguments[4]) else {
        fail("usage: outbox-crash-worker run <state-dir> <url> <first-seq>")
    }
    let drainer = OutboxDrainer(store: store, sender: HTTPSender(url: url), configuration: drainConfiguration, logger: logger)
    let loop = Task { await drainer.run() }
    say("READY")
    var seq = first
    while true {
        do {
            try await store.enqueue(payload(seq), capturedAt: Date())
            say("ACK \(seq)")
            await drainer.nudge()
        } catch {
            say("ERR \(seq) \(error)")
        }
        seq += 1
        try? await Task.sleep(for: .milliseconds(3))
    }
    _ = loop
case "drain":
    guard arguments.count == 4, let url = URL(string: arguments[3]) else {
        fail("usage: outbox-crash-worker drain <state-dir> <url>")
    }
    let drainer = OutboxDrainer(store: store, sender: HTTPSender(url: url), configuration: drainConfiguration, logger: logger)
    let deadline = Date() + 30
    while Date() < deadline {
        switch await drainer.drainOnce() {
        case .idle(nil):
            say("EMPTY")
            exit(0)
        case .idle, .breakerOpen, .storeError:
            try? await Task.sleep(for: .milliseconds(20))
        case .delivered, .finalOutcome, .retryScheduled, .droppedUnanswered:
            continue
        }
    }
    fail("queue not empty after 30 s")
case "enqueue":
    guard arguments.count == 4, let count = Int(arguments[3]) else {
        fail("usage: outbox-crash-worker enqueue <state-dir> <count>")
    }
    for seq in 0..<count {
        do {
            try await store.enqueue(payload(seq), capturedAt: Date())
        } catch {
            fail("enqueue \(seq): \(error)")
        }
    }
    say("DONE \(count)")
    exit(0)
default:
    fail("unknown mode \(arguments[1])")
}
