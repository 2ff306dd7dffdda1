// The best-frame selector's state machine: submit, window, give-up, several faces and replayed real frames.
import Imaging
import TestSupport
import Testing

@testable import FaceDetection

/// A frame in a replayed sequence: its number (the selector's `Frame`), its time offset and faces.
private struct Step {
    let ms: Int
    let faces: [AssessedFace]
}

private typealias Selector = BestFrameSelector<Int, ContinuousClock.Instant>

/// A face of a given box width at x, with a hand-made quality (pure state-machine tests).
private func face(score: Double, failures: [QualityFailure] = [], width: Double = 100, x: Double = 100) -> AssessedFace {
    let box = FaceRect(x: x, y: 50, width: width, height: width * 1.2)
    let landmarks = FaceLandmarks(
        rightEye: .init(x: x + 0.3 * width, y: 90), leftEye: .init(x: x + 0.7 * width, y: 90),
        noseTip: .init(x: x + 0.5 * width, y: 110), mouthRight: .init(x: x + 0.35 * width, y: 130),
        mouthLeft: .init(x: x + 0.65 * width, y: 130))
    let components = FaceQuality.Components(size: 1, detection: 0.9, sharpness: score, exposure: 1, pose: 1, framing: 1)
    let measurements = FaceQuality.Measurements(
        interEyeDistance: 0.4 * width, detectionScore: 0.9, laplacianVariance: 100, meanLuminance: 128,
        clippedFraction: 0, lightingImbalance: 0, yawDegrees: 0, rollDegrees: 0, pitchDegrees: 0, outsideFraction: 0)
    let quality = FaceQuality(components: components, measurements: measurements, score: score, failures: failures)
    return AssessedFace(face: DetectedFace(box: box, score: 0.9, landmarks: landmarks), quality: quality)
}

/// Replays `steps` (frame numbers = indices) and returns every decision.
private func replay(
    _ steps: [Step], configuration: BestFrameSelectorConfiguration = .init(),
    mapping: FrameMapping = .identity(width: 640, height: 480)
) -> [SelectorDecision<Int, ContinuousClock.Instant>] {
    let start = ContinuousClock.now
    var selector = Selector(configuration: configuration)
    return steps.enumerated().map { index, step in
        selector.observe(faces: step.faces, frame: index, at: start.advanced(by: .milliseconds(step.ms)), mapping: mapping)
    }
}

/// Every 66 ms (15 fps) from `from` to `to`, the same faces.
private func frames(_ from: Int, _ to: Int, _ faces: [AssessedFace]) -> [Step] {
    stride(from: from, through: to, by: 66).map { Step(ms: $0, faces: faces) }
}

@Suite("Best-frame selector")
struct BestFrameSelectorTests {
    @Test("no faces: idle throughout")
    func idle() {
        let decisions = replay(frames(0, 2000, []))
        #expect(decisions.allSatisfy { if case .idle = $0 { true } else { false } })
    }

    @Test("a good-enough face is submitted on its first frame")
    func immediateSubmit() {
        let decisions = replay([Step(ms: 0, faces: [face(score: 0.95)])])
        guard case .submit(let candidate, .goodEnough) = decisions[0] else {
            Issue.record("\(decisions[0])")
            return
        }
        #expect(candidate.frame == 0)
    }

    @Test("early submit: a qualifying face opens the window; a good-enough one ends it at once")
    func earlySubmit() {
        let steps = [
            Step(ms: 0, faces: [face(score: 0.6, failures: [.blurred])]),
            Step(ms: 66, faces: [face(score: 0.7)]),
            Step(ms: 133, faces: [face(score: 0.75)]),
            Step(ms: 200, faces: [face(score: 0.9)]),
            Step(ms: 266, faces: [face(score: 0.99)]),
        ]
        let d = replay(steps)
        guard case .searching(_, let failures) = d[0] else {
            Issue.record("\(d[0])")
            return
        }
        #expect(failures == [.blurred])
        guard case .collecting(let best, _) = d[1], best.frame == 1 else {
            Issue.record("\(d[1])")
            return
        }
        guard case .collecting(let better, _) = d[2], better.frame == 2 else {
            Issue.record("\(d[2])")
            return
        }
        guard case .submit(let chosen, .goodEnough) = d[3] else {
            Issue.record("\(d[3])")
            return
        }
        #expect(chosen.frame == 3)
        // Idle again: the next good frame starts a new selection (cooldown is the caller's).
        guard case .submit(_, .goodEnough) = d[4] else {
            Issue.record("\(d[4])")
            return
        }
    }

    @Test("window: the best candidate is submitted when the window ends, even if the face left")
    func windowElapsed() {
        var steps = [
            Step(ms: 0, faces: [face(score: 0.7)]),
            Step(ms: 100, faces: [face(score: 0.8)]),
            Step(ms: 200, faces: [face(score: 0.65)]),
        ]
        steps += frames(300, 580, [])
        steps.append(Step(ms: 620, faces: []))
        let d = replay(steps)
        for decision in d.dropLast() {
            guard case .collecting = decision else {
                Issue.record("\(decision)")
                return
            }
        }
        guard case .submit(let chosen, .windowElapsed) = d.last else {
            Issue.record("\(String(describing: d.last))")
            return
        }
        #expect(chosen.frame == 1)
        #expect(chosen.face.quality.score == 0.8)
    }

