// JPEGScale: TurboJPEG's decode scaling factors, and the cheapest one that is still big enough.
import CTurboJPEG

/// A TurboJPEG decode scaling factor (`num/denom`, e.g. 1/2). TurboJPEG scales inside the IDCT,
/// so a 640×480 MJPEG frame decoded at 1/2 costs far less than a full decode plus a resize.
package struct JPEGScale: Sendable, Hashable, CustomStringConvertible {
    package let numerator: Int
    package let denominator: Int

    /// No scaling.
    package static let full = JPEGScale(numerator: 1, denominator: 1)

    package init(numerator: Int, denominator: Int) {
        precondition(numerator > 0 && denominator > 0, "a scale is a positive fraction")
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The scaled size of one dimension, rounded up exactly as TurboJPEG does (`TJSCALED`).
    package func scaled(_ dimension: Int) -> Int {
        (dimension * numerator + denominator - 1) / denominator
    }

    /// The factor as a number (0.5 for 1/2).
    package var value: Double { Double(numerator) / Double(denominator) }

    /// Maps a coordinate found in the scaled image back to the full-size image.
    package func toFullSize(_ coordinate: Double) -> Double { coordinate / value }

    package var description: String { "\(numerator)/\(denominator)" }

    /// Every factor this TurboJPEG build supports, largest first.
    ///
    /// The corresponding C function is `tjGetScalingFactors`.
    package static let supported: [JPEGScale] = {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count), count > 0 else { return [.full] }
        return (0..<Int(count)).map { JPEGScale(numerator: Int(factors[$0].num), denominator: Int(factors[$0].denom)) }
            .sorted { $0.value > $1.value }
    }()

    /// The smallest supported factor whose result is still at least `minimumWidth` ×
    /// `minimumHeight` for a `width` × `height` JPEG (so the cheapest decode that is big enough).
    /// Returns `.full` when even full size is smaller than asked (never upscales).
    package static func smallest(forWidth width: Int, height: Int, atLeastWidth minimumWidth: Int, height minimumHeight: Int) -> JPEGScale {
        var best = JPEGScale.full
        for factor in supported where factor.value <= 1 {
            if factor.scaled(width) >= minimumWidth && factor.scaled(height) >= minimumHeight,
                factor.value < best.value
            {
                best = factor
            }
        }
        return best
    }
}
