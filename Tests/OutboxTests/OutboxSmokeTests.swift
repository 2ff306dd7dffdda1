import Testing
@testable import Outbox

@Suite struct OutboxSmokeTests {
    @Test func moduleLinks() { #expect(Bool(true)) }
}
