/// A face with its quality, as the selector receives it.
package struct AssessedFace: Sendable, Hashable {
    /// In the detection image's pixels.
    package var face: DetectedFace
    package var quality: FaceQuality

    package init(face: DetectedFace, quality: FaceQuality) {
        self.face = face
        self.quality = quality
    }
}

/// What to do when several faces are in view.
package enum MultipleFacePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The largest face (the person closest to the camera) is the one checking in; others
    /// (people queuing or passing behind) are ignored. The default: a door camera sees
    /// passers-by all the time and refusing would stall the queue.
    case largestWins = "largest"
    /// Refuse while more than one sizeable face is in view and signal "one person at a time"
    /// (turnstiles and high-security doors, where tailgating matters).
    case refuse
}

/// How pixels of the detection image map to the full-resolution frame the crop is cut from.
package struct FrameMapping: Sendable, Hashable {
    package var frameWidth: Int
    package var frameHeight: Int
    /// Full-frame pixels per detection-image pixel, horizontally and vertically.
    package var scaleX: Double
    package var scaleY: Double

    /// Detection ran on a `detectionWidth` × `detectionHeight` version of a
    /// `frameWidth` × `frameHeight` frame (e.g. a TurboJPEG 1/2 scaled decode).
    package init(detectionWidth: Int, detectionHeight: Int, frameWidth: Int, frameHeight: Int) {
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.scaleX = Double(frameWidth) / Double(max(detectionWidth, 1))
        self.scaleY = Double(frameHeight) / Double(max(detectionHeight, 1))
    }

    /// Detection ran on the frame itself.
    package static func identity(width: Int, height: Int) -> FrameMapping {
        FrameMapping(detectionWidth: width, detectionHeight: height, frameWidth: width, frameHeight: height)
    }
}

/// The best frame so far: everything the daemon needs to cut and send the crop.
package struct FrameCandidate<Frame: Sendable, Instant: InstantProtocol>: Sendable where Instant: Sendable {
    /// The caller's frame (full-resolution image, JPEG bytes, buffer id: whatever it passed).
    package var frame: Frame
    package var time: Instant
    /// The face as detected, in detection-image pixels, with its quality.
    package var face: AssessedFace
    /// The face in full-frame pixels.
    package var faceInFrame: DetectedFace
    package var mapping: FrameMapping

    /// The rectangle to crop from the full frame: the face box grown by `margin` (a fraction of
    /// its size on each side), clamped to the frame, in whole pixels.
    package func cropRect(margin: Double) -> (x: Int, y: Int, width: Int, height: Int) {
        let b = faceInFrame.box
        let x0 = max(0, Int((b.x - margin * b.width).rounded(.down)))
        let y0 = max(0, Int((b.y - margin * b.height).rounded(.down)))
        let x1 = min(mapping.frameWidth, Int((b.maxX + margin * b.width).rounded(.up)))
        let y1 = min(mapping.frameHeight, Int((b.maxY + margin * b.height).rounded(.up)))
        return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))
    }
}

/// Why a selection ended with a submission.
package enum SubmitReason: String, Sendable, Hashable, Codable {
    /// A candidate reached the good-enough score: sent without waiting for the window to end.
    case goodEnough = "good_enough"
    /// The window after the first qualifying face ended; the best candidate is sent.
    case windowElapsed = "window_elapsed"
}

/// Why a selection ended without a submission.
package enum GiveUpReason: Sendable, Hashable {
    /// Faces were seen for the whole timeout but none qualified; the failures, most frequent
    /// first, say what to fix (show it to the person or log it for the installer).
    case noQualifyingFace(failures: [QualityFailure])
}

