/// Polls `condition` until it holds or `timeout` passes: a test waits for an event, not for a
/// fixed sleep. Returns whether the condition held (it is checked once more at the deadline).
///
/// The default timeout is generous for loaded CI machines; a test that passes returns as soon as
/// the condition holds.
public func waitUntil(
    _ timeout: Duration = .seconds(10), polling interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
