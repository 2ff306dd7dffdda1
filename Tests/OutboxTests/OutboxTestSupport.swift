// Outbox test support: a manual clock, a temporary outbox fixture, a sample JPEG and a byte search.
import Foundation
import Synchronization
import TestSupport

@testable import Outbox

/// A clock the test moves by hand.
final class ManualClock: OutboxClock {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    func now() -> Date { current.withLock { $0 } }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0 + duration.seconds }
    }

    func sleep(for duration: Duration) async throws {
        // The loop is not under test with this clock; a short real sleep keeps it responsive.
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// A temporary state directory with an outbox opened in it, removed by `cleanUp()`.
struct OutboxFixture {
    let directory: URL
    let database: OutboxDatabase
    var store: OutboxStore { OutboxStore(database: database) }
    var journal: EventJournal { EventJournal(database: database) }

    static func make(
        clock: any OutboxClock = SystemOutboxClock(), limits: OutboxLimits = OutboxLimits(),
        retention: JournalRetention = JournalRetention(), maxPageCount: Int? = nil
    ) async throws -> OutboxFixture {
        let directory = try TestAssets.temporaryDirectory("outbox")
        let database = try await OutboxDatabase.open(
            configuration(directory, limits: limits, retention: retention, maxPageCount: maxPageCount), clock: clock)
        return OutboxFixture(directory: directory, database: database)
    }

    static func configuration(
        _ directory: URL, limits: OutboxLimits = OutboxLimits(), retention: JournalRetention = JournalRetention(),
        maxPageCount: Int? = nil
    ) -> OutboxConfiguration {
        OutboxConfiguration(
            stateDirectory: directory.path, key: .file(path: directory.path + "/outbox.key", generateIfMissing: true),
            limits: limits, journalRetention: retention, maxPageCount: maxPageCount)
    }

    func cleanUp() {
        database.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A real JPEG from the public face set when the assets are present, else a small synthetic
/// JFIF stream (SOI, APP0, EOI) so the encryption test still has the markers to look for.
func sampleJPEG() -> [UInt8] {
    let url = TestAssets.faceImage("images/facerec/obama.jpg")
    if let data = try? Data(contentsOf: url) { return Array(data) }
    var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
    bytes += (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    return bytes + [0xFF, 0xD9]
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    func contains(sequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= count - needle.count {
            if self[i] == first, Array(self[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }
}
