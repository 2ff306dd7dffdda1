// `kioskctl doctor` on the VM harness's devices: vivid camera and gpio-sim healthy, a missing camera, a busy line.
import DoorIO
import Foundation
import TestSupport
import Testing

@testable import KioskCLI

/// The VM harness's devices (docs/TESTING.md); nil on the host.
private enum DoctorHardware {
    static var camera: String? { ProcessInfo.processInfo.environment["VHW_VIDEO_DEV"] }
    static var chip: String? { ProcessInfo.processInfo.environment["VHW_GPIOCHIP_NAME"] }
    static var available: Bool { camera != nil && chip != nil }
}

/// Doctor's camera, detector and GPIO checks on real kernel devices: vivid (YUYV 640×480) and
/// gpio-sim with the harness's line names. Serialized: one camera, one chip.
@Suite(.serialized, .enabled(if: DoctorHardware.available, "needs the VM harness (vivid, gpio-sim): run make test-hw"))
struct DoctorHardwareTests {
    /// A configuration on the harness's camera and chip.
    static func fixture(device: String) throws -> DoctorFixture {
        let fixture = try DoctorFixture.make()
        try fixture.writeConfig(
            url: "http://127.0.0.1:9",
            door: """
                door:
                  backend: gpiod
                  chip: \(DoctorHardware.chip ?? "gpiochip0")
                  lines:
                    relay: door-relay
                    led_granted: led-green
                    door_sensor: door-sensor
                  active_low: [door_sensor]
                """,
            extra: """
                camera:
                  device: \(device)
                  width: 640
                  height: 480
                  fps: 30
                  format: yuyv
                  controls: ["brightness=128"]

                """)
        return fixture
    }

    @Test("healthy camera and GPIO: opens, YUYV 640x480, frames, controls, detector, lines free")
    func healthy() async throws {
        let fixture = try Self.fixture(device: try #require(DoctorHardware.camera))
        defer { fixture.remove() }
        let report = await fixture.run(["camera", "gpio"])
        #expect(report.status("config") == .ok, "\(report.text())")
        #expect(report.status("camera.open") == .ok, "\(report.text())")
        #expect(report.status("camera.format") == .ok, "\(report.text())")
        #expect(report.status("camera.rate") != .failed, "\(report.text())")
        #expect(report.status("camera.controls") == .ok, "\(report.text())")
        #expect(report.status("detector.model") == .ok, "\(report.text())")
        #expect(report.status("detector.sha256") == .ok, "\(report.text())")
        #expect(report.status("detector.live") == .ok, "\(report.text())")
        #expect(report.status("gpio.chip") == .ok, "\(report.text())")
        for id in ["gpio.relay", "gpio.led_granted", "gpio.door_sensor", "gpio.relay_idle"] {
            #expect(report.status(id) == .ok, "\(id): \(report.text())")
        }
        #expect(report.elapsedMilliseconds < 15_000)
    }

    @Test("a missing camera and a missing control are failures that say what to do")
    func missingCamera() async throws {
        let fixture = try Self.fixture(device: "/dev/video77")
        defer { fixture.remove() }
        let report = await fixture.run(["camera"])
        let open = try #require(report.result("camera.open"))
        #expect(open.status == .failed, "\(report.text())")
        #expect(open.finding.contains("/dev/video77") && open.fix.contains("kioskctl camera list"), "\(open)")
        #expect(report.status("detector.model") == .ok, "the detector is checked without a camera too")
        #expect(report.exitCode == 1)
    }

    @Test("a line held by another program is busy and names the holder; held by kioskd it is not broken")
    func busyLine() async throws {
        let chip = try #require(DoctorHardware.chip)
        let fixture = try Self.fixture(device: try #require(DoctorHardware.camera))
        defer { fixture.remove() }
        let held = try GPIOHeldOutput(chip: chip, line: GPIOOutputLine(.name("door-relay")), consumer: "someone-else", active: false)
        var report = await fixture.run(["gpio"])
        let relay = try #require(report.result("gpio.relay"))
        #expect(relay.status == .failed, "\(report.text())")
        #expect(relay.finding.contains("busy") && relay.finding.contains("someone-else"), "\(relay)")
        #expect(report.status("gpio.led_granted") == .ok)
        held.release()
        // Held under kioskd's consumer name while no kioskd runs: a warning, not "broken".
        let kioskd = try GPIOHeldOutput(chip: chip, line: GPIOOutputLine(.name("door-relay")), consumer: "kioskd", active: false)
        report = await fixture.run(["gpio"])
        #expect(report.status("gpio.relay") == .warning, "\(report.text())")
        kioskd.release()
    }
}
