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

/// Runs `body` while `task` runs, then cancels `task` and waits until it has ended, on every way
/// out of `body`: nothing a test started may still run during the next test or at exit.
public func stoppingAfter<T>(_ task: Task<Void, any Error>, _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        task.cancel()
        _ = await task.result
        return result
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
}
