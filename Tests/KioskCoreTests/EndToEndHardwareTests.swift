import AiDeeSimulator
import Foundation
import Imaging
import Logging
import Outbox
import Testing
import TestSupport
@testable import Camera
@testable import KioskCore

/// The whole agent on real kernel devices, inside the project's VM (make test-hw): face frames
/// pushed into v4l2loopback → V4L2Camera → detector → libcurl → aidee-sim on the guest's
/// loopback → decision → libgpiod on gpio-sim, observed through gpio-sim's sysfs.
enum EndToEndHardware {
    static var available: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["VHW_LOOPBACK_DEV", "VHW_GPIOCHIP", "VHW_GPIO_SIM_SYSFS"].allSatisfy { env[$0] != nil }
            && env["KIOSK_E2E_HARDWARE"] != "0" && TestAssets.available
    }
}

@Suite(.serialized, .enabled(if: EndToEndHardware.available, "needs the VM harness (v4l2loopback + gpio-sim): run make test-hw; KIOSK_E2E_HARDWARE=0 skips it"))
struct EndToEndHardwareTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    // The harness's line offsets (docs/TESTING.md).
    static let relay = 0, doorSensor = 4, exitButton = 5

    static func value(_ offset: Int) -> Int {
        let path = "\(environment["VHW_GPIO_SIM_SYSFS"] ?? "")/sim_gpio\(offset)/value"
        return Int((try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
    }

    static func drive(_ offset: Int, high: Bool) throws {
        let path = "\(environment["VHW_GPIO_SIM_SYSFS"] ?? "")/sim_gpio\(offset)/pull"
        try (high ? "pull-up" : "pull-down").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Polls a line until it reads `expected`; the instant it did, or nil.
    static func wait(_ offset: Int, for expected: Int, timeout: Duration) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if value(offset) == expected { return .now }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// A 640×480 JPEG of a face-set picture: one camera frame. The picture is letterboxed into
    /// 4:3, not stretched: squeezing a portrait photo distorts the face until it no longer
    /// matches (seen: 9 no-match decisions), and cropping it tight puts the face at the edge.
    static func frame(_ path: String) throws -> [UInt8] {
        let image = try ImageFile.decode([UInt8](Data(contentsOf: TestAssets.faceImage(path))), format: .rgb24)
        let scale = min(640 / Double(image.width), 480 / Double(image.height))
        let w = max(1, Int(Double(image.width) * scale)), h = max(1, Int(Double(image.height) * scale))
        let fitted = try image.resized(width: w, height: h)
        var canvas = Image(width: 640, height: 480, format: .rgb24, filledWith: 0)
        let (x0, y0) = ((640 - w) / 2, (480 - h) / 2)
        for row in 0..<h {
            let from = row * fitted.stride, to = (y0 + row) * canvas.stride + x0 * 3
            canvas.pixels.replaceSubrange(to..<(to + fitted.stride), with: fitted.pixels[from..<(from + fitted.stride)])
        }
        return try JPEGEncoder().encode(canvas, quality: 90)
    }

    struct Door {
        let sim: AiDeeSimulatorServer
        let configuration: KioskConfiguration
    }

    static func site(relayPulse: Duration) async throws -> Door {
        let directory = try TestAssets.temporaryDirectory("kiosk-e2e")
        let sim = try await AiDeeSimulatorServer.start(SimulatorConfiguration(
            modelsDirectory: TestAssets.root.appendingPathComponent("models"),
            accounts: [.init(username: "kiosk", password: "pw")], projects: [.init(id: 1, name: "Door")]))
        let user = try await sim.createUser(projectID: 1, status: "APPROVED")
        _ = try await sim.enrollFace(projectID: 1, userID: user, image: [UInt8](Data(contentsOf: TestAssets.faceImage("images/facerec/obama.jpg"))))
        let (key, secret) = try await sim.issueCredentials(username: "kiosk", password: "pw")
        let credentials = directory.appendingPathComponent("credentials").path
        FileManager.default.createFile(atPath: credentials, contents: Data("key=\(key)\nsecret=\(secret)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        var c = KioskConfiguration()
        c.api.url = "http://127.0.0.1:\(sim.port)"
        c.api.credentialsFile = credentials
        // Software emulation: dlib matching in the guest takes seconds, not a fraction of one.
        c.api.requestTimeout = .seconds(90)
        c.api.connectTimeout = .seconds(5)
        c.camera.device = environment["VHW_LOOPBACK_DEV"] ?? ""
        c.camera.fps = 10
        c.camera.stallTimeout = .seconds(10)
        c.detection.model = TestAssets.yunetModel.path
        c.door.chip = environment["VHW_GPIOCHIP"] ?? ""
        c.door.relayLine = "door-relay"
        c.door.grantedLEDLine = "led-green"
        c.door.deniedLEDLine = "led-red"
        c.door.doorSensorLine = "door-sensor"
        c.door.exitButtonLine = "exit-button"
        c.door.doorSensorWiring = "normally_open"
        c.door.relayPulse = relayPulse
        c.pipeline.giveUpAfter = .seconds(20)
        c.outbox.stateDirectory = directory.appendingPathComponent("state").path
        c.outbox.keyFile = "outbox.key"
        c.status.file = directory.appendingPathComponent("status.json").path
        return Door(sim: sim, configuration: c)
    }

    static func agent(_ configuration: KioskConfiguration) -> KioskAgent {
        KioskAgent(configuration: configuration, logger: Logger(label: "e2e", factory: { _ in SwiftLogNoOpLogHandler() }),
                   environment: [:])
    }

    @Test("an enrolled face opens the relay for the configured pulse; the exit button opens it; the door sensor ends a pulse early")
    func enrolledPersonExitButtonAndDoorSensor() async throws {
        for offset in [Self.doorSensor, Self.exitButton] { try Self.drive(offset, high: false) }
        let door = try await Self.site(relayPulse: .seconds(2))
        defer { Task { await door.sim.shutdown() } }
        let feeder = try LoopbackFeeder(device: door.configuration.camera.device, width: 640, height: 480,
                                        pixelFormat: .mjpeg, frame: Self.frame("images/facerec/obama2.jpg"), framesPerSecond: 10)
        defer { feeder.stop() }
        let run = Task { try await Self.agent(door.configuration).run() }
        defer { run.cancel() }

        // Granted: the relay goes high for about the pulse, once.
        guard let high = await Self.wait(Self.relay, for: 1, timeout: .seconds(150)) else {
            let status = (try? String(contentsOfFile: door.configuration.status.file, encoding: .utf8)) ?? "no status file"
            run.cancel()
            let ended: String
            do { try await run.value; ended = "kioskd ran until cancelled" } catch { ended = "kioskd stopped: \(error)" }
            Issue.record("the relay never went high for an enrolled face; \(ended); status: \(status)")
            return
        }
        let low = try #require(await Self.wait(Self.relay, for: 0, timeout: .seconds(10)))
        let pulse = low - high
        #expect(pulse >= .milliseconds(1500) && pulse <= .milliseconds(3500), "pulse \(pulse)")
        #expect(try await door.sim.checkIns(projectID: 1).count == 1)

        // The person stays in view: no second grant.
        let again = await Self.wait(Self.relay, for: 1, timeout: .seconds(5))
        #expect(again == nil, "a person standing at the door was let in twice")

        // The exit button opens the door locally.
        try Self.drive(Self.exitButton, high: true)
        let exitHigh = try #require(await Self.wait(Self.relay, for: 1, timeout: .seconds(5)), "the exit button did not open the door")
        try Self.drive(Self.exitButton, high: false)
        // The door opens during the pulse: the relay drops early.
        try await Task.sleep(for: .milliseconds(300))
        try Self.drive(Self.doorSensor, high: true)
        let exitLow = try #require(await Self.wait(Self.relay, for: 0, timeout: .seconds(5)))
        #expect(exitLow - exitHigh < .milliseconds(1800), "the door sensor did not end the pulse early: \(exitLow - exitHigh)")
        try Self.drive(Self.doorSensor, high: false)

        run.cancel()
        _ = try? await run.value
        #expect(Self.value(Self.relay) == 0, "the relay must be low after stopping")
    }

    @Test("a stranger's face never moves the relay")
    func strangerKeepsTheDoorShut() async throws {
        for offset in [Self.doorSensor, Self.exitButton] { try Self.drive(offset, high: false) }
        let door = try await Self.site(relayPulse: .seconds(1))
        defer { Task { await door.sim.shutdown() } }
        let feeder = try LoopbackFeeder(device: door.configuration.camera.device, width: 640, height: 480,
                                        pixelFormat: .mjpeg, frame: Self.frame("images/mpl/grace_hopper.jpg"), framesPerSecond: 10)
        defer { feeder.stop() }
        let run = Task { try await Self.agent(door.configuration).run() }
        defer { run.cancel() }
        // Wait for the denial in the journal, watching the relay the whole time.
        let deadline = ContinuousClock.now + .seconds(150)
        var denied = false
        while ContinuousClock.now < deadline, !denied {
            #expect(Self.value(Self.relay) == 0)
            if let database = try? await OutboxDatabase.open(OutboxConfiguration(
                stateDirectory: door.configuration.outbox.stateDirectory, key: .none, createIfMissing: false, recoverCorruption: false)) {
                let entries = (try? await EventJournal(database: database).entries(kinds: [.decision])) ?? []
                database.close()
                denied = entries.contains { if case .decision(let d) = $0.event { return d.outcome == .noMatch } else { return false } }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(denied, "no no-match decision was journaled; kioskd status: \((try? String(contentsOfFile: door.configuration.status.file, encoding: .utf8)) ?? "no status file")")
        #expect(Self.value(Self.relay) == 0)
    }
}
