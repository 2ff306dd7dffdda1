// Door logic on the recording test stand-in: pulses, patterns, debounce, door sensor, alarms.
import Logging
import TestSupport
import Testing

@testable import DoorIO

/// A configuration with every line and short timings so the suite runs in seconds.
func fastConfiguration(
    relayPulse: Duration = .milliseconds(300),
    holdUntilOpen: Duration? = nil,
    endPulseWhenDoorOpens: Bool = true,
    heldOpenAlarmAfter: Duration = .milliseconds(400),
    debounce: Duration = .milliseconds(50),
    openGrace: Duration = .milliseconds(200),
    wiring: DoorSensorWiring = .normallyClosed
) -> DoorIOConfiguration {
    DoorIOConfiguration(
        backend: .gpiod, chip: "test",
        relay: GPIOOutputLine(.offset(0)),
        ledGranted: GPIOOutputLine(.offset(1)),
        ledDenied: GPIOOutputLine(.offset(2)),
        ledFault: GPIOOutputLine(.offset(6)),
        ledIdle: GPIOOutputLine(.offset(7)),
        buzzer: GPIOOutputLine(.offset(3)),
        doorSensor: GPIOInputLine(.offset(4)),
        doorSensorWiring: wiring,
        exitButton: GPIOInputLine(.offset(5)),
        tamper: GPIOInputLine(.offset(8)),
        relayPulse: relayPulse,
        endPulseWhenDoorOpens: endPulseWhenDoorOpens,
        holdUntilOpen: holdUntilOpen,
        heldOpenAlarmAfter: heldOpenAlarmAfter,
        openGrace: openGrace,
        debounce: debounce,
        feedbackDuration: .milliseconds(300))
}

/// A started controller over a recording backend, with the door closed (NC contact active).
func startedDoor(_ configuration: DoorIOConfiguration = fastConfiguration())
    async throws -> (DoorController, RecordingBackend, EventRecorder)
{
    let closedLevel = configuration.doorSensorWiring == .normallyClosed
    let backend = RecordingBackend(initialLevels: [.doorSensor: closedLevel])
    let door = DoorController(configuration: configuration, backend: backend, logger: .quiet)
    try await door.start()
    return (door, backend, EventRecorder(door.events))
}

@Suite("Door controller logic (recording test stand-in)")
struct DoorControllerTests {
    @Test func grantedPulsesTheRelayForTheConfiguredTime() async throws {
        let (door, backend, events) = try await startedDoor()
        await door.signal(.granted())
        #expect(backend.level(.relay))
        #expect(backend.level(.ledGranted))
        let ended = await events.waitFor { $0 == .pulseEnded(early: false) }
        #expect(ended != nil)
        let relay = backend.transitions(of: .relay)
        try #require(relay.count == 2)
        let length = (relay[1].at - relay[0].at).ms
        #expect(length >= 290 && length < 1500, "pulse lasted \(length) ms, configured 300 ms")
        #expect(events.kinds.first == .pulseStarted(reason: .granted, length: .milliseconds(300)))
        await door.shutdown()
    }