    @Test("give up: faces in view for the timeout and none qualifies; reasons most frequent first")
    func giveUp() {
        let steps =
            frames(0, 1000, [face(score: 0.3, failures: [.tooDark, .blurred])])
            + frames(1066, 3100, [face(score: 0.3, failures: [.tooDark])])
        let d = replay(steps)
        for decision in d.dropLast() {
            guard case .searching = decision else {
                Issue.record("\(decision)")
                return
            }
        }
        guard case .giveUp(.noQualifyingFace(let failures)) = d.last else {
            Issue.record("\(String(describing: d.last))")
            return
        }
        #expect(failures == [.tooDark, .blurred])
    }

    @Test("a person walking past without qualifying ends quietly, not as a give-up")
    func walkedPast() {
        let steps = frames(0, 500, [face(score: 0.3, failures: [.turnedSideways])]) + frames(566, 2000, [])
        let d = replay(steps)
        #expect(!d.contains { if case .giveUp = $0 { true } else { false } })
        guard case .idle = d.last else {
            Issue.record("\(String(describing: d.last))")
            return
        }
    }

    @Test("several faces, largest wins: a small background face neither blocks nor is chosen")
    func largestWins() {
        let near = face(score: 0.9, width: 160, x: 200)
        let far = face(score: 0.99, width: 60, x: 20)
        let d = replay([Step(ms: 0, faces: [far, near])])
        guard case .submit(let chosen, .goodEnough) = d[0] else {
            Issue.record("\(d[0])")
            return
        }
        #expect(chosen.face.face.box.width == 160)
    }

    @Test("several faces, refuse: one person at a time; a collection in progress is dropped")
    func refuse() {
        var configuration = BestFrameSelectorConfiguration()
        configuration.multipleFaces = .refuse
        let one = face(score: 0.7, width: 160, x: 200)
        let other = face(score: 0.7, width: 120, x: 20)
        let distant = face(score: 0.5, failures: [.tooSmall], width: 30, x: 500)
        let steps = [
            Step(ms: 0, faces: [one]),
            Step(ms: 66, faces: [one, other]),
            Step(ms: 133, faces: [one, distant]),
            Step(ms: 900, faces: [one]),
        ]
        let d = replay(steps, configuration: configuration)
        guard case .collecting = d[0] else {
            Issue.record("\(d[0])")
            return
        }
        guard case .multipleFaces(count: 2) = d[1] else {
            Issue.record("\(d[1])")
            return
        }
        // A face too small to check in does not count as a second person; a new window opens.
        guard case .collecting(let best, _) = d[2], best.frame == 2 else {
            Issue.record("\(d[2])")
            return
        }
        guard case .submit(let chosen, .windowElapsed) = d[3] else {
            Issue.record("\(d[3])")
            return
        }
        #expect(chosen.frame == 2)
    }

    @Test("the candidate carries the face in full-frame pixels and a clamped crop rectangle")
    func fullFrameMapping() {
        let mapping = FrameMapping(detectionWidth: 320, detectionHeight: 240, frameWidth: 1280, frameHeight: 960)
        let d = replay([Step(ms: 0, faces: [face(score: 0.95, width: 100, x: 10)])], mapping: mapping)
        guard case .submit(let chosen, _) = d[0] else {
            Issue.record("\(d[0])")
            return
        }
        #expect(chosen.faceInFrame.box == FaceRect(x: 40, y: 200, width: 400, height: 480))
        #expect(chosen.faceInFrame.landmarks.rightEye == FacePoint(x: 160, y: 360))
        let crop = chosen.cropRect(margin: 0.25)
        #expect(crop.x == 0 && crop.y == 80 && crop.width == 540 && crop.height == 720)
    }

    @Test(
        "replayed real frames: too small, then blurred, then sharp; the sharp frame is sent",
        .enabled(if: TestAssets.available, "assets missing: run scripts/fetch-assets.sh"))
    func replayRealFrames() throws {
        let detector = try Fixtures.detector.get()
        let scorer = FaceQualityScorer()
        let sharp = try Fixtures.image("images/mpl/grace_hopper.jpg")
        let sequence = [try Derived.shrunk(sharp, factor: 0.16), try Derived.blurred(sharp, sigma: 4), sharp]
        var selector = Selector()
        let start = ContinuousClock.now
        var decisions: [SelectorDecision<Int, ContinuousClock.Instant>] = []
        for (index, image) in sequence.enumerated() {
            let assessed = try detector.detectSynchronously(in: image).map {
                AssessedFace(face: $0, quality: scorer.assess($0, in: image))
            }
            decisions.append(
                selector.observe(
                    faces: assessed, frame: index, at: start.advanced(by: .milliseconds(66 * index)),
                    mapping: .identity(width: image.width, height: image.height)))
        }
        guard case .searching(_, let small) = decisions[0] else {
            Issue.record("\(decisions[0])")
            return
        }
        #expect(small.contains(.tooSmall))
        guard case .searching(_, let blurred) = decisions[1] else {
            Issue.record("\(decisions[1])")
            return
        }
        #expect(blurred.contains(.blurred))
        guard case .submit(let chosen, .goodEnough) = decisions[2] else {
            Issue.record("\(decisions[2])")
            return
        }
        #expect(chosen.frame == 2)
    }
}
