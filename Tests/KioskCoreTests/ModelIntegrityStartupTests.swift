// kioskd refuses to start on a model file that is not the shipped one (sha256), naming both sums.
import FaceDetection
import Foundation
import Logging
import TestSupport
import Testing

@testable import KioskCore

struct ModelIntegrityStartupTests {
    @Test("a model with another sha256 is a detector start failure (exit 2) naming both sums")
    func wrongModelRefused() async throws {
        guard TestAssets.available else { return }
        let dir = try TestAssets.temporaryDirectory("kiosk-model-sum")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A real, loadable YuNet file with one byte appended: OpenCV would still load it.
        let model = dir.appendingPathComponent(YuNetFaceDetector.modelFileName)
        try (Data(contentsOf: TestAssets.yunetModel) + [0x0A]).write(to: model)
        var c = KioskConfiguration()
        c.door.backend = .console
        c.camera.source = .replay
        c.status.file = dir.appendingPathComponent("status.json").path
        c.detection.model = model.path
        let agent = KioskAgent(configuration: c, logger: Logger.quiet, environment: [:])
        await #expect {
            try await agent.run()
        } throws: { error in
            guard let startup = error as? StartupError,
                case .modelChecksumMismatch(let path, let expected, _) = startup.underlying as? FaceDetectionError
            else { return false }
            return startup.part == .detector && startup.exitStatus == 2 && path == model.path
                && expected == YuNetModelIntegrity.expectedSHA256 && "\(startup)".contains("KIOSK-START-DETECTOR")
        }
    }
}
