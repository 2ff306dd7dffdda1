// The whole agent on the VM's kernel devices (v4l2loopback, gpio-sim) against aidee-sim on the host.
import Foundation
import Imaging
import Logging
import Outbox
import TestSupport
import Testing

@testable import Camera
@testable import KioskCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The whole agent on real kernel devices, inside the project's VM (make test-hw): face frames
/// pushed into v4l2loopback → V4L2Camera → detector → libcurl → qemu's user network → aidee-sim on
/// the HOST → decision → libgpiod on gpio-sim, observed through gpio-sim's sysfs.
///
/// Only the kiosk side runs in the emulated guest: the server's dlib matching took ~9 s per
/// check-in there, which made the stage's time depend on the machine's emulation speed.
/// `scripts/vhw/run-hw-stage.sh` starts aidee-sim on the host's loopback with the account,
/// project, user and enrolled face (obama.jpg) prepared, and passes VHW_AIDEE_URL (the guest's
/// one reachable address, 10.0.2.100), VHW_AIDEE_CREDENTIALS (a 0600 file in the shared
/// project folder) and VHW_AIDEE_PROJECT; or VHW_AIDEE_ERROR when it could not.
enum EndToEndHardware {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var available: Bool {
        ["VHW_LOOPBACK_DEV", "VHW_GPIOCHIP", "VHW_GPIO_SIM_SYSFS"].allSatisfy { environment[$0] != nil }
            && environment["KIOSK_E2E_HARDWARE"] != "0" && TestAssets.available
    }

    /// The host's aidee-sim as the guest reaches it.
    struct Server {
        let url: String
        let credentialsFile: String
        let projectID: Int
    }

    struct ServerMissing: Error, CustomStringConvertible {
        let description: String
    }

    /// The server the stage prepared. Throws (the test fails, it is not skipped) when there is
    /// none: inside the VM a missing server is a broken stage, not a reason to test less.
    static func server() throws -> Server {
        if let error = environment["VHW_AIDEE_ERROR"] { throw ServerMissing(description: error) }
        guard let url = environment["VHW_AIDEE_URL"], let credentials = environment["VHW_AIDEE_CREDENTIALS"],
            let project = environment["VHW_AIDEE_PROJECT"].flatMap({ Int($0) })
        else {
            throw ServerMissing(
                description: """
                    no aidee-sim: VHW_AIDEE_URL, VHW_AIDEE_CREDENTIALS and VHW_AIDEE_PROJECT are set by \
                    scripts/vhw/run-hw-stage.sh (run this suite with VHW_HW_FILTER=EndToEndHardware scripts/vhw/run-hw-stage.sh)
                    """)
        }
        return Server(url: url, credentialsFile: credentials, projectID: project)
    }
}

@Suite(
    .serialized,
    .enabled(
        if: EndToEndHardware.available, "needs the VM harness (v4l2loopback + gpio-sim): run make test-hw; KIOSK_E2E_HARDWARE=0 skips it"))
struct EndToEndHardwareTests {
    static var environment: [String: String] { EndToEndHardware.environment }

    // The harness's line offsets (docs/TESTING.md).
    static let relay = 0, doorSensor = 4, exitButton = 5

    // 320×240 frames: a quarter of the pixels of 640×480 to decode, crop and encode in the
    // emulated guest. The detector works at 320 pixels wide either way (pipeline.detection_width).
    static let frameWidth = 320, frameHeight = 240

    static func value(_ offset: Int) -> Int {
        let path = "\(environment["VHW_GPIO_SIM_SYSFS"] ?? "")/sim_gpio\(offset)/value"
        return Int((try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
    }

    static func drive(_ offset: Int, high: Bool) throws {
        let path = "\(environment["VHW_GPIO_SIM_SYSFS"] ?? "")/sim_gpio\(offset)/pull"
        try (high ? "pull-up" : "pull-down").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Polls `condition` until it holds; the instant it did, or nil after `timeout`. Deadlines
    /// are generous on purpose (emulation speed differs several-fold between machines); a test
    /// passing early never waits for them.
    static func wait(
        timeout: Duration, every interval: Duration = .milliseconds(10),
        until condition: () async -> Bool
    ) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return .now }
            try? await Task.sleep(for: interval)
        }
        return nil
    }

