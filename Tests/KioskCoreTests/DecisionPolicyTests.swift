// The decision policy and weekly schedule: approval, denial reasons, offline modes, schedule syntax.
import Foundation
import Testing

@testable import KioskCore

@Suite("Decision policy and schedule")
struct DecisionPolicyTests {
    let utc = TimeZone(identifier: "UTC")!
    /// 2026-11-30 was a Monday.
    func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    func policy(_ edit: (inout PolicySettings) -> Void = { _ in }) throws -> DecisionPolicy {
        var settings = PolicySettings()
        edit(&settings)
        return try DecisionPolicy(settings: settings, timeZone: utc)
    }

    @Test("an approved user above the minimum similarity is let in")
    func granted() throws {
        let d = try policy().decide(.matched(userID: 4, status: "APPROVED", similarity: 90.3), at: date("2026-11-30T10:00:00Z"))
        #expect(d.granted && d.reason == .granted && d.userID == 4)
    }

    @Test("status, similarity, 404 and 409 deny with their reason")
    func denials() throws {
        let p = try policy()
        let now = date("2026-11-30T10:00:00Z")
        #expect(p.decide(.matched(userID: 1, status: "UNAPPROVED", similarity: 99), at: now).reason == .statusNotAllowed)
        #expect(p.decide(.matched(userID: 1, status: "APPROVED", similarity: 79.9), at: now).reason == .similarityTooLow)
        #expect(p.decide(.noMatch, at: now).reason == .noMatch)
        #expect(p.decide(.conditionsNotMet(message: nil), at: now).reason == .conditionsNotMet)
        let rejected = p.decide(.rejected(status: 403, message: "other project"), at: now)
        #expect(!rejected.granted && rejected.fault)
    }

    @Test("offline: fail-secure by default, fail-open on request, queued when configured")
    func offline() throws {
        let now = date("2026-11-30T10:00:00Z")
        let secure = try policy().decide(.unreachable(reason: "timeout"), at: now)
        #expect(!secure.granted && secure.reason == .offline && secure.queueForLater)
        let open = try policy {
            $0.offline = .failOpen
            $0.queueOffline = false
        }.decide(.unreachable(reason: "503"), at: now)
        #expect(open.granted && open.reason == .grantedOffline && !open.queueForLater)
    }

    @Test("the weekly schedule closes the door outside its windows")
    func schedule() throws {
        let p = try policy { $0.schedule = ["mon-fri 07:00-19:00", "sat 09:00-13:00"] }
        let user = CheckInOutcome.matched(userID: 2, status: "APPROVED", similarity: 95)
        #expect(p.decide(user, at: date("2026-11-30T07:00:00Z")).granted)  // Monday, opening minute
        #expect(!p.decide(user, at: date("2026-11-30T19:00:00Z")).granted)  // Monday, closing minute
        #expect(p.decide(user, at: date("2026-12-05T12:59:00Z")).granted)  // Saturday
        #expect(p.decide(user, at: date("2026-12-06T12:00:00Z")).reason == .outsideSchedule)  // Sunday
        // Fail-open never opens outside the schedule either.
        let open = try policy {
            $0.offline = .failOpen
            $0.schedule = ["mon 08:00-09:00"]
        }
        #expect(!open.decide(.unreachable(reason: "x"), at: date("2026-11-30T10:00:00Z")).granted)
    }

    @Test(
        "schedule syntax errors say what is wrong",
        arguments: [
            "mon-fri", "funday 07:00-19:00", "mon 19:00-07:00", "mon 7-19", "mon 25:00-26:00",
        ])
    func scheduleErrors(entry: String) {
        #expect(throws: WeeklySchedule.ScheduleError.self) { try WeeklySchedule.Window(parsing: entry) }
    }

    @Test("day ranges wrap the week and lists combine")
    func dayRanges() throws {
        #expect(try WeeklySchedule.Window(parsing: "sat-mon 00:00-24:00").days == [6, 7, 1])
        #expect(try WeeklySchedule.Window(parsing: "tue,thu 10:00-11:00").days == [2, 4])
        #expect(try WeeklySchedule.Window(parsing: "daily 06:00-22:00").days == Set(1...7))
    }
}
