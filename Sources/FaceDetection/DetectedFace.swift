/// A point in image pixels (origin top-left, x to the right, y down).
package struct FacePoint: Sendable, Hashable, Codable {
    package var x: Double
    package var y: Double

    package init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// Euclidean distance to another point.
    package func distance(to other: FacePoint) -> Double {
        ((x - other.x) * (x - other.x) + (y - other.y) * (y - other.y)).squareRoot()
    }
}

/// An axis-aligned rectangle in image pixels (origin top-left).
package struct FaceRect: Sendable, Hashable, Codable {
    package var x: Double
    package var y: Double
    package var width: Double
    package var height: Double

    package init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    package var maxX: Double { x + width }
    package var maxY: Double { y + height }
    package var area: Double { max(0, width) * max(0, height) }
    package var center: FacePoint { FacePoint(x: x + width / 2, y: y + height / 2) }

    /// Intersection over union with another rectangle, 0...1 (the usual detection match measure).
    package func intersectionOverUnion(_ other: FaceRect) -> Double {
        let iw = min(maxX, other.maxX) - max(x, other.x)
        let ih = min(maxY, other.maxY) - max(y, other.y)
        guard iw > 0, ih > 0 else { return 0 }
        let intersection = iw * ih
        let union = area + other.area - intersection
        return union > 0 ? intersection / union : 0
    }

    /// The rectangle with each coordinate multiplied (mapping between image scales).
    package func scaled(x sx: Double, y sy: Double) -> FaceRect {
        FaceRect(x: x * sx, y: y * sy, width: width * sx, height: height * sy)
    }
}

/// YuNet's five landmarks. "Right" and "left" are the subject's own: in an unmirrored camera
/// image of a person facing the camera, the right eye appears on the image's left.
package struct FaceLandmarks: Sendable, Hashable, Codable {
    package var rightEye: FacePoint
    package var leftEye: FacePoint
    package var noseTip: FacePoint
    package var mouthRight: FacePoint
    package var mouthLeft: FacePoint

    package init(rightEye: FacePoint, leftEye: FacePoint, noseTip: FacePoint, mouthRight: FacePoint, mouthLeft: FacePoint) {
        self.rightEye = rightEye
        self.leftEye = leftEye
        self.noseTip = noseTip
        self.mouthRight = mouthRight
        self.mouthLeft = mouthLeft
    }

    /// The points in YuNet's order: right eye, left eye, nose tip, mouth right, mouth left.
    package var all: [FacePoint] { [rightEye, leftEye, noseTip, mouthRight, mouthLeft] }

    /// Distance between the eye centres, the usual measure of face size for recognition.
    package var interEyeDistance: Double { rightEye.distance(to: leftEye) }

    /// Every point with its coordinates multiplied (mapping between image scales).
    package func scaled(x sx: Double, y sy: Double) -> FaceLandmarks {
        func s(_ p: FacePoint) -> FacePoint { FacePoint(x: p.x * sx, y: p.y * sy) }
        return FaceLandmarks(
            rightEye: s(rightEye), leftEye: s(leftEye), noseTip: s(noseTip),
            mouthRight: s(mouthRight), mouthLeft: s(mouthLeft))
    }
}

/// One face found in an image: everything in that image's own pixels.
package struct DetectedFace: Sendable, Hashable, Codable {
    /// The face box (YuNet's boxes run from the forehead to the chin, ear to ear).
    package var box: FaceRect
    /// The detector's confidence, 0...1.
    package var score: Double
    package var landmarks: FaceLandmarks

    package init(box: FaceRect, score: Double, landmarks: FaceLandmarks) {
        self.box = box
        self.score = score
        self.landmarks = landmarks
    }

    /// The same face in an image scaled by (`sx`, `sy`), e.g. from a detection downscale to the
    /// full-resolution frame.
    package func scaled(x sx: Double, y sy: Double) -> DetectedFace {
        DetectedFace(box: box.scaled(x: sx, y: sy), score: score, landmarks: landmarks.scaled(x: sx, y: sy))
    }
}