/// The selector's answer to each frame.
package enum SelectorDecision<Frame: Sendable, Instant: InstantProtocol>: Sendable where Instant: Sendable {
    /// No face in view and nothing pending.
    case idle
    /// Faces in view but none qualifies yet; `failures` are the current frame's reasons.
    case searching(since: Instant, failures: [QualityFailure])
    /// A face qualified; collecting until `deadline` (or until one is good enough).
    case collecting(best: FrameCandidate<Frame, Instant>, deadline: Instant)
    /// Send this candidate. The selector is idle again afterwards.
    case submit(FrameCandidate<Frame, Instant>, reason: SubmitReason)
    /// Stop trying for this person. The selector is idle again afterwards.
    case giveUp(GiveUpReason)
    /// Policy `.refuse` and `count` sizeable faces are in view: show "one person at a time".
    /// Anything collected so far is dropped.
    case multipleFaces(count: Int)
}

/// Settings of `BestFrameSelector`.
package struct BestFrameSelectorConfiguration: Sendable, Hashable {
    /// How long to keep looking for a better frame after the first qualifying one. Default
    /// 600 ms: about 9 frames at 15 fps, enough for a blink or a head turn to pass, short
    /// enough that the door answers within a second.
    package var window: Duration = .milliseconds(600)
    /// A candidate with a combined quality score at or above this is sent at once. Default
    /// 0.85: well-lit, sharp, frontal faces at a normal distance score 0.88–0.97.
    package var goodEnoughScore: Double = 0.85
    /// Give up when faces have been in view this long without one qualifying. Default 3 s:
    /// long enough to step closer or turn to the camera, short enough to tell the person why.
    package var timeout: Duration = .seconds(3)
    /// With no face in view for this long, a search that has not found a qualifying face
    /// ends quietly (the person walked past). Default 700 ms: bridges detection drop-outs of
    /// a few frames.
    package var faceLostAfter: Duration = .milliseconds(700)
    /// What to do with several faces. Default `.largestWins` (see `MultipleFacePolicy`).
    package var multipleFaces: MultipleFacePolicy = .largestWins

    package init() {}
}

