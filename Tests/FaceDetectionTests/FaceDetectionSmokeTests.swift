import Testing
@testable import FaceDetection

@Suite struct FaceDetectionSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
