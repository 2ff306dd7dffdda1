// TappedFrameSource: a frame source that shows each frame to a callback (readiness, benchmark timestamps).
package import Camera

/// A frame source that passes every frame through after showing it to `onFrame` (readiness,
/// benchmarks' timestamps). Keeps the newest-frame-wins buffering of the source it wraps.
package struct TappedFrameSource: FrameSource {
    let inner: any FrameSource
    let onFrame: @Sendable (Frame) -> Void

    package init(_ inner: any FrameSource, onFrame: @escaping @Sendable (Frame) -> Void) {
        self.inner = inner
        self.onFrame = onFrame
    }

    package var name: String { inner.name }
    package var statistics: CaptureStatistics { inner.statistics }
    package func reportCorrupt() { inner.reportCorrupt() }

    package func frames() -> AsyncThrowingStream<Frame, any Error> {
        let upstream = inner.frames()
        let onFrame = self.onFrame
        return AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task {
                do {
                    for try await frame in upstream {
                        onFrame(frame)
                        continuation.yield(frame)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
