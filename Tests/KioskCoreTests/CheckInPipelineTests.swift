// The check-in pipeline's state machine with scripted detections, server and door: deadlines, late grants.
import DoorIO
import FaceDetection
import Foundation
import Outbox
import TestSupport
import Testing

@testable import KioskCore

/// The pipeline's state machine through its seams: scripted detections, a scripted server and
/// a recording door, with the real frame analyzer and decision policy. No model needed.
@Suite(.serialized)
struct CheckInPipelineTests {
    typealias Answer = ScriptedGateway.Answer

    @Test("a qualifying face is checked in once: checking, granted, idle; the granted person staying is not checked in again")
    func grantedOnce() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant)))
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.grants == 1 })
            // A second's worth of frames with the same person in view.
            let before = f.detector.detections
            #expect(await waitUntil { f.detector.detections >= before + 20 })
            #expect(await f.gateway.calls == 1)
            #expect(await f.door.kinds == ["checking", "granted", "idle"])
            #expect(f.status.snapshot.state == CheckInPipeline.State.cooldown.rawValue)
            #expect(f.status.snapshot.decisions["granted"] == 1)
        }
    }

    @Test("on a board slower per frame than absence_to_reset, a granted person standing still is not checked in again")
    func slowFramesDoNotCountAsAbsence() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant))) {
            $0.pipeline.absenceToReset = .milliseconds(700)
        }
        f.detector.slow(.milliseconds(1200))
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.grants == 1 })
            let before = f.detector.detections
            #expect(await waitUntil(.seconds(20)) { f.detector.detections >= before + 4 })
            #expect(await f.gateway.calls == 1)
            #expect(await f.door.grants == 1)
        }
    }

    @Test("states: idle with nobody, selecting while a face does not qualify, back to idle after giving up")
    func givesUpOnAFaceThatNeverQualifies() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant)))
        try await f.running {
            #expect(await waitUntil { f.detector.detections >= 3 })
            #expect(f.status.snapshot.state == "idle" || f.status.snapshot.state == "starting")
            f.detector.show(.faces([ScriptedDetector.smallFace()]))
            #expect(await waitUntil { f.status.snapshot.state == "selecting" })
            #expect(await waitUntil { f.status.snapshot.lastGiveUp != nil })
            #expect(f.status.snapshot.lastGiveUp?.contains("too small") == true, "\(f.status.snapshot.lastGiveUp ?? "")")
            f.detector.show(.faces([]))
            #expect(await waitUntil { f.status.snapshot.state == "idle" })
            #expect(await f.gateway.calls == 0)
            #expect(await f.door.kinds.isEmpty)
        }
    }

    @Test("a denial allows a second try after the cooldown; a person who leaves and comes back is checked in again")
    func cooldownAndAbsence() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: .noMatch))) {
            $0.pipeline.cooldown = .milliseconds(500)
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.gateway.calls == 2 })
            #expect(await f.door.kinds.prefix(3) == ["checking", "denied:no_match", "idle"])
            f.detector.show(.faces([]))
            #expect(await waitUntil { f.status.snapshot.state == "idle" })
            let calls = await f.gateway.calls
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.gateway.calls == calls + 1 })
        }
    }

    @Test("several faces under detection.multiple_faces=refuse: one person at a time, nothing sent")
    func severalFacesRefused() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant))) {
            $0.detection.multipleFaces = .refuse
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace(x: 10), ScriptedDetector.frontalFace(x: 200)]))
            #expect(await waitUntil { await f.door.kinds.contains("one-person") })
            let before = f.detector.detections
            #expect(await waitUntil { f.detector.detections >= before + 10 })
            #expect(await f.gateway.calls == 0)
            #expect(await f.door.grants == 0)
        }
    }

    @Test("turnstile: a second face during the open grant is tailgating (signalled, journaled with the count), never checked in")
    func tailgatingWhileTheGrantIsOpen() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant)), withStore: true) {
            $0.door.kind = .turnstile
            $0.door.direction = .entry
            $0.detection.multipleFaces = .largest
        }
        await f.door.actAsTurnstile()
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.grants == 1 })
            f.detector.show(.faces([ScriptedDetector.frontalFace(x: 10), ScriptedDetector.frontalFace(x: 200)]))
            #expect(await waitUntil { await f.door.kinds.contains("one-person") })
            #expect(await waitUntil { (try? await f.journal?.entries(kinds: [.door]).count) == 1 })
            let door = try await f.journal?.entries(kinds: [.door]) ?? []
            guard case .door(let event)? = door.first?.event else {
                Issue.record("no door event: \(door)")
                return
            }
            #expect(event.kind == .tailgating)
            #expect(event.detail?.hasPrefix("2 faces in view") == true, "\(event.detail ?? "")")
            // Said once per grant, however many frames show the two of them.
            let before = f.detector.detections
            #expect(await waitUntil { f.detector.detections >= before + 10 })
            #expect(await f.door.kinds.filter { $0 == "one-person" }.count == 1)
            #expect(await f.gateway.calls == 1)
            #expect(await f.door.grants == 1)
            // The decision carries the configured direction in the journal.
            let decisions = try await f.journal?.entries(kinds: [.decision]) ?? []
            guard case .decision(let decision)? = decisions.first?.event else {
                Issue.record("no decision")
                return
            }
            #expect(decision.direction == "entry")
        }
    }

    @Test("turnstile: the granted person leaves, another comes while the grant is open: tailgating; after the passage, checked in")
    func tailgatingAfterTheGrantedPersonLeft() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant))) {
            $0.door.kind = .turnstile
            $0.pipeline.absenceToReset = .milliseconds(400)
        }
        await f.door.actAsTurnstile()
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.grants == 1 })
            f.detector.show(.faces([]))
            // An empty frame analysed, then absence_to_reset (400 ms) passed with margin.
            let emptyFrom = f.detector.detections
            #expect(await waitUntil { f.detector.detections >= emptyFrom + 2 })
            let empty = ContinuousClock.now
            #expect(await waitUntil { ContinuousClock.now - empty > .milliseconds(700) })
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.kinds.contains("one-person") })
            #expect(await f.gateway.calls == 1)
            // The passage ends the grant; the next person, once the view was empty, is checked in.
            await f.door.passage()
            f.detector.show(.faces([]))
            #expect(await waitUntil { f.status.snapshot.state == "idle" })
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.gateway.calls == 2 })
        }
    }

    @Test("a slow server: the door decides by the offline policy at the deadline; the late grant opens it for the person still there")
    func lateGrantForThePersonStillInView() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .seconds(2))), withStore: true
        ) {
            $0.pipeline.decisionDeadline = .milliseconds(300)
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.kinds.contains("denied:offline") })
            // Decided by the deadline, while the server is still working on it.
            #expect(await f.gateway.answered == 0)
            let checking = try #require(await f.door.first("checking"))
            let offline = try #require(await f.door.first("denied:offline"))
            #expect(offline - checking < .milliseconds(1300), "the deadline is 300 ms; the server answers after 2 s")
            #expect(await waitUntil { await f.door.grants == 1 })
            // The late outcome is recorded after the door's signals: wait for it, then read both.
            #expect(await waitUntil { f.status.snapshot.lateAnswers == 1 })
            #expect(await f.gateway.calls == 1)
            #expect(await f.door.kinds == ["checking", "denied:offline", "offline", "granted", "idle"])
            // Not queued: the request reached the server, posting it again would check in twice.
            #expect(try await f.outbox?.status().items == 0)
            let late = try await f.journal?.entries(kinds: [.lateOutcome]) ?? []
            #expect(late.count == 1)
        }
    }

    @Test("a late grant after the person left is only journaled; the door stays shut")
    func lateGrantAfterThePersonLeft() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .seconds(2))), withStore: true
        ) {
            $0.pipeline.decisionDeadline = .milliseconds(300)
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.door.kinds.contains("denied:offline") })
            f.detector.show(.faces([]))
            #expect(await waitUntil { f.status.snapshot.lateAnswers == 1 })
            #expect(await f.door.grants == 0)
            #expect(await f.gateway.calls == 1)
            let late = try await f.journal?.entries(kinds: [.lateOutcome]) ?? []
            #expect(late.count == 1)
        }
    }

    @Test("a late grant past pipeline.late_grant_window does not open the door")
    func lateGrantPastTheWindow() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .seconds(2)))
        ) {
            $0.pipeline.decisionDeadline = .milliseconds(300)
            $0.pipeline.lateGrantWindow = .milliseconds(200)
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { f.status.snapshot.lateAnswers == 1 })
            #expect(await f.door.grants == 0)
        }
    }

    @Test("fail-open: the deadline opens the door at once; the late answer does not open it again")
    func failOpenAtTheDeadline() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .seconds(2)))
        ) {
            $0.pipeline.decisionDeadline = .milliseconds(300)
            $0.policy.offline = .failOpen
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { f.status.snapshot.lateAnswers == 1 })
            #expect(await f.door.grants == 1)
            #expect(f.status.snapshot.decisions["granted_offline"] == 1)
        }
    }

    @Test("a check-in whose late answer says the server was never reached is queued once")
    func lateFailureIsQueued() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: .unreachable(reason: "connect refused"), after: .seconds(1))),
            withStore: true
        ) {
            $0.pipeline.decisionDeadline = .milliseconds(300)
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.gateway.answered == 1 })
            #expect(await waitUntil { (try? await f.outbox?.status().items) == 1 })
            #expect(await f.gateway.calls == 1)
            #expect(await f.door.grants == 0)
        }
    }

    @Test("an answer within the deadline decides as usual: no offline signal")
    func answerWithinTheDeadline() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .milliseconds(100)))
        ) {
            $0.pipeline.decisionDeadline = .seconds(5)
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            // The decision's signals, all three, before reading them (granted comes before idle).
            #expect(await waitUntil { await f.door.kinds.count == 3 })
            #expect(await f.door.kinds == ["checking", "granted", "idle"])
            #expect(f.status.snapshot.lateAnswers == nil)
        }
    }

    @Test("after a reload the live check-in and its queued copy carry the same new condition and option")
    func reloadedConditionReachesLiveAndQueued() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: .unreachable(reason: "connect refused"))), withStore: true)
        var reloaded = KioskConfiguration()
        reloaded.pipeline = f.tunables.pipeline
        reloaded.detection = f.tunables.detection
        reloaded.api.conditionJSON = #"{"group_id": 3}"#
        reloaded.api.option = 2
        f.pipeline.reload(.init(configuration: reloaded, policy: f.tunables.policy))
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { (try? await f.outbox?.status().items) == 1 })
            let live = try #require(await f.gateway.requests.first)
            #expect(live.conditionJSON == #"{"group_id": 3}"# && live.option == 2)
            let queued = try #require(try await f.outbox?.nextDue(at: Date().addingTimeInterval(86_400)))
            #expect(queued.payload.conditionJSON == live.conditionJSON)
            #expect(queued.payload.option == "2")
        }
    }

    @Test("the heartbeat keeps beating while the server takes 8 s to answer")
    func heartbeatWhileTheServerIsSlow() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .seconds(8)))
        ) {
            $0.pipeline.decisionDeadline = .seconds(30)  // the person waits; the loop must not
        }
        try await f.running {
            f.detector.show(.faces([ScriptedDetector.frontalFace()]))
            #expect(await waitUntil { await f.gateway.calls == 1 })
            var oldest = Duration.zero
            let until = ContinuousClock.now + .seconds(8)
            while ContinuousClock.now < until, await f.gateway.answered == 0 {
                oldest = max(oldest, f.heartbeat.age ?? .seconds(999))
                try await Task.sleep(for: .milliseconds(50))
            }
            // The watchdog calls the loop hung at WatchdogSec/2 = 5 s; ticks come every 50 ms.
            #expect(oldest < .seconds(2), "heartbeat went quiet for \(oldest) while the server worked")
        }
    }

    @Test("a frame analysis that never returns stops the heartbeat, so the watchdog can restart the service")
    func hungAnalysisStopsTheHeartbeat() async throws {
        let f = try await PipelineFixture(gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant)))
        try await f.running {
            #expect(await waitUntil { f.detector.detections >= 2 })
            f.detector.show(.hang)
            #expect(await waitUntil(.seconds(10)) { (f.heartbeat.age ?? .zero) > .seconds(2) })
        }
    }

    @Test("stopping mid-decision returns promptly and opens nothing afterwards")
    func stopMidDecision() async throws {
        let f = try await PipelineFixture(
            gateway: ScriptedGateway(otherwise: Answer(outcome: ScriptedGateway.grant, after: .seconds(5)))
        ) {
            $0.pipeline.decisionDeadline = .seconds(10)
        }
        let run = Task { [pipeline = f.pipeline] in try await pipeline.run() }
        f.detector.show(.faces([ScriptedDetector.frontalFace()]))
        #expect(await waitUntil { await f.gateway.calls == 1 })
        let stopAsked = ContinuousClock.now
        run.cancel()
        _ = try? await run.value
        #expect(ContinuousClock.now - stopAsked < .seconds(2))
        #expect(await f.door.grants == 0)
    }
}