    @Test func grantedWithExplicitPulseLength() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(relayPulse: .seconds(5)))
        await door.signal(.granted(pulse: .milliseconds(100)))
        await events.waitFor { $0 == .pulseEnded(early: false) }
        let relay = backend.transitions(of: .relay)
        try #require(relay.count == 2)
        #expect((relay[1].at - relay[0].at).ms < 2000, "the explicit 100 ms pulse, not the configured 5 s")
        await door.shutdown()
    }

    @Test func signalNeverBlocksTheCaller() async throws {
        let (door, _, _) = try await startedDoor(fastConfiguration(relayPulse: .seconds(5)))
        let clock = ContinuousClock()
        let took = await clock.measure { await door.signal(.granted()) }
        #expect(took < .seconds(1), "signal took \(took) (the pulse is 5 s)")
        await door.shutdown()
    }

    @Test func doorOpeningEndsThePulseEarlyAndIsAuthorised() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(relayPulse: .seconds(3)))
        await door.signal(.granted())
        backend.edge(.doorSensor, active: false)  // NC contact opens: door open
        #expect(await events.waitFor { $0 == .pulseEnded(early: true) } != nil)
        #expect(backend.level(.relay) == false)
        #expect(events.kinds.contains(.doorOpened(authorised: true)))
        #expect(!events.kinds.contains(.forcedOpen))
        backend.edge(.doorSensor, active: true)
        #expect(await events.waitFor { $0 == .doorClosed } != nil)
        await door.shutdown()
    }

    @Test func pulseRunsToTheEndWhenConfiguredNotToEndEarly() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(relayPulse: .seconds(1), endPulseWhenDoorOpens: false))
        await door.signal(.granted())
        backend.edge(.doorSensor, active: false)
        await events.waitFor { $0 == .doorOpened(authorised: true) }
        #expect(backend.level(.relay))
        #expect(await events.waitFor { $0 == .pulseEnded(early: false) } != nil)
        await door.shutdown()
    }

    @Test func holdUntilOpenKeepsTheRelayBeyondThePulse() async throws {
        let configuration = fastConfiguration(relayPulse: .milliseconds(100), holdUntilOpen: .seconds(2))
        let (door, backend, events) = try await startedDoor(configuration)
        await door.signal(.granted())
        try await Task.sleep(for: .milliseconds(400))
        #expect(backend.level(.relay), "relay should still be held until the door opens")
        backend.edge(.doorSensor, active: false)
        #expect(await events.waitFor { $0 == .pulseEnded(early: true) } != nil)
        #expect(!backend.level(.relay))
        await door.shutdown()
    }

    @Test func doorOpenedWithoutGrantIsForcedAndRaisesTheAlarm() async throws {
        let (door, backend, events) = try await startedDoor()
        #expect(backend.transitions(of: .buzzer).isEmpty, "the buzzer sounded before anything happened")
        backend.edge(.doorSensor, active: false)
        #expect(await events.waitFor { $0 == .forcedOpen } != nil)
        #expect(events.kinds.contains(.doorOpened(authorised: false)))
        #expect(await door.state().alarms.contains(.forcedOpen))
        // The alarm sounds: the buzzer is switched on, and on again after its pause (the
        // repeating alarm, not a one-shot beep). It blinks, so its level at one moment says nothing.
        #expect(await waitUntil { backend.transitions(of: .buzzer).first?.active == true })
        #expect(
            await waitUntil(.seconds(10)) { backend.transitions(of: .buzzer).filter(\.active).count >= 2 },
            "buzzer: \(backend.transitions(of: .buzzer).map(\.active))")
        backend.edge(.doorSensor, active: true)
        await events.waitFor { $0 == .doorClosed }
        #expect(await door.state().alarms.isEmpty)
        #expect(await waitUntil { !backend.level(.buzzer) })
        await door.shutdown()
    }

    @Test func openingShortlyAfterThePulseIsStillAuthorised() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(relayPulse: .milliseconds(100), openGrace: .seconds(2)))
        await door.signal(.granted())
        await events.waitFor { $0 == .pulseEnded(early: false) }
        backend.edge(.doorSensor, active: false)  // within the grace time
        #expect(await events.waitFor { $0 == .doorOpened(authorised: true) } != nil)
        #expect(!events.kinds.contains(.forcedOpen))
        await door.shutdown()
    }

    @Test func oneGrantCoversOneOpening() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(relayPulse: .seconds(2)))
        await door.signal(.granted())
        backend.edge(.doorSensor, active: false)
        await events.waitFor { $0 == .doorOpened(authorised: true) }
        backend.edge(.doorSensor, active: true)
        await events.waitFor { $0 == .doorClosed }
        backend.edge(.doorSensor, active: false)
        #expect(await events.waitFor { $0 == .forcedOpen } != nil, "a second opening on the same grant is forced")
        await door.shutdown()
    }

    @Test func heldOpenAlarmAfterTheConfiguredTime() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(heldOpenAlarmAfter: .milliseconds(300)))
        await door.signal(.granted())
        backend.edge(.doorSensor, active: false)
        let opened = try #require(await events.waitFor { $0 == .doorOpened(authorised: true) })
        let held = try #require(await events.waitFor { if case .heldOpen = $0 { true } else { false } })
        let after = (held.instant - opened.instant).ms
        #expect(after >= 290 && after < 2000, "held-open after \(after) ms, configured 300 ms")
        #expect(await door.state().alarms == [.heldOpen])
        #expect(await waitUntil { backend.transitions(of: .buzzer).contains { $0.active } })
        backend.edge(.doorSensor, active: true)
        await events.waitFor { $0 == .doorClosed }
        #expect(await door.state().alarms.isEmpty)
        await door.shutdown()
    }

    @Test func normallyOpenWiringInvertsTheSensor() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(wiring: .normallyOpen))
        #expect(await door.state().doorOpen == false)
        await door.signal(.granted())
        backend.edge(.doorSensor, active: true)  // NO contact closes: door open
        #expect(await events.waitFor { $0 == .doorOpened(authorised: true) } != nil)
        await door.shutdown()
    }

    @Test func exitButtonOpensTheDoorLocally() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(relayPulse: .seconds(3)))
        backend.edge(.exitButton, active: true)
        #expect(await events.waitFor { $0 == .exitButtonPressed } != nil)
        #expect(events.kinds.contains(.pulseStarted(reason: .exitButton, length: .seconds(3))))
        #expect(backend.level(.relay))
        backend.edge(.exitButton, active: false)
        backend.edge(.doorSensor, active: false)
        #expect(await events.waitFor { $0 == .doorOpened(authorised: true) } != nil)
        #expect(!events.kinds.contains(.forcedOpen))
        await door.shutdown()
    }

    @Test func bounceShorterThanTheDebounceTimeIsIgnored() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(debounce: .milliseconds(300)))
        for _ in 0..<5 {
            backend.edge(.exitButton, active: true)
            try await Task.sleep(for: .milliseconds(5))
            backend.edge(.exitButton, active: false)
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(700))
        #expect(!events.kinds.contains(.exitButtonPressed))
        #expect(backend.transitions(of: .relay).isEmpty)
        await door.shutdown()
    }

    @Test func bouncingThenSettledCountsOnce() async throws {
        let (door, backend, events) = try await startedDoor(fastConfiguration(debounce: .milliseconds(300)))
        let first = ContinuousClock.now
        for _ in 0..<3 {
            backend.edge(.exitButton, active: true)
            try await Task.sleep(for: .milliseconds(5))
            backend.edge(.exitButton, active: false)
            try await Task.sleep(for: .milliseconds(5))
        }
        backend.edge(.exitButton, active: true)
        let pressed = try #require(await events.waitFor { $0 == .exitButtonPressed })
        #expect((pressed.instant - first).ms >= 300)
        try await Task.sleep(for: .milliseconds(400))
        #expect(events.kinds.filter { $0 == .exitButtonPressed }.count == 1)
        await door.shutdown()
    }

    @Test func tamperRaisesAndClearsTheAlarm() async throws {
        let (door, backend, events) = try await startedDoor()
        await door.signal(.idle)
        #expect(backend.level(.ledIdle))
        backend.edge(.tamper, active: true)
        #expect(await events.waitFor { $0 == .tamper(active: true) } != nil)
        #expect(await door.state().alarms == [.tamper])
        #expect(await waitUntil { backend.level(.buzzer) })
        #expect(!backend.level(.ledIdle), "idle LED goes off during an alarm")
        // The alarm pattern blinks: several on/off transitions within a second and a half.
        try await Task.sleep(for: .milliseconds(1200))
        #expect(backend.transitions(of: .buzzer).count >= 3)
        backend.edge(.tamper, active: false)
        #expect(await events.waitFor { $0 == .tamper(active: false) } != nil)
        #expect(await waitUntil { !backend.level(.buzzer) && backend.level(.ledIdle) })
        await door.shutdown()
    }

    @Test func deniedShowsRedAndTripleBeep() async throws {
        let (door, backend, _) = try await startedDoor()
        await door.signal(.denied(reason: "no match"))
        #expect(backend.level(.ledDenied))
        #expect(await waitUntil { backend.transitions(of: .buzzer).filter(\.active).count == 3 && !backend.level(.buzzer) })
        #expect(await waitUntil { !backend.level(.ledDenied) }, "denied LED clears after the feedback time")
        #expect(backend.transitions(of: .relay).isEmpty, "a denial never touches the relay")
        await door.shutdown()
    }

    @Test func offlineBlinksTheFaultLedUntilIdle() async throws {
        let (door, backend, _) = try await startedDoor()
        await door.signal(.offline)
        // Wait for the blinking rather than a fixed time: under a fully loaded test run the
        // pattern's timer can be late by a second or more (the pattern itself is checked on a
        // real chip in GPIOHardwareTests).
        #expect(
            await waitUntil { backend.transitions(of: .ledFault).count >= 3 },
            "fault LED changed \(backend.transitions(of: .ledFault).count) times (500 ms blink)")
        await door.signal(.idle)
        #expect(await waitUntil { !backend.level(.ledFault) && backend.level(.ledIdle) })
        let settled = backend.transitions(of: .ledFault).count
        try await Task.sleep(for: .milliseconds(700))
        #expect(backend.transitions(of: .ledFault).count == settled, "blinking stopped")
        await door.signal(.fault)
        #expect(backend.level(.ledFault))
        await door.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func shutdownLeavesEverythingOffAndReleased() async throws {
        let backend = RecordingBackend(initialLevels: [.doorSensor: true])  // NC contact closed: door shut
        let door = DoorController(configuration: fastConfiguration(relayPulse: .seconds(5)), backend: backend, logger: .quiet)
        try await door.start()
        // Read the events here rather than through EventRecorder, to see the stream end.
        let reader = Task { await door.events.reduce(into: [DoorEvent.Kind]()) { $0.append($1.kind) } }
        await door.signal(.offline)
        await door.signal(.granted())
        #expect(backend.level(.relay))
        await door.shutdown()
        for role in DoorOutputRole.allCases {
            #expect(!backend.level(role), "\(role) left on")
        }
        #expect(backend.released.withLock { $0 })
        #expect(await door.state().running == false)
        // Shutdown ends the event stream (a reader that never ended would hang here until the
        // time limit fails the test).
        let kinds = await reader.value
        #expect(kinds.first == .pulseStarted(reason: .granted, length: .seconds(5)))
        // Nothing writes afterwards: the fault LED's blink and the 5 s pulse would, within 700 ms.
        let count = backend.transitions.count
        try await Task.sleep(for: .milliseconds(700))
        #expect(backend.transitions.count == count, "no pattern wrote after shutdown")
        await door.shutdown()  // twice is fine: nothing is written again
        #expect(backend.transitions.count == count)
    }

    @Test func inputFailureIsReportedAndLightsTheFaultLed() async throws {
        let (door, backend, events) = try await startedDoor()
        backend.fail(.monitorFailed(chip: "gpiochip9", operation: "poll", errno: 5))
        #expect(await events.waitFor { if case .inputFailure = $0 { true } else { false } } != nil)
        #expect(await waitUntil { backend.level(.ledFault) })
        await door.shutdown()
    }

    @Test func doorAlreadyOpenAtStartIsNotForced() async throws {
        let configuration = fastConfiguration()
        let backend = RecordingBackend(initialLevels: [.doorSensor: false])  // NC contact open: door open
        let door = DoorController(configuration: configuration, backend: backend, logger: .quiet)
        try await door.start()
        let events = EventRecorder(door.events)
        #expect(await door.state().doorOpen == true)
        #expect(await events.waitFor { if case .heldOpen = $0 { true } else { false } } != nil)
        #expect(!events.kinds.contains(.forcedOpen))
        await door.shutdown()
    }
}
