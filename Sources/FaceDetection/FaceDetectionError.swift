/// What can go wrong while detecting faces; each case says what to do next.
package enum FaceDetectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The model file does not exist.
    case modelMissing(path: String)
    /// The model file exists but OpenCV cannot use it (truncated, corrupt, or another model).
    case modelUnusable(path: String, reason: String)
    /// The model file is not the one the agent ships and was validated with.
    case modelChecksumMismatch(path: String, expected: String, found: String)
    /// A configuration value is out of range.
    case invalidConfiguration(key: String, value: String, reason: String)
    /// OpenCV failed while running the network or measuring an image.
    case inferenceFailed(operation: String, reason: String)

    package var description: String {
        switch self {
        case .modelMissing(let path):
            "face detection model not found at \(path): run scripts/fetch-assets.sh (or make setup) "
                + "to fetch face_detection_yunet_2023mar.onnx, or point the detector's model path at it"
        case .modelUnusable(let path, let reason):
            "face detection model at \(path) cannot be used (\(reason)): it is probably truncated or "
                + "not YuNet 2023mar; delete it and run scripts/fetch-assets.sh (or make setup), "
                + "which checks its sha256"
        case .modelChecksumMismatch(let path, let expected, let found):
            "face detection model at \(path) is not the shipped YuNet 2023mar (sha256 expected \(expected), found \(found)): "
                + "it is corrupt or another model; reinstall it (apt-get install --reinstall kiosk-agent) "
                + "or, in a checkout, delete it and run scripts/fetch-assets.sh"
        case .invalidConfiguration(let key, let value, let reason):
            "invalid face detection setting \(key) = \(value): \(reason)"
        case .inferenceFailed(let operation, let reason):
            "face detection failed during \(operation): \(reason); if it persists, check the model "
                + "file with scripts/fetch-assets.sh and report the image size and format"
        }
    }
}
