// The door's logic: relay pulses, LED and buzzer patterns, debounced inputs, alarms, events.
package import Logging

/// Drives a door: relay, LEDs and buzzer from the pipeline's signals, and door sensor, exit
/// button and tamper switch into events.
///
/// Everything time-based (pulses, blinking, debounce, held-open alarm) runs in tasks on the
/// actor's own clock, so `signal(_:)` returns at once and never blocks the pipeline. Edges are
/// read on a dedicated thread by the backend and arrive here in order.
///
/// ```swift
/// let door = DoorController(configuration: config, logger: logger)
/// try await door.start()
/// Task { for await event in door.events { journal.record(event) } }
/// await door.signal(.granted())
/// await door.shutdown()   // relay de-energised, LEDs off, lines released
/// ```
package actor DoorController {
    /// Door events, in order. One consumer; the newest 256 are kept if nobody reads.
    package nonisolated let events: AsyncStream<DoorEvent>
    /// The backend's description, for logs and status.
    package nonisolated let backendSummary: String

    private let configuration: DoorIOConfiguration
    private let backend: any GPIOBackend
    private let clock: any DoorClock
    private let logger: Logger
    private let continuation: AsyncStream<DoorEvent>.Continuation

    private var running = false
    private var outputs: [DoorOutputRole: any GPIOOutput] = [:]
    private var monitor: (any GPIOInputMonitor)?
    private var inputTask: Task<Void, Never>?

    // Outputs: what each is doing, and the task playing its pattern.
    private var patterns: [DoorOutputRole: OutputPattern] = [:]
    private var patternTasks: [DoorOutputRole: Task<Void, Never>] = [:]
    private var levels: [DoorOutputRole: Bool] = [:]

    // Inputs: debounced levels, the latest raw level, and the pending debounce timers.
    private var stableInputs: [DoorInputRole: Bool] = [:]
    private var rawInputs: [DoorInputRole: Bool] = [:]
    private var debounceTasks: [DoorInputRole: Task<Void, Never>] = [:]
    private var debounceIDs: [DoorInputRole: Int] = [:]

    // Door state.
    private var doorOpen: Bool?
    private var pulse: Pulse?
    private var authorisedUntil: ContinuousClock.Instant?
    private var heldOpenTask: Task<Void, Never>?
    private var heldOpenID = 0
    private var alarms: Set<DoorAlarm> = []
    private var status: DoorStatus = .none
    /// The offline queue cannot store (failing card): the fault LED says so, whatever the status.
    private var queueFault = false
    private var feedback: Feedback?
    private var feedbackTask: Task<Void, Never>?
    private var feedbackID = 0

    // Panel output: the Wiegand sender, and the panel's LED line as last debounced.
    private var transmitter: WiegandTransmitter?
    private var panelLEDActive = false

    // Every timer carries the identity of what it times: cancelling its task does not stop a
    // sleep that already ended, so a stale wake-up arrives after a newer pulse or feedback
    // started, and must end only its own.
    private var nextTimerID = 0
    /// Wake-ups of timers whose pulse, feedback, debounce or alarm had been replaced (ignored),
    /// by kind: `pulse`, `feedback`, `debounce`, `held-open`.
    private(set) var staleTimerWakeups: [String: Int] = [:]

    private struct Pulse {
        var id: Int
        var reason: DoorOpenReason
        var holdUntilOpen: Bool
        var task: Task<Void, Never>
    }

    private enum Feedback: Equatable { case granted, denied, onePersonAtATime, checking, awaitingPanel }

    /// The green/red feedback for a grant follows the panel's LED line.
    private var followsPanel: Bool {
        configuration.grantOutput == .panel && (configuration.panelLED != nil || configuration.panelFeedbackOverLink)
    }
    /// Whether the panel, not this controller, sounds the grant and deny beeps.
    private var panelBeeps: Bool { configuration.panelBeeper != nil || configuration.panelFeedbackOverLink }

    /// Creates a controller; nothing is requested until `start()`.
    /// - Parameters:
    ///   - configuration: lines and timing.
    ///   - backend: the lines to drive; by default the one the configuration names.
    ///   - clock: where time is read and waited for (tests pass a manual one).
    ///   - logger: where transitions and problems are logged (never images or secrets).
    package init(
        configuration: DoorIOConfiguration, backend: (any GPIOBackend)? = nil,
        clock: any DoorClock = SystemDoorClock(), logger: Logger
    ) {
        self.configuration = configuration
        let backend = backend ?? configuration.makeBackend()
        self.backend = backend
        self.clock = clock
        self.backendSummary = backend.summary
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: DoorEvent.self, bufferingPolicy: .bufferingNewest(256))
    }

    // MARK: Lifecycle

    /// Requests the lines (outputs inactive), reads the inputs and starts watching them.
    /// On any error nothing stays requested.
    package func start() throws(DoorIOError) {
        guard !running else { return }
        try configuration.validate()
        outputs = try backend.requestOutputs(configuration.outputs, consumer: configuration.consumer)
        for role in outputs.keys {
            levels[role] = false
            patterns[role] = .off
        }
        if let wiegand = configuration.wiegand, let d0 = outputs[.wiegandD0], let d1 = outputs[.wiegandD1] {
            transmitter = WiegandTransmitter(d0: d0, d1: d1, timing: wiegand.timing)
        }
        let inputs = configuration.inputs
        if !inputs.isEmpty {
            do throws(DoorIOError) {
                let monitor = try backend.monitorInputs(inputs, consumer: configuration.consumer)
                self.monitor = monitor
                stableInputs = monitor.initialLevels
                rawInputs = monitor.initialLevels
                inputTask = Task { [weak self] in
                    for await report in monitor.reports {
                        guard let self else { return }
                        await self.handle(report)
                    }
                }
            } catch {
                safeState()
                backend.releaseOutputs()
                outputs = [:]
                throw error
            }
        }
        running = true
        panelLEDActive = stableInputs[.panelLED] ?? false
        if inputs[.doorSensor] != nil, let level = stableInputs[.doorSensor] {
            doorOpen = doorIsOpen(sensorActive: level)
            // A door already open at start is not "forced", but it may still be held open.
            if doorOpen == true { startHeldOpenTimer() }
        }
        logger.info(
            "door I/O started",
            metadata: [
                "door.backend": "\(backendSummary)",
                "door.outputs": "\(outputs.keys.map(\.rawValue).sorted().joined(separator: ","))",
                "door.inputs": "\(inputs.keys.map(\.rawValue).sorted().joined(separator: ","))",
                "door.open": "\(doorOpen.map { "\($0)" } ?? "unknown")",
            ])
    }

    /// Puts the door in its safe state (relay de-energised, LEDs and buzzer off), releases the
    /// lines and ends `events`. Safe to call more than once.
    package func shutdown() async {
        guard running || !outputs.isEmpty else {
            continuation.finish()
            return
        }
        running = false
        cancelTimers()
        safeState()
        backend.releaseOutputs()
        outputs = [:]
        transmitter = nil
        inputTask?.cancel()
        inputTask = nil
        if let monitor {
            self.monitor = nil
            await monitor.stop()
        }
        logger.info("door I/O stopped: relay de-energised, LEDs off, lines released")
        continuation.finish()
    }

    // MARK: Signals

    /// Shows a decision or a state on the door. Returns at once; patterns run on their own.
    package func signal(_ signal: DoorSignal) {
        guard running else {
            logger.warning("door signal ignored: controller not running", metadata: ["door.signal": "\(signal)"])
            return
        }
        switch signal {
        case .granted(let length):
            startPulse(reason: .granted, length: length ?? configuration.relayPulse)
            if followsPanel {
                // The panel decides: its LED line turns the green on, or its silence the red.
                setFeedback(.awaitingPanel, for: configuration.feedbackDuration)
            } else {
                setFeedback(.granted, for: configuration.feedbackDuration)
            }
            if !panelBeeps { playBuzzer(.shortBeep) }
        case .denied(let reason):
            logger.debug("door: denied", metadata: ["door.reason": "\(reason)"])
            setFeedback(.denied, for: configuration.feedbackDuration)
            if !panelBeeps { playBuzzer(.tripleBeep) }
        case .onePersonAtATime:
            setFeedback(.onePersonAtATime, for: configuration.feedbackDuration)
            playBuzzer(.shortBeep)
        case .checking:
            // Bounded, so a lost answer never leaves the LED blinking for ever.
            setFeedback(.checking, for: .seconds(15))
        case .idle:
            status = .idle
            if feedback == .checking { clearFeedback() }
        case .offline:
            status = .offline
        case .fault:
            status = .fault
        }
        render()
    }

    /// The panel's reader LED over a serial link (OSDP's osdp_LED): green on or off, as the
    /// panel LED line does with Wiegand. Ignored unless `panelFeedbackOverLink` is set.
    package func panelIndication(green: Bool) {
        guard running, configuration.panelFeedbackOverLink else { return }
        panelLEDActive = green
        if green && feedback == .awaitingPanel { clearFeedback() }
        render()
    }

    /// The panel's buzzer command over a serial link (OSDP's osdp_BUZ): `count` beeps of `on`
    /// with `off` between them, or a steady tone (`count` 0) until a silent command.
    package func panelBuzzer(on: Duration, off: Duration, count: Int) {
        guard running, configuration.panelFeedbackOverLink else { return }
        guard on > .zero else {
            if patterns[.buzzer] != .alarm { apply(.buzzer, .off) }
            return
        }
        guard count > 0 else {
            playBuzzer(.on)
            return
        }
        var steps: [OutputPattern.Step] = []
        for index in 0..<min(count, 20) {
            steps.append(OutputPattern.Step(active: true, duration: on))
            if index < count - 1 { steps.append(OutputPattern.Step(active: false, duration: max(off, .milliseconds(50)))) }
        }
        playBuzzer(.once(steps))
    }

    /// Sends a credential frame to the panel on the Wiegand lines (most significant bit first)
    /// and returns when the last pulse has ended, with the sender's own timing measurements.
    package func sendCredential(_ frame: [Bool]) async throws(DoorIOError) -> WiegandSendReport {
        guard running else { throw .notRunning(operation: "send a Wiegand frame") }
        guard let transmitter else { throw .roleNotConfigured(role: "wiegand (d0 and d1 lines)") }
        let report = try await transmitter.send(frame)
        emit(.credentialSent(bits: frame.count))
        logger.debug(
            "door: Wiegand frame sent",
            metadata: [
                "wiegand.bits": "\(frame.count)",
                "wiegand.pulse_us": "\(Int(report.pulseWidth.lowerBound))-\(Int(report.pulseWidth.upperBound))",
                "wiegand.interval_us": "\(Int(report.interval.lowerBound))-\(Int(report.interval.upperBound))",
            ])
        return report
    }

    /// Whether a grant is open: granted and not yet ended by its pulse length, the door opening
    /// or (turnstile) the passage input. The pipeline's tailgating check reads it.
    package func isGrantOpen() -> Bool { running && pulse?.reason == .granted }

    /// Shows on the fault LED (steady) that check-ins cannot be queued: the state card is full,
    /// read-only or failing. The door keeps deciding; a technician is needed.
    package func setQueueFault(_ active: Bool) {
        guard queueFault != active else { return }
        queueFault = active
        render()
    }

    /// A snapshot of the door, for status pages and tests.
    package func state() -> DoorState {
        DoorState(
            running: running, relayEnergised: levels[.relay] ?? false, doorOpen: doorOpen,
            inputs: stableInputs, outputs: levels, alarms: alarms, status: status)
    }

    // MARK: Relay

    private func timerID() -> Int {
        nextTimerID += 1
        return nextTimerID
    }

    private func startPulse(reason: DoorOpenReason, length: Duration) {
        pulse?.task.cancel()
        let hold = reason == .granted && configuration.holdUntilOpen != nil && doorOpen != true
        let limit = hold ? (configuration.holdUntilOpen ?? length) : length
        authorisedUntil = clock.now + limit + configuration.openGrace
        // With a panel, the panel drives the lock: the pulse is only the grant's window.
        if configuration.grantOutput == .relay || reason != .granted { drive(.relay, true) }
        emit(.pulseStarted(reason: reason, length: limit))
        logger.info("door: relay energised", metadata: ["door.reason": "\(reason.rawValue)", "door.pulse_ms": "\(limit.milliseconds)"])
        let id = timerID()
        let deadline = clock.now + limit
        let task = Task { [weak self, clock] in
            do { try await clock.sleep(until: deadline) } catch { return }
            await self?.pulseElapsed(id)
        }
        pulse = Pulse(id: id, reason: reason, holdUntilOpen: hold, task: task)
    }

    private func pulseElapsed(_ id: Int) {
        guard pulse?.id == id else {
            staleTimerWakeups["pulse", default: 0] += 1
            return
        }
        endPulse(early: false)
    }

    private func endPulse(early: Bool) {
        guard let current = pulse else { return }
        current.task.cancel()
        pulse = nil
        drive(.relay, false)
        emit(.pulseEnded(early: early))
    }

    // MARK: Inputs

    private func handle(_ report: GPIOInputReport) {
        guard running else { return }
        switch report {
        case .edge(let role, let active, _):
            rawInputs[role] = active
            debounceTasks[role]?.cancel()
            if configuration.debounce == .zero {
                commit(role)
            } else {
                let wait = configuration.debounce
                let id = timerID()
                debounceIDs[role] = id
                let deadline = clock.now + wait
                debounceTasks[role] = Task { [weak self, clock] in
                    do { try await clock.sleep(until: deadline) } catch { return }
                    await self?.debounceElapsed(role, id)
                }
            }
        case .failure(let error):
            logger.error("door inputs no longer watched", metadata: ["door.error": "\(error)"])
            emit(.inputFailure(error.description))
            alarms.insert(.inputFailure)
            render()
        }
    }

    private func debounceElapsed(_ role: DoorInputRole, _ id: Int) {
        guard debounceIDs[role] == id else {
            staleTimerWakeups["debounce", default: 0] += 1
            return
        }
        debounceIDs[role] = nil
        commit(role)
    }

    /// The raw level held still for the debounce time: take it if it is a change.
    private func commit(_ role: DoorInputRole) {
        debounceTasks[role] = nil
        guard running, let level = rawInputs[role], level != stableInputs[role] else { return }
        stableInputs[role] = level
        switch role {
        case .doorSensor: doorChanged(open: doorIsOpen(sensorActive: level))
        case .exitButton:
            if level {
                emit(.exitButtonPressed)
                logger.info("door: exit button pressed")
                startPulse(reason: .exitButton, length: configuration.relayPulse)
            }
        case .panelLED:
            panelLEDActive = level
            if level && feedback == .awaitingPanel { clearFeedback() }
        case .panelBeeper:
            if level {
                playBuzzer(.on)
            } else if patterns[.buzzer] == .on {
                apply(.buzzer, .off)
            }
        case .passage:
            if level {
                let granted = pulse?.reason == .granted
                emit(.passage(duringGrant: granted))
                logger.info("door: passage", metadata: ["door.during_grant": "\(granted)"])
                // One grant, one person: the passage closes a turnstile's grant.
                if granted && configuration.kind == .turnstile { endPulse(early: true) }
            }
        case .tamper:
            emit(.tamper(active: level))
            if level {
                logger.warning("door: tamper switch active (enclosure open)")
                alarms.insert(.tamper)
            } else {
                logger.notice("door: tamper switch cleared")
                alarms.remove(.tamper)
            }
        }
        render()
    }

    private func doorIsOpen(sensorActive: Bool) -> Bool {
        switch configuration.doorSensorWiring {
        case .normallyClosed: !sensorActive
        case .normallyOpen: sensorActive
        }
    }

    private func doorChanged(open: Bool) {
        guard open != doorOpen else { return }
        doorOpen = open
        if open {
            let authorised = pulse != nil || (authorisedUntil.map { clock.now <= $0 } ?? false)
            authorisedUntil = nil  // one opening per grant
            emit(.doorOpened(authorised: authorised))
            if !authorised {
                emit(.forcedOpen)
                logger.warning("door: forced open (no grant or exit request)")
                alarms.insert(.forcedOpen)
            }
            if let current = pulse, configuration.endPulseWhenDoorOpens || current.holdUntilOpen {
                endPulse(early: true)
            }
            startHeldOpenTimer()
        } else {
            heldOpenTask?.cancel()
            heldOpenTask = nil
            heldOpenID = 0
            alarms.remove(.heldOpen)
            alarms.remove(.forcedOpen)
            emit(.doorClosed)
        }
    }

    private func startHeldOpenTimer() {
        heldOpenTask?.cancel()
        let after = configuration.heldOpenAlarmAfter
        let id = timerID()
        heldOpenID = id
        let deadline = clock.now + after
        heldOpenTask = Task { [weak self, clock] in
            do { try await clock.sleep(until: deadline) } catch { return }
            await self?.heldOpenElapsed(id)
        }
    }

    private func heldOpenElapsed(_ id: Int) {
        guard heldOpenID == id else {
            staleTimerWakeups["held-open", default: 0] += 1
            return
        }
        heldOpenTask = nil
        guard running, doorOpen == true else { return }
        alarms.insert(.heldOpen)
        emit(.heldOpen(after: configuration.heldOpenAlarmAfter))
        logger.warning("door: held open", metadata: ["door.after_ms": "\(configuration.heldOpenAlarmAfter.milliseconds)"])
        render()
    }

    // MARK: LEDs and buzzer

    private func setFeedback(_ value: Feedback, for duration: Duration) {
        feedbackTask?.cancel()
        feedback = value
        let id = timerID()
        feedbackID = id
        let deadline = clock.now + duration
        feedbackTask = Task { [weak self, clock] in
            do { try await clock.sleep(until: deadline) } catch { return }
            await self?.feedbackElapsed(id)
        }
    }

    private func feedbackElapsed(_ id: Int) {
        guard feedbackID == id else {
            staleTimerWakeups["feedback", default: 0] += 1
            return
        }
        feedbackTask = nil
        if feedback == .awaitingPanel {
            logger.info("door: the panel did not show a grant in time; showing denied")
            setFeedback(.denied, for: configuration.feedbackDuration)
        } else {
            feedback = nil
        }
        render()
    }

    private func clearFeedback() {
        feedbackTask?.cancel()
        feedbackTask = nil
        feedbackID = 0
        feedback = nil
    }

    /// Works out what each LED (and the alarm buzzer) should show from status, feedback and alarms.
    private func render() {
        guard running else { return }
        let alarm = !alarms.isEmpty
        let green = followsPanel ? panelLEDActive : feedback == .granted
        apply(.ledGranted, green ? .on : .off)
        apply(
            .ledDenied,
            feedback == .denied
                ? .on
                : feedback == .onePersonAtATime
                    ? .fastBlink
                    : alarm ? .alarm : .off)
        // A queue that cannot store needs a technician even while offline (steady beats blinking).
        apply(
            .ledFault,
            queueFault ? .on : status == .offline ? .slowBlink : status == .fault || alarms.contains(.inputFailure) ? .on : .off)
        apply(
            .ledIdle,
            feedback == .checking || feedback == .awaitingPanel
                ? .fastBlink
                : status == .idle && feedback == nil && !alarm ? .on : .off)
        let alarmSound = alarms.contains(.forcedOpen) || alarms.contains(.heldOpen) || alarms.contains(.tamper)
        if alarmSound {
            apply(.buzzer, .alarm)
        } else if patterns[.buzzer] == .alarm {
            apply(.buzzer, .off)
        }
    }

    /// One-shot buzzer patterns give way to a running alarm.
    private func playBuzzer(_ pattern: OutputPattern) {
        if patterns[.buzzer] == .alarm { return }
        apply(.buzzer, pattern)
    }

    private func apply(_ role: DoorOutputRole, _ pattern: OutputPattern) {
        guard outputs[role] != nil else { return }
        if pattern.isPersistent && patterns[role] == pattern { return }
        patternTasks[role]?.cancel()
        patternTasks[role] = nil
        patterns[role] = pattern
        switch pattern {
        case .off: drive(role, false)
        case .on: drive(role, true)
        case .blink(let on, let off):
            drive(role, true)
            var next = clock.now
            patternTasks[role] = Task { [weak self, clock] in
                var active = true
                while !Task.isCancelled {
                    next += active ? on : off
                    do { try await clock.sleep(until: next) } catch { return }
                    active.toggle()
                    guard let self, await self.step(role, active) else { return }
                }
            }
        case .once(let steps):
            var next = clock.now
            patternTasks[role] = Task { [weak self, clock] in
                for step in steps {
                    guard let self, await self.step(role, step.active) else { return }
                    next += step.duration
                    do { try await clock.sleep(until: next) } catch { return }
                }
                await self?.patternFinished(role)
            }
        }
    }

    /// A pattern step; false once the pattern was replaced (a replaced task must not write).
    private func step(_ role: DoorOutputRole, _ active: Bool) -> Bool {
        guard running, !Task.isCancelled else { return false }
        drive(role, active)
        return true
    }

    private func patternFinished(_ role: DoorOutputRole) {
        guard running, !Task.isCancelled else { return }
        patternTasks[role] = nil
        patterns[role] = .off
        drive(role, false)
    }

    private func drive(_ role: DoorOutputRole, _ active: Bool) {
        guard let output = outputs[role], levels[role] != active else { return }
        do throws(DoorIOError) {
            try output.set(active: active)
            levels[role] = active
        } catch {
            logger.error("door output failed", metadata: ["door.output": "\(role.rawValue)", "door.error": "\(error)"])
            emit(.outputFailure(role: role, message: error.description))
        }
    }

    // MARK: Safe state

    private func cancelTimers() {
        pulse?.task.cancel()
        pulse = nil
        heldOpenTask?.cancel()
        heldOpenTask = nil
        feedbackTask?.cancel()
        feedbackTask = nil
        feedbackID = 0
        heldOpenID = 0
        debounceIDs = [:]
        for task in patternTasks.values { task.cancel() }
        patternTasks = [:]
        for task in debounceTasks.values { task.cancel() }
        debounceTasks = [:]
    }

    /// Relay first, then everything else, each attempted even if another fails.
    private func safeState() {
        let order = [DoorOutputRole.relay] + DoorOutputRole.allCases.filter { $0 != .relay }
        for role in order {
            guard let output = outputs[role] else { continue }
            do throws(DoorIOError) {
                try output.set(active: false)
                levels[role] = false
                patterns[role] = .off
            } catch {
                logger.critical(
                    "door: could not reach safe state", metadata: ["door.output": "\(role.rawValue)", "door.error": "\(error)"])
            }
        }
    }

    private func emit(_ kind: DoorEvent.Kind) {
        continuation.yield(DoorEvent(kind, at: clock.now))
    }
}