/// Picks the frame to send for one person at the door.
///
/// A pure state machine: the caller feeds every processed frame (its faces, their quality and
/// the frame's capture time from any clock) and acts on the decision; the selector reads no
/// clock, starts no timer and touches no image, so replayed sequences test it exactly.
///
/// - When a face first qualifies, a window (`window`) opens; the best candidate by combined
///   score is kept; one at or above `goodEnoughScore` is submitted at once, otherwise the
///   best is submitted when a frame arrives after the window ended.
/// - When faces are in view for `timeout` and none qualified, it gives up with the reasons.
/// - Only the primary face counts: the largest one (policy `.largestWins`), or, with policy
///   `.refuse`, the only sizeable one.
/// - After a submission or a give-up it starts afresh with the next face; cooldown between
///   check-ins of the same person is the caller's business.
package struct BestFrameSelector<Frame: Sendable, Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    package typealias Candidate = FrameCandidate<Frame, Instant>
    package typealias Decision = SelectorDecision<Frame, Instant>

    private enum State: Sendable {
        case idle
        case searching(since: Instant, lastSeen: Instant, failures: [QualityFailure: Int])
        case collecting(best: Candidate, deadline: Instant)
    }

    package let configuration: BestFrameSelectorConfiguration
    private var state: State = .idle

    package init(configuration: BestFrameSelectorConfiguration = .init()) {
        self.configuration = configuration
    }

    /// True when no selection is in progress.
    package var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Drops anything in progress (e.g. the door opened by other means).
    package mutating func reset() {
        state = .idle
    }

    /// Feeds one processed frame.
    ///
    /// - Parameters:
    ///   - faces: every face found in the frame, in detection-image pixels, with quality.
    ///   - frame: what the caller will need to cut the crop (kept only for the best candidate).
    ///   - time: when the frame was captured; must not go backwards.
    ///   - mapping: how detection pixels map to the full frame.
    package mutating func observe(faces: [AssessedFace], frame: Frame, at time: Instant, mapping: FrameMapping) -> Decision {
        // Time-driven transitions first: a window that ended is answered on the next frame.
        if case .collecting(let best, let deadline) = state, time >= deadline {
            state = .idle
            return .submit(best, reason: .windowElapsed)
        }

        let primary: AssessedFace?
        switch configuration.multipleFaces {
        case .largestWins:
            primary = faces.max { $0.face.box.area < $1.face.box.area }
        case .refuse:
            // Faces too small to check in (far behind) do not count as a second person.
            let sizeable = faces.filter { !$0.quality.failures.contains(.tooSmall) }
            if sizeable.count > 1 {
                state = .idle
                return .multipleFaces(count: sizeable.count)
            }
            primary = sizeable.first ?? faces.max { $0.face.box.area < $1.face.box.area }
        }

        switch state {
        case .idle:
            guard let primary else { return .idle }
            if primary.quality.qualifies {
                return startCollecting(primary, frame: frame, time: time, mapping: mapping)
            }
            state = .searching(since: time, lastSeen: time, failures: Self.counted(primary.quality.failures, into: [:]))
            return .searching(since: time, failures: primary.quality.failures)

        case .searching(let since, let lastSeen, let failures):
            guard let primary else {
                if lastSeen.duration(to: time) >= configuration.faceLostAfter {
                    state = .idle
                    return .idle
                }
                if since.duration(to: time) >= configuration.timeout {
                    state = .idle
                    return .giveUp(.noQualifyingFace(failures: Self.ranked(failures)))
                }
                return .searching(since: since, failures: [])
            }
            if primary.quality.qualifies {
                return startCollecting(primary, frame: frame, time: time, mapping: mapping)
            }
            let updated = Self.counted(primary.quality.failures, into: failures)
            if since.duration(to: time) >= configuration.timeout {
                state = .idle
                return .giveUp(.noQualifyingFace(failures: Self.ranked(updated)))
            }
            state = .searching(since: since, lastSeen: time, failures: updated)
            return .searching(since: since, failures: primary.quality.failures)

        case .collecting(var best, let deadline):
            if let primary, primary.quality.qualifies, primary.quality.score > best.face.quality.score {
                best = Self.candidate(primary, frame: frame, time: time, mapping: mapping)
                if primary.quality.score >= configuration.goodEnoughScore {
                    state = .idle
                    return .submit(best, reason: .goodEnough)
                }
            }
            state = .collecting(best: best, deadline: deadline)
            return .collecting(best: best, deadline: deadline)
        }
    }

    private mutating func startCollecting(_ face: AssessedFace, frame: Frame, time: Instant, mapping: FrameMapping) -> Decision {
        let candidate = Self.candidate(face, frame: frame, time: time, mapping: mapping)
        if face.quality.score >= configuration.goodEnoughScore {
            state = .idle
            return .submit(candidate, reason: .goodEnough)
        }
        let deadline = time.advanced(by: configuration.window)
        state = .collecting(best: candidate, deadline: deadline)
        return .collecting(best: candidate, deadline: deadline)
    }

    private static func candidate(_ face: AssessedFace, frame: Frame, time: Instant, mapping: FrameMapping) -> Candidate {
        Candidate(
            frame: frame, time: time, face: face,
            faceInFrame: face.face.scaled(x: mapping.scaleX, y: mapping.scaleY), mapping: mapping)
    }

    private static func counted(_ failures: [QualityFailure], into counts: [QualityFailure: Int]) -> [QualityFailure: Int] {
        var counts = counts
        for failure in failures { counts[failure, default: 0] += 1 }
        return counts
    }

    /// Most frequent first; ties in declaration order so the output is stable.
    private static func ranked(_ counts: [QualityFailure: Int]) -> [QualityFailure] {
        let order = Dictionary(uniqueKeysWithValues: QualityFailure.allCases.enumerated().map { ($1, $0) })
        return counts.keys.sorted { a, b in
            let (ca, cb) = (counts[a, default: 0], counts[b, default: 0])
            return ca != cb ? ca > cb : order[a, default: 0] < order[b, default: 0]
        }
    }
}
