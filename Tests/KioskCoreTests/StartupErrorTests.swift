// Start-up failures name the part, keep the underlying error and give kioskd its exit status.
import FaceAiDee
import FaceDetection
import Foundation
import Logging
import TestSupport
import Testing

@testable import KioskCore

/// Start-up failures name the part, keep the error underneath, and give kioskd its exit status.
struct StartupErrorTests {
    func agent(_ configure: (inout KioskConfiguration) -> Void) throws -> KioskAgent {
        var c = KioskConfiguration()
        c.door.backend = .console
        c.camera.source = .replay
        c.status.file = try TestAssets.temporaryDirectory("kiosk-start").appendingPathComponent("status.json").path
        configure(&c)
        return KioskAgent(
            configuration: c, logger: Logger.quiet,
            environment: [:])
    }

    @Test("a missing model is a detector failure, exit 2, with the detector's own error underneath")
    func missingModel() async throws {
        let agent = try agent { $0.detection.model = "/nonexistent/yunet.onnx" }
        await #expect {
            try await agent.run()
        } throws: { error in
            guard let startup = error as? StartupError else { return false }
            return startup.part == .detector && startup.exitStatus == 2 && startup.underlying is FaceDetectionError
                && "\(startup)".contains("KIOSK-START-DETECTOR") && "\(startup)".contains("/nonexistent/yunet.onnx")
        }
    }

    @Test("a missing credentials file is a credentials failure naming the setting")
    func missingCredentials() async throws {
        guard TestAssets.available else { return }
        let replay = try TestAssets.temporaryDirectory("kiosk-start-replay")
        try FileManager.default.copyItem(
            at: TestAssets.faceImage("images/mpl/grace_hopper.jpg"),
            to: replay.appendingPathComponent("frame.jpg"))
        let agent = try agent {
            $0.detection.model = TestAssets.yunetModel.path
            $0.camera.replayPath = replay.path
            $0.api.credentialsFile = "/nonexistent/credentials"
        }
        await #expect {
            try await agent.run()
        } throws: { error in
            guard let startup = error as? StartupError else { return false }
            return startup.part == .credentials && startup.setting == "api.credentials_file" && startup.exitStatus == 2
                && startup.underlying is FaceAiDeeError
        }
    }

    @Test("every part has its own code, and configuration parts exit 1 like --check-config")
    func codesAndStatuses() {
        let codes = StartupError.Part.allCases.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(StartupError.Part.policy.exitStatus == 1 && StartupError.Part.apiClient.exitStatus == 1)
        #expect(StartupError.Part.door.exitStatus == 2 && StartupError.Part.camera.exitStatus == 2)
    }
}