/// Conditions that keep the alarm pattern running.
package enum DoorAlarm: String, Sendable, Hashable, CaseIterable {
    /// Opened without a grant or exit request; clears when the door closes.
    case forcedOpen
    /// Open longer than `heldOpenAlarmAfter`; clears when the door closes.
    case heldOpen
    /// Enclosure open; clears when the tamper switch does.
    case tamper
    /// Inputs no longer watched (amber LED, no buzzer); clears on restart.
    case inputFailure
}

/// The standing status shown on the LEDs.
package enum DoorStatus: String, Sendable, Hashable {
    /// Nothing signalled yet.
    case none
    /// Ready (`DoorSignal.idle`).
    case idle
    /// Deciding by the offline policy (`DoorSignal.offline`).
    case offline
    /// Needs a technician (`DoorSignal.fault`).
    case fault
}

/// A snapshot of the door for status and tests.
package struct DoorState: Sendable, Hashable {
    /// Between `start()` and `shutdown()`.
    package var running: Bool
    /// The relay as last driven (true = energised, door released).
    package var relayEnergised: Bool
    /// nil without a door sensor.
    package var doorOpen: Bool?
    /// Debounced logical input levels.
    package var inputs: [DoorInputRole: Bool]
    /// Logical output levels as last driven.
    package var outputs: [DoorOutputRole: Bool]
    /// Conditions keeping the alarm pattern running.
    package var alarms: Set<DoorAlarm>
    /// The standing status on the LEDs.
    package var status: DoorStatus
}