    /// Polls a line until it reads `expected`; the instant it did, or nil.
    static func wait(_ offset: Int, for expected: Int, timeout: Duration) async -> ContinuousClock.Instant? {
        await wait(timeout: timeout) { value(offset) == expected }
    }

    /// One camera frame (JPEG, `frameWidth`×`frameHeight`) of a face-set picture: the rows
    /// `band` of it (all when nil), letterboxed into 4:3, not stretched: squeezing a portrait
    /// photo distorts the face until it no longer matches (seen: 9 no-match decisions), and
    /// cropping it tight puts the face at the edge. The band keeps the face as many pixels tall
    /// as it was in the former 640×480 frames, so the server's descriptor is as good.
    static func frame(_ path: String, band: Range<Int>? = nil) throws -> [UInt8] {
        var image = try ImageFile.decode([UInt8](Data(contentsOf: TestAssets.faceImage(path))), format: .rgb24)
        if let band {
            let rows = band.clamped(to: 0..<image.height)
            var cut = Image(width: image.width, height: rows.count, format: .rgb24, filledWith: 0)
            cut.pixels.replaceSubrange(
                0..<cut.pixels.count,
                with: image.pixels[(rows.lowerBound * image.stride)..<(rows.upperBound * image.stride)])
            image = cut
        }
        let (width, height) = (frameWidth, frameHeight)
        let scale = min(Double(width) / Double(image.width), Double(height) / Double(image.height))
        let w = max(1, Int(Double(image.width) * scale)), h = max(1, Int(Double(image.height) * scale))
        let fitted = try image.resized(width: w, height: h)
        var canvas = Image(width: width, height: height, format: .rgb24, filledWith: 0)
        let (x0, y0) = ((width - w) / 2, (height - h) / 2)
        for row in 0..<h {
            let from = row * fitted.stride, to = (y0 + row) * canvas.stride + x0 * 3
            canvas.pixels.replaceSubrange(to..<(to + fitted.stride), with: fitted.pixels[from..<(from + fitted.stride)])
        }
        return try JPEGEncoder().encode(canvas, quality: 90)
    }

