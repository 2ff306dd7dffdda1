import Testing
@testable import KioskCLI

@Suite struct KioskCLISmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
