import Testing
@testable import DoorIO

@Suite struct DoorIOSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
