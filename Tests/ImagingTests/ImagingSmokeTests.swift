import Testing
@testable import Imaging

@Suite struct ImagingSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
