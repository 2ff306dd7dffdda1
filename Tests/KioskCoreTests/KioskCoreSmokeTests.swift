import Testing
@testable import KioskCore

@Suite struct KioskCoreSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