    /// Granted check-ins the server recorded for the project (aidee-sim's admin route).
    static func checkIns(_ server: EndToEndHardware.Server) async throws -> Int {
        struct Body: Decodable {
            let check_ins: [Entry]
            struct Entry: Decodable { let id: Int }
        }
        guard let url = URL(string: "\(server.url)/_sim/projects/\(server.projectID)/check-ins") else {
            throw EndToEndHardware.ServerMissing(description: "VHW_AIDEE_URL '\(server.url)' is not a URL")
        }
        let (data, response) = try await URLSession.shared.data(from: url)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw EndToEndHardware.ServerMissing(description: "GET \(url) answered \(status)") }
        return try JSONDecoder().decode(Body.self, from: data).check_ins.count
    }

    /// The agent's status file ("state", "decisions"), written every `status.interval`.
    static func status(_ configuration: KioskConfiguration) -> String {
        (try? String(contentsOfFile: configuration.status.file, encoding: .utf8)) ?? "no status file"
    }

    /// The detector's time for the last frame, from the status file (nil before the first frame).
    static func detectorTime(_ configuration: KioskConfiguration) -> Duration? {
        guard let data = FileManager.default.contents(atPath: configuration.status.file),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let ms = object["detector_ms"] as? Double, ms > 0
        else { return nil }
        return .milliseconds(ms)
    }

    static func configuration(_ server: EndToEndHardware.Server, relayPulse: Duration) throws -> KioskConfiguration {
        let directory = try TestAssets.temporaryDirectory("kiosk-e2e")
        var c = KioskConfiguration()
        c.api.url = server.url
        c.api.projectID = server.projectID
        c.api.credentialsFile = server.credentialsFile
        // The host answers a check-in in well under a second; the margin is for a guest that
        // stalls for seconds when the host is busy.
        c.api.requestTimeout = .seconds(30)
        c.api.connectTimeout = .seconds(5)
        c.camera.device = environment["VHW_LOOPBACK_DEV"] ?? ""
        c.camera.width = frameWidth
        c.camera.height = frameHeight
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
        // A detection takes about a second per frame under emulation: give the selection time.
        c.pipeline.giveUpAfter = .seconds(20)
        // The deadline for a decision is a field setting for a real board; the emulated guest's
        // own share of a check-in (crop, encode, upload through qemu's user network) alone can
        // take longer, which would decide "offline" and retry, recording extra check-ins.
        c.pipeline.decisionDeadline = .seconds(20)
        // Absence is judged between analysed frames, and one frame takes the emulated guest 1-2 s
        // to analyse here (several-fold more on a slower machine), longer than the field value
        // (1.5 s): the gate would see an empty scene between two frames of a person standing
        // still and check them in again.
        c.pipeline.absenceToReset = .seconds(8)
        c.outbox.stateDirectory = directory.appendingPathComponent("state").path
        c.outbox.keyFile = "outbox.key"
        c.status.file = directory.appendingPathComponent("status.json").path
        // The tests read the detector's time and the failure reports from the status file.
        c.status.interval = .milliseconds(500)
        return c
    }

    /// Runs kioskd's agent in process while `body` runs, then stops it and waits until it has
    /// stopped, on every way out of `body`. An agent still analysing a frame when the test binary
    /// exits runs OpenCV while the process tears it down: on a slow machine (4 s a frame) the VM
    /// stage's binary passed every test and then died with SIGILL at exit.
    static func withAgent<T>(
        _ configuration: KioskConfiguration, _ body: (Task<Void, any Error>) async throws -> T
    ) async throws -> T {
        let run = Task { try await Self.agent(configuration).run() }
        return try await stoppingAfter(run) { try await body(run) }
    }

    static func agent(_ configuration: KioskConfiguration) -> KioskAgent {
        KioskAgent(
            configuration: configuration, logger: Logger.quiet,
            environment: [:])
    }

    @Test("an enrolled face opens the relay for the configured pulse; the exit button opens it; the door sensor ends a pulse early")
    func enrolledPersonExitButtonAndDoorSensor() async throws {
        let server = try EndToEndHardware.server()
        for offset in [Self.doorSensor, Self.exitButton] { try Self.drive(offset, high: false) }
        let configuration = try Self.configuration(server, relayPulse: .seconds(2))
        let checkInsBefore = try await Self.checkIns(server)
        // obama2.jpg is a 626×1200 portrait, face at rows 229-634: a band of 600 rows around it.
        let feeder = try LoopbackFeeder(
            device: configuration.camera.device, width: Self.frameWidth, height: Self.frameHeight,
            pixelFormat: .mjpeg, frame: Self.frame("images/facerec/obama2.jpg", band: 131..<731),
            framesPerSecond: 10)
        defer { feeder.stop() }
        try await Self.withAgent(configuration) { run in
            try await grantedVisit(configuration, run: run, server: server, checkInsBefore: checkInsBefore)
        }
    }

    private func grantedVisit(
        _ configuration: KioskConfiguration, run: Task<Void, any Error>, server: EndToEndHardware.Server, checkInsBefore: Int
    ) async throws {
        // Granted: the relay goes high for about the pulse, once.
        guard let high = await Self.wait(Self.relay, for: 1, timeout: .seconds(120)) else {
            run.cancel()
            let ended: String
            do {
                try await run.value
                ended = "kioskd ran until cancelled"
            } catch { ended = "kioskd stopped: \(error)" }
            Issue.record("the relay never went high for an enrolled face; \(ended); status: \(Self.status(configuration))")
            return
        }
        let low = try #require(await Self.wait(Self.relay, for: 0, timeout: .seconds(10)))
        let pulse = low - high
        #expect(pulse >= .milliseconds(1500) && pulse <= .milliseconds(3500), "pulse \(pulse)")

        // The person stays in view: no second grant. The gate reopens only once the scene has
        // been empty for absence_to_reset, so the relay is watched that long plus two analysed
        // frames (the detector's time per frame, from the status file): a "second grant" is an
        // event that must not happen, so this one wait has to run its length.
        let perFrame = Self.detectorTime(configuration) ?? .seconds(2)
        let again = await Self.wait(Self.relay, for: 1, timeout: configuration.pipeline.absenceToReset + perFrame * 2)
        #expect(again == nil, "a person standing at the door was let in twice; status: \(Self.status(configuration))")

        // The exit button opens the door locally.
        try Self.drive(Self.exitButton, high: true)
        let exitHigh = try #require(await Self.wait(Self.relay, for: 1, timeout: .seconds(5)), "the exit button did not open the door")
        try Self.drive(Self.exitButton, high: false)
        // The door opens during the pulse (the relay is high now): the relay drops early.
        try Self.drive(Self.doorSensor, high: true)
        let exitLow = try #require(await Self.wait(Self.relay, for: 0, timeout: .seconds(5)))
        #expect(exitLow - exitHigh < .milliseconds(1800), "the door sensor did not end the pulse early: \(exitLow - exitHigh)")
        try Self.drive(Self.doorSensor, high: false)

        run.cancel()
        _ = try? await run.value
        #expect(Self.value(Self.relay) == 0, "the relay must be low after stopping")
        // One check-in reached the server for the whole visit (the person was in view throughout).
        let checkIns = try await Self.checkIns(server) - checkInsBefore
        #expect(checkIns == 1, "\(checkIns) check-ins recorded by the server for one visit")
    }

    @Test("a stranger's face never moves the relay")
    func strangerKeepsTheDoorShut() async throws {
        let server = try EndToEndHardware.server()
        for offset in [Self.doorSensor, Self.exitButton] { try Self.drive(offset, high: false) }
        let configuration = try Self.configuration(server, relayPulse: .seconds(1))
        let checkInsBefore = try await Self.checkIns(server)
        let feeder = try LoopbackFeeder(
            device: configuration.camera.device, width: Self.frameWidth, height: Self.frameHeight,
            pixelFormat: .mjpeg, frame: Self.frame("images/mpl/grace_hopper.jpg"), framesPerSecond: 10)
        defer { feeder.stop() }
        var relayMoved = false
        let denied = try await Self.withAgent(configuration) { _ in
            // Wait for the denial in the journal, watching the relay the whole time.
            await Self.wait(timeout: .seconds(120), every: .milliseconds(250)) {
                if Self.value(Self.relay) != 0 { relayMoved = true }
                guard
                    let database = try? await OutboxDatabase.open(
                        OutboxConfiguration(
                            stateDirectory: configuration.outbox.stateDirectory, key: OutboxKeySource.none, createIfMissing: false,
                            recoverCorruption: false))
                else { return false }
                let entries = (try? await EventJournal(database: database).entries(kinds: [.decision])) ?? []
                database.close()
                return entries.contains { if case .decision(let d) = $0.event { return d.outcome == .noMatch } else { return false } }
            }
        }
        #expect(denied != nil, "no no-match decision was journaled; kioskd status: \(Self.status(configuration))")
        #expect(!relayMoved && Self.value(Self.relay) == 0, "the relay moved for a stranger")
        #expect(try await Self.checkIns(server) == checkInsBefore, "the server recorded a check-in for a stranger")
    }
}
