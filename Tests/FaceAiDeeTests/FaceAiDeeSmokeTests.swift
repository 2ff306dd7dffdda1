import Testing
@testable import FaceAiDee

@Suite struct FaceAiDeeSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
