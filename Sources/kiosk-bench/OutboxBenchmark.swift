// `kiosk-bench outbox`: durable enqueue rate and drain rate of the offline queue, the drain
// measured both against a no-op sender (the store's own cost) and over HTTP to a loopback
// receiver (one POST per item, keep-alive).
import ArgumentParser
import Foundation
import Outbox

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

struct OutboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Offline queue: durable enqueue rate (WAL, synchronous=FULL, sealed payload) and drain rate.",
        discussion: """
            Each enqueue seals a payload of --payload-kb (a face crop) with ChaCha20-Poly1305 and \
            commits it with an fsync before returning. The drain removes items one at a time, \
            oldest first, each removal plus its journal record in one durable transaction. The \
            database lives in --dir (default: a temporary folder): put it on the file system the \
            kiosk's state directory uses to measure that disk.
            """)

    @Option(help: "Items to enqueue and drain per run.") var items = 300
    @Option(name: .customLong("payload-kb"), help: "Payload size in kB.") var payloadKB = 40
    @Option(help: "Folder for the database (a fresh subfolder is created and removed).") var dir: String?

    mutating func run() async throws {
        let base = dir ?? FileManager.default.temporaryDirectory.path
        let payload = OutboxPayload(
            jpeg: [0xFF, 0xD8, 0xFF, 0xE0] + (0..<(payloadKB * 1000)).map { UInt8(truncatingIfNeeded: $0 &* 13) },
            conditionJSON: #"{"groups":[1,2]}"#, option: "")
        print("outbox: \(items) items of \(payloadKB) kB in \(base)")

        // 1. Enqueue, then drain to a no-op sender.
        let first = try await Self.freshDatabase(base)
        defer { first.cleanUp() }
        let store = OutboxStore(database: first.database)
        let enqueue = try await Self.time(items) { _ in try await store.enqueue(payload, capturedAt: Date()) }
        let fileBytes = Self.size(first.database.path) + Self.size(first.database.path + "-wal")
        print(
            String(
                format: "  durable enqueue:         %7.1f items/s  (mean %.2f ms, p95 %.2f ms)",
                enqueue.rate, enqueue.mean * 1000, enqueue.p95 * 1000))
        print("  database + WAL size:     \(fileBytes / 1000) kB for \(items) items")
        let noop = OutboxDrainer(
            store: store, sender: ClosureOutboxSender(deliver: { _ in .delivered(DeliveredOutcome()) }))
        let drainLocal = try await Self.time(items) { _ in
            guard case .delivered = await noop.drainOnce() else { throw ValidationError("drain stopped early") }
        }
        print(String(format: "  drain, no-op sender:     %7.1f items/s  (mean %.2f ms)", drainLocal.rate, drainLocal.mean * 1000))

        // 2. Drain over HTTP to a loopback receiver.
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        for _ in 0..<items { try await store.enqueue(payload, capturedAt: Date()) }
        let url = URL(string: "http://127.0.0.1:\(receiver.port)/check-in")!
        let http = OutboxDrainer(
            store: store,
            sender: ClosureOutboxSender(deliver: { delivery in
                var request = URLRequest(url: url)
                request.httpMethod = "POST"
                request.httpBody = Data(delivery.payload.jpeg)
                do {
                    let (_, response) = try await URLSession.shared.data(for: request)
                    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                    return status == 200 ? .delivered(DeliveredOutcome()) : .retryable(reason: "HTTP \(status)")
                } catch {
                    return .retryable(reason: "\(error)")
                }
            }))
        let drainHTTP = try await Self.time(items) { _ in
            guard case .delivered = await http.drainOnce() else { throw ValidationError("HTTP drain failed") }
        }
        print(
            String(
                format: "  drain, HTTP on loopback: %7.1f items/s  (mean %.2f ms; %d requests received)",
                drainHTTP.rate, drainHTTP.mean * 1000, receiver.requests))
    }

    struct Timing {
        var rate: Double
        var mean: Double
        var p95: Double
    }

    static func time(_ count: Int, _ body: (Int) async throws -> Void) async throws -> Timing {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try await body(i)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let sorted = samples.sorted()
        return Timing(
            rate: Double(count) / total, mean: total / Double(count),
            p95: sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))])
    }

    struct Fresh {
        let directory: String
        let database: OutboxDatabase
        func cleanUp() {
            database.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func freshDatabase(_ base: String) async throws -> Fresh {
        let directory = base + "/kiosk-bench-outbox-\(UUID().uuidString)"
        let database = try await OutboxDatabase.open(OutboxConfiguration(stateDirectory: directory))
        return Fresh(directory: directory, database: database)
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}

/// A minimal HTTP/1.1 receiver on 127.0.0.1 (one thread per connection, keep-alive): reads each
/// request and its body, answers 200. Enough to put real sockets and HTTP under the drain.
final class LoopbackReceiver: @unchecked Sendable {
    // @unchecked: `listener` is written once in init; `count` is guarded by `lock`.
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var count = 0

    var requests: Int { lock.withLock { count } }

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ValidationError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(listener, sa, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, sa, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw ValidationError("cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            // Headers.
            var headerEnd: Int?
            while headerEnd == nil {
                if let range = Self.find([13, 10, 13, 10], in: buffer) {
                    headerEnd = range
                    break
                }
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { return }
                buffer += chunk[0..<n]
            }
            guard let end = headerEnd else { return }
            let header = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
            var length = 0
            for line in header.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let total = end + 4 + length
            while buffer.count < total {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { return }
                buffer += chunk[0..<n]
            }
            buffer.removeFirst(total)
            lock.withLock { count += 1 }
            let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
            let written = response.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == response.count else { return }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
