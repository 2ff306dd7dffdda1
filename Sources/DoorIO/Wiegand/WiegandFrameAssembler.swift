// Turns timestamped D0/D1 edges into Wiegand frames, with each pulse's measured width and spacing.

/// One of the two Wiegand data lines.
package enum WiegandDataLine: String, Sendable, Hashable {
    case d0, d1
}

/// A frame as received: the bits in order and the timing of every pulse.
package struct WiegandReceivedFrame: Sendable, Hashable {
    /// The bits, first received first.
    package var bits: [Bool]
    /// Each pulse's width (active edge to inactive edge), ns; nil when its end was not seen.
    package var pulseWidths: [Int64?]
    /// When each pulse began, ns on the edge timestamps' clock.
    package var starts: [Int64]
    /// Edges that made no sense (both lines active together, an end without a start).
    package var glitches: Int

    /// A frame as received (tests and tools build them directly).
    package init(bits: [Bool], pulseWidths: [Int64?], starts: [Int64], glitches: Int) {
        self.bits = bits
        self.pulseWidths = pulseWidths
        self.starts = starts
        self.glitches = glitches
    }

    /// Start-to-start intervals, ns.
    package var intervals: [Int64] { zip(starts.dropFirst(), starts).map { $0 - $1 } }

    /// The bits as `0`/`1` text.
    package var bitText: String { String(bits.map { $0 ? "1" : "0" }) }
}

/// Collects pulses into frames: a frame ends after `gap` without an edge. Panels wait 10-25 ms;
/// the gap must be longer than the sender's interval (`WiegandTiming.interval`).
package struct WiegandFrameAssembler: Sendable {
    /// Silence that ends a frame, ns.
    package var gap: Int64
    private var current = WiegandReceivedFrame(bits: [], pulseWidths: [], starts: [], glitches: 0)
    private var open: [WiegandDataLine: Int] = [:]  // line → index of its pulse still active
    private var lastEdge: Int64?

    /// An assembler ending frames after `gap` of silence (default 25 ms).
    package init(gap: Duration = .milliseconds(25)) {
        let (seconds, attoseconds) = gap.components
        self.gap = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Takes one edge (`active` = the line went to its pulse level); returns a frame that the
    /// silence before this edge completed, if any.
    package mutating func edge(_ line: WiegandDataLine, active: Bool, at time: Int64) -> WiegandReceivedFrame? {
        let finished = flush(at: time)
        lastEdge = time
        if active {
            if !open.isEmpty { current.glitches += 1 }
            open[line] = current.bits.count
            current.bits.append(line == .d1)
            current.pulseWidths.append(nil)
            current.starts.append(time)
        } else if let index = open.removeValue(forKey: line) {
            current.pulseWidths[index] = time - current.starts[index]
        } else {
            current.glitches += 1
        }
        return finished
    }

    /// The frame in progress if `gap` has passed since its last edge at `time`.
    package mutating func flush(at time: Int64) -> WiegandReceivedFrame? {
        guard let last = lastEdge, time - last >= gap, !current.bits.isEmpty else { return nil }
        defer {
            current = WiegandReceivedFrame(bits: [], pulseWidths: [], starts: [], glitches: 0)
            open = [:]
            lastEdge = nil
        }
        return current
    }
}
