// The shipped model's sha256 check: the real file passes; another file fails naming both sums.
import FaceDetection
import Foundation
import TestSupport
import Testing

struct YuNetModelIntegrityTests {
    @Test("the fetched model is the shipped one, and its sum is the one scripts/assets.sha256 pins")
    func shippedModelVerifies() throws {
        guard TestAssets.available else { return }
        try YuNetModelIntegrity.verify(at: TestAssets.yunetModel.path)
        let pinned = try String(
            contentsOf: TestAssets.repositoryRoot.appendingPathComponent("scripts/assets.sha256"), encoding: .utf8)
        #expect(pinned.contains("\(YuNetModelIntegrity.expectedSHA256)  models/\(YuNetFaceDetector.modelFileName)"))
    }

    @Test("another file is refused with the expected and found sums and what to do")
    func mismatchNamesBothSums() throws {
        let dir = try TestAssets.temporaryDirectory("yunet-sum")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(YuNetFaceDetector.modelFileName)
        try Data("abc".utf8).write(to: url)
        // sha256("abc"), a published test vector (FIPS 180-2).
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(throws: FaceDetectionError.modelChecksumMismatch(path: url.path, expected: YuNetModelIntegrity.expectedSHA256, found: abc))
        {
            try YuNetModelIntegrity.verify(at: url.path)
        }
        let message = FaceDetectionError.modelChecksumMismatch(path: url.path, expected: "E", found: "F").description
        #expect(message.contains("expected E") && message.contains("found F") && message.contains("--reinstall kiosk-agent"))
    }

    @Test("a missing file is modelMissing, as for the detector")
    func missing() {
        #expect(throws: FaceDetectionError.modelMissing(path: "/nonexistent/m.onnx")) {
            try YuNetModelIntegrity.verify(at: "/nonexistent/m.onnx")
        }
    }
}
