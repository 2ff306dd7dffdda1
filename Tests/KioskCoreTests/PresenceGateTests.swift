// The presence gate: one check-in per person at the door, reopening after an empty scene or the cooldown.
import Testing

@testable import KioskCore

@Suite("Presence gate: one check-in per person at the door")
struct PresenceGateTests {
    let t0 = ContinuousClock.now

    @Test("a granted person who stays in view is not checked in again")
    func grantedStays() {
        var gate = PresenceGate(cooldown: .seconds(5), absenceToReset: .seconds(1))
        do {
            let opened = gate.observe(faceInView: true, at: t0)
            #expect(opened)
        }
        gate.decided(granted: true, at: t0)
        for second in 1...60 {
            do {
                let opened = gate.observe(faceInView: true, at: t0 + .seconds(second))
                #expect(!opened)
            }
        }
    }

    @Test("the gate opens once the scene has been empty long enough after the decision")
    func leaves() {
        var gate = PresenceGate(cooldown: .seconds(5), absenceToReset: .seconds(1))
        gate.decided(granted: true, at: t0)
        _ = gate.observe(faceInView: true, at: t0 + .milliseconds(200))
        do {
            let opened = gate.observe(faceInView: false, at: t0 + .milliseconds(700))
            #expect(!opened)
        }
        do {
            let opened = gate.observe(faceInView: false, at: t0 + .milliseconds(1300))
            #expect(opened)
        }
        #expect(gate.isOpen)
    }

    @Test("a denied person gets a second chance after the cooldown")
    func deniedRetries() {
        var gate = PresenceGate(cooldown: .seconds(5), absenceToReset: .seconds(1))
        gate.decided(granted: false, at: t0)
        do {
            let opened = gate.observe(faceInView: true, at: t0 + .seconds(4))
            #expect(!opened)
        }
        do {
            let opened = gate.observe(faceInView: true, at: t0 + .seconds(5))
            #expect(opened)
        }
    }

    @Test("a face that vanished before the decision does not reopen the gate at once")
    func emptinessCountsFromDecision() {
        var gate = PresenceGate(cooldown: .seconds(5), absenceToReset: .seconds(1))
        _ = gate.observe(faceInView: true, at: t0)
        gate.decided(granted: true, at: t0 + .seconds(3))
        do {
            let opened = gate.observe(faceInView: false, at: t0 + .milliseconds(3500))
            #expect(!opened)
        }
        do {
            let opened = gate.observe(faceInView: false, at: t0 + .seconds(4))
            #expect(opened)
        }
    }
}
