// DoorIO on a real GPIO chip: gpio-sim inside the project's VM harness (make test-hw).
// Outputs are observed through gpio-sim's sysfs `value`, inputs driven through its `pull`.
import Foundation
import TestSupport
import Testing

@testable import DoorIO

/// The simulated chip from the VM harness (docs/TESTING.md); nil on a host without it.
enum SimulatedGPIO {
    static var chip: String? { ProcessInfo.processInfo.environment["VHW_GPIOCHIP"] }
    static var sysfs: String? { ProcessInfo.processInfo.environment["VHW_GPIO_SIM_SYSFS"] }
    static var isAvailable: Bool { chip != nil && sysfs != nil }

    /// Offsets of the harness's lines.
    static let relay = 0, green = 1, red = 2, buzzer = 3, doorSensor = 4, exitButton = 5, tamper = 6

    /// The value the chip outputs on a line (what a relay board would see): 0 or 1.
    static func value(_ offset: Int) throws -> Int {
        let path = "\(sysfs ?? "")/sim_gpio\(offset)/value"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Drives an input as a switch would: `true` pulls the line up (high), `false` down.
    static func drive(_ offset: Int, high: Bool) throws {
        let path = "\(sysfs ?? "")/sim_gpio\(offset)/pull"
        try (high ? "pull-up" : "pull-down").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Puts every input back to the harness's starting state (pull-down).
    static func resetInputs() {
        for offset in [doorSensor, exitButton, tamper] { try? drive(offset, high: false) }
    }

    /// Polls a line's value every 5 ms until it equals `expected`; returns when it did, or nil.
    static func waitForValue(_ offset: Int, _ expected: Int, timeout: Duration = .seconds(5)) async throws -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try value(offset) == expected { return .now }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// A configuration on the harness chip by line names; door sensor wired normally-open so the
    /// harness's pull-down start state reads "door closed".
    static func configuration(
        relayPulse: Duration = .milliseconds(600), debounce: Duration = .milliseconds(50),
        relayActiveLow: Bool = false
    ) -> DoorIOConfiguration {
        DoorIOConfiguration(
            backend: .gpiod, chip: chip ?? "", consumer: "kioskd-test",
            relay: GPIOOutputLine(.name("door-relay"), activeLow: relayActiveLow),
            ledGranted: GPIOOutputLine(.name("led-green")),
            ledDenied: GPIOOutputLine(.offset(UInt32(red))),
            buzzer: GPIOOutputLine(.name("buzzer")),
            doorSensor: GPIOInputLine(.name("door-sensor")),
            doorSensorWiring: .normallyOpen,
            exitButton: GPIOInputLine(.name("exit-button")),
            tamper: GPIOInputLine(.offset(UInt32(tamper))),
            relayPulse: relayPulse,
            heldOpenAlarmAfter: .seconds(30),
            debounce: debounce,
            feedbackDuration: .milliseconds(500))
    }
}

// Tolerances are wide on purpose: the VM is software-emulated (5-20x slower than the host).
@Suite(.serialized, .enabled(if: SimulatedGPIO.isAvailable, "needs the VM harness (gpio-sim): run make test-hw"))
struct GPIOHardwareTests {
    init() { SimulatedGPIO.resetInputs() }

    @Test func grantedPulseIsSeenOnTheRelayPinWithTheConfiguredLength() async throws {
        let door = DoorController(configuration: SimulatedGPIO.configuration(relayPulse: .milliseconds(600)), logger: .quiet)
        try await door.start()
        #expect(try SimulatedGPIO.value(SimulatedGPIO.relay) == 0, "relay de-energised at start")
        await door.signal(.granted())
        let on = try #require(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 1))
        #expect(try SimulatedGPIO.value(SimulatedGPIO.green) == 1)
        let off = try #require(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 0))
        let length = (off - on).ms
        #expect(length > 450 && length < 1200, "relay pin high for \(length) ms, configured 600 ms")
        await door.shutdown()
    }

    @Test func activeLowRelayIdlesHighAndPulsesLow() async throws {
        let door = DoorController(
            configuration: SimulatedGPIO.configuration(relayPulse: .milliseconds(300), relayActiveLow: true), logger: .quiet)
        try await door.start()
        #expect(try SimulatedGPIO.value(SimulatedGPIO.relay) == 1, "active-low relay: inactive = pin high")
        await door.signal(.granted())
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 0) != nil)
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 1) != nil)
        await door.shutdown()
    }

    @Test func doorSensorEdgeEndsThePulseEarly() async throws {
        let door = DoorController(configuration: SimulatedGPIO.configuration(relayPulse: .seconds(5)), logger: .quiet)
        try await door.start()
        let events = EventRecorder(door.events)
        await door.signal(.granted())
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 1) != nil)
        let opened = ContinuousClock.now
        try SimulatedGPIO.drive(SimulatedGPIO.doorSensor, high: true)
        let off = try #require(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 0, timeout: .seconds(3)))
        #expect((off - opened).ms < 2000, "relay cut \((off - opened).ms) ms after the door opened (pulse was 5 s)")
        #expect(await events.waitFor { $0 == .doorOpened(authorised: true) } != nil)
        #expect(events.kinds.contains(.pulseEnded(early: true)))
        try SimulatedGPIO.drive(SimulatedGPIO.doorSensor, high: false)
        #expect(await events.waitFor { $0 == .doorClosed } != nil)
        await door.shutdown()
    }

    @Test func forcedOpenSoundsTheBuzzer() async throws {
        let door = DoorController(configuration: SimulatedGPIO.configuration(), logger: .quiet)
        try await door.start()
        let events = EventRecorder(door.events)
        try SimulatedGPIO.drive(SimulatedGPIO.doorSensor, high: true)
        #expect(await events.waitFor { $0 == .forcedOpen } != nil)
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.buzzer, 1) != nil)
        try SimulatedGPIO.drive(SimulatedGPIO.doorSensor, high: false)
        #expect(await events.waitFor { $0 == .doorClosed } != nil)
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.buzzer, 0) != nil)
        await door.shutdown()
    }

    @Test func exitButtonOpensTheDoor() async throws {
        let door = DoorController(configuration: SimulatedGPIO.configuration(relayPulse: .milliseconds(500)), logger: .quiet)
        try await door.start()
        let events = EventRecorder(door.events)
        try SimulatedGPIO.drive(SimulatedGPIO.exitButton, high: true)
        #expect(await events.waitFor { $0 == .exitButtonPressed } != nil)
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 1) != nil)
        try SimulatedGPIO.drive(SimulatedGPIO.exitButton, high: false)
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 0) != nil)
        await door.shutdown()
    }

    @Test func glitchShorterThanDebounceIsIgnoredAndAHeldPressCounts() async throws {
        let door = DoorController(configuration: SimulatedGPIO.configuration(debounce: .milliseconds(400)), logger: .quiet)
        try await door.start()
        let events = EventRecorder(door.events)
        try SimulatedGPIO.drive(SimulatedGPIO.tamper, high: true)
        try SimulatedGPIO.drive(SimulatedGPIO.tamper, high: false)  // a glitch of well under 400 ms
        try await Task.sleep(for: .milliseconds(900))
        #expect(!events.kinds.contains(.tamper(active: true)), "glitch passed the debounce")
        let pressed = ContinuousClock.now
        try SimulatedGPIO.drive(SimulatedGPIO.tamper, high: true)
        let event = try #require(await events.waitFor(.seconds(5)) { $0 == .tamper(active: true) })
        let delay = (event.instant - pressed).ms
        #expect(delay >= 350 && delay < 2500, "tamper reported \(delay) ms after the edge, debounce 400 ms")
        try SimulatedGPIO.drive(SimulatedGPIO.tamper, high: false)
        #expect(await events.waitFor(.seconds(5)) { $0 == .tamper(active: false) } != nil)
        await door.shutdown()
    }

    @Test func shutdownLeavesRelayOffAndLinesFree() async throws {
        let door = DoorController(configuration: SimulatedGPIO.configuration(relayPulse: .seconds(10)), logger: .quiet)
        try await door.start()
        await door.signal(.offline)
        await door.signal(.granted())
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 1) != nil)
        let held = try GPIOInventory.chip(SimulatedGPIO.chip ?? "")
        #expect(held.lines[SimulatedGPIO.relay].consumer == "kioskd-test")
        await door.shutdown()
        #expect(try SimulatedGPIO.value(SimulatedGPIO.relay) == 0)
        #expect(try SimulatedGPIO.value(SimulatedGPIO.green) == 0)
        let info = try GPIOInventory.chip(SimulatedGPIO.chip ?? "")
        for offset in 0...6 {
            #expect(info.lines[offset].consumer == nil, "line \(offset) still held by \(info.lines[offset].consumer ?? "?")")
        }
    }

    /// What docs/DOORIO.md promises about a crash: the kernel releases the lines of a dead
    /// process. gpio-sim then returns the pin to its pull (here pull-down: relay off); real
    /// controllers differ, which is why the wiring must make "undriven" safe.
    @Test func killedProcessReleasesTheRelayLine() async throws {
        let tool = "/usr/bin/gpioset"
        try #require(FileManager.default.isExecutableFile(atPath: tool), "gpioset (Debian package gpiod) is needed")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: tool)
        holder.arguments = ["--mode=signal", SimulatedGPIO.chip ?? "", "\(SimulatedGPIO.relay)=1"]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        #expect(try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 1) != nil, "gpioset drove the relay")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(
            try await SimulatedGPIO.waitForValue(SimulatedGPIO.relay, 0, timeout: .seconds(3)) != nil,
            "the relay pin returned to its pull after the holder died")
        let info = try GPIOInventory.chip(SimulatedGPIO.chip ?? "")
        #expect(info.lines[SimulatedGPIO.relay].consumer == nil)
    }

    @Test func busyLineNamesItsHolder() async throws {
        let other = try GPIOHeldOutput(
            chip: SimulatedGPIO.chip ?? "", line: GPIOOutputLine(.name("door-relay")),
            consumer: "other-tool", active: false)
        defer { other.release() }
        let door = DoorController(configuration: SimulatedGPIO.configuration(), logger: .quiet)
        var caught: DoorIOError?
        do { try await door.start() } catch { caught = error }
        let error = try #require(caught, "start succeeded on a busy line")
        if case .lineBusy(_, let line, let consumer) = error {
            #expect(consumer == "other-tool")
            #expect(line.role == "relay")
            #expect(error.description.contains("other-tool"))
        } else {
            Issue.record("wrong error: \(error)")
        }
        // Nothing else stays requested after the failed start.
        let info = try GPIOInventory.chip(SimulatedGPIO.chip ?? "")
        #expect(info.lines.filter { $0.consumer == "kioskd-test" }.isEmpty)
    }

    @Test func missingLineListsTheNamedLines() async throws {
        var configuration = SimulatedGPIO.configuration()
        configuration.buzzer = GPIOOutputLine(.name("no-such-line"))
        let door = DoorController(configuration: configuration, logger: .quiet)
        await #expect {
            try await door.start()
        } throws: { error in
            guard let error = error as? DoorIOError, case .lineNotFound(_, _, let role, let count, let available) = error else {
                return false
            }
            return role == "buzzer" && count == 8 && available.contains("door-relay (0)")
        }
        let info = try GPIOInventory.chip(SimulatedGPIO.chip ?? "")
        #expect(info.lines.filter { $0.consumer == "kioskd-test" }.isEmpty, "the lines requested before the failure were released")
    }

    @Test func missingChipListsThePresentChips() throws {
        #expect {
            _ = try GPIOHeldOutput(chip: "no-such-chip", line: GPIOOutputLine(.offset(0)), consumer: "t", active: false)
        } throws: { error in
            guard let error = error as? DoorIOError, case .chipNotFound(_, _, let available) = error else { return false }
            return available.contains { $0.contains(SimulatedGPIO.chip.map { String($0.split(separator: "/").last ?? "") } ?? "?") }
        }
    }

    @Test func watcherReportsRawEdgesWithLevels() async throws {
        let watcher = try GPIODLineWatcher(
            chip: SimulatedGPIO.chip ?? "", lines: ["exit": GPIOInputLine(.name("exit-button"))], consumer: "watch-test")
        #expect(watcher.initialLevels["exit"] == false)
        try SimulatedGPIO.drive(SimulatedGPIO.exitButton, high: true)
        try await Task.sleep(for: .milliseconds(100))
        try SimulatedGPIO.drive(SimulatedGPIO.exitButton, high: false)
        var levels: [Bool] = []
        for await report in watcher.edges {
            if case .edge(_, let active, _) = report { levels.append(active) }
            if levels.count == 2 { break }
        }
        #expect(levels == [true, false])
        await watcher.stop()
    }

    @Test func droppedWatcherStillReleasesItsLines() async throws {
        let chip = SimulatedGPIO.chip ?? ""
        do {
            let watcher = try GPIODLineWatcher(chip: chip, lines: ["tamper": GPIOInputLine(.name("tamper"))], consumer: "dropped-watcher")
            #expect(watcher.initialLevels["tamper"] == false)
            #expect(try GPIOInventory.chip(chip).lines[SimulatedGPIO.tamper].consumer == "dropped-watcher")
        }
        #expect(
            await waitUntil { (try? GPIOInventory.chip(chip).lines[SimulatedGPIO.tamper].consumer) == .some(nil) },
            "the watching thread ended and released the line")
    }

    @Test func inventoryShowsTheHarnessLines() throws {
        let info = try GPIOInventory.chip(SimulatedGPIO.chip ?? "")
        #expect(info.lines.count == 8)
        #expect(
            info.lines.prefix(7).map(\.name) == ["door-relay", "led-green", "led-red", "buzzer", "door-sensor", "exit-button", "tamper"])
    }
}
