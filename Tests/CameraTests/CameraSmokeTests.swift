import Testing
@testable import Camera

@Suite struct CameraSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
