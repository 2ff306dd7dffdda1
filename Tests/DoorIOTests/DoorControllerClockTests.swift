// Door timing on an injected clock: exact lengths, and stale timers forced to wake late.
import TestSupport
import Testing

@testable import DoorIO

@Suite("Door controller on a manual clock")
struct DoorControllerClockTests {
    func started(_ configuration: DoorIOConfiguration = fastConfiguration())
        async throws -> (DoorController, RecordingBackend, ManualDoorClock)
    {
        let clock = ManualDoorClock()
        let backend = RecordingBackend(initialLevels: [.doorSensor: true])
        let door = DoorController(configuration: configuration, backend: backend, clock: clock, logger: .quiet)
        try await door.start()
        return (door, backend, clock)
    }

    @Test("a pulse lasts exactly its configured length on the controller's clock")
    func exactPulse() async throws {
        let (door, backend, clock) = try await started(fastConfiguration(relayPulse: .milliseconds(500)))
        await door.signal(.granted())
        #expect(backend.level(.relay))
        // Nothing can end the pulse before its timer is due: no waiting needed to know it.
        clock.advance(by: .milliseconds(499))
        #expect(backend.level(.relay))
        clock.advance(by: .milliseconds(1))
        #expect(await waitUntil { !backend.level(.relay) })
        #expect(backend.transitions(of: .relay).map(\.active) == [true, false])
        await door.shutdown()
    }

    @Test("a stale pulse timer waking after a new grant does not cut the new pulse short")
    func stalePulseTimer() async throws {
        let (door, backend, clock) = try await started(fastConfiguration(relayPulse: .milliseconds(500)))
        await door.signal(.granted())
        clock.advance(by: .milliseconds(400))
        await door.signal(.granted())  // a second person: a new pulse until t = 900 ms
        clock.advance(by: .milliseconds(100))  // the first pulse's timer wakes now, stale
        #expect(await waitUntil { await door.staleTimerWakeups["pulse"] == 1 })
        #expect(backend.level(.relay), "the first pulse's timer ended the second pulse")
        clock.advance(by: .milliseconds(399))
        #expect(backend.level(.relay))
        clock.advance(by: .milliseconds(1))
        #expect(await waitUntil { !backend.level(.relay) })
        // One energising per grant, one release at the end of the second.
        #expect(backend.transitions(of: .relay).map(\.active) == [true, false])
        await door.shutdown()
    }

    @Test("a stale feedback timer does not turn off the feedback of a newer signal")
    func staleFeedbackTimer() async throws {
        let (door, backend, clock) = try await started()  // feedback 300 ms, pulse 300 ms
        await door.signal(.denied(reason: "no_match"))
        #expect(backend.level(.ledDenied))
        clock.advance(by: .milliseconds(200))
        await door.signal(.granted())  // green until t = 500 ms
        #expect(backend.level(.ledGranted) && !backend.level(.ledDenied))
        clock.advance(by: .milliseconds(100))  // the denial's feedback timer wakes, stale
        #expect(await waitUntil { await door.staleTimerWakeups["feedback"] == 1 })
        #expect(backend.level(.ledGranted), "the denial's timer turned off the green LED")
        clock.advance(by: .milliseconds(200))
        #expect(await waitUntil { !backend.level(.ledGranted) })
        await door.shutdown()
    }

    @Test("a door closed and opened again gets a full held-open time, not what was left of the first")
    func staleHeldOpenTimer() async throws {
        let (door, backend, clock) = try await started(fastConfiguration(heldOpenAlarmAfter: .milliseconds(400), debounce: .zero))
        let events = EventRecorder(door.events)
        await door.signal(.granted())
        backend.edge(.doorSensor, active: false)  // opened (normally closed contact released)
        #expect(await events.waitFor { $0 == .doorOpened(authorised: true) } != nil)
        clock.advance(by: .milliseconds(300))
        backend.edge(.doorSensor, active: true)  // closed
        #expect(await events.waitFor { $0 == .doorClosed } != nil)
        await door.signal(.granted())
        backend.edge(.doorSensor, active: false)  // opened again at t = 300 ms: alarm due at 700
        #expect(await waitUntil { events.kinds.filter { $0 == .doorOpened(authorised: true) }.count == 2 })
        clock.advance(by: .milliseconds(100))  // t = 400: the first opening's timer wakes, stale
        #expect(await waitUntil { await door.staleTimerWakeups["held-open"] == 1 })
        #expect(!(await door.state().alarms.contains(.heldOpen)))
        clock.advance(by: .milliseconds(300))
        #expect(await waitUntil { await door.state().alarms.contains(.heldOpen) })
        await door.shutdown()
    }
}
