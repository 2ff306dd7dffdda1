// AimScreen: one sample drawn as plain text within 80×24: the frame map with the face box, figures, advice.
import FaceDetection
import Foundation

/// Draws a sample as at most 23 lines of at most 80 columns (the 24th stays for the cursor),
/// in plain ASCII so it reads the same on a serial console, a laptop terminal and in a log.
enum AimScreen {
    /// The map: 40 × 15 characters shows a 4:3 frame with the right proportions, because a
    /// terminal cell is about twice as tall as it is wide.
    static let mapColumns = 40
    static let mapRows = 15
    static let width = 80
    static let maxLines = 23
    /// Dark to light.
    static let shades: [Character] = Array(" .:-=+*#%@")

    static func render(_ sample: AimSample, title: String) -> [String] {
        var lines: [String] = []
        let rate = sample.framesPerSecond.map { String(format: "%.1f fps", $0) } ?? "-- fps"
        lines.append(fit("kioskctl aim  \(title)  \(sample.frameWidth)x\(sample.frameHeight)  \(rate)  Ctrl-C to quit"))

        let map = mapLines(sample)
        let panel = panelLines(sample)
        for row in 0..<map.count {
            let right = row < panel.count ? panel[row] : ""
            lines.append(fit(map[row] + "  " + right))
        }
        let room = maxLines - lines.count
        for (index, advice) in sample.advice.prefix(room).enumerated() {
            lines.append(fit((index == 0 ? "> " : "  ") + advice.text))
        }
        return lines
    }

    /// The frame in shades with the face's box drawn on it, inside a border.
    static func mapLines(_ sample: AimSample) -> [String] {
        var grid = [[Character]](repeating: [Character](repeating: " ", count: mapColumns), count: mapRows)
        let luma = sample.luma
        if luma.columns > 0, luma.rows > 0 {
            for row in 0..<mapRows {
                for column in 0..<mapColumns {
                    let value = luma.cells[(row * luma.rows / mapRows) * luma.columns + column * luma.columns / mapColumns]
                    grid[row][column] = shades[Int(value) * shades.count / 256]
                }
            }
        }
        if let face = sample.face, sample.frameWidth > 0, sample.frameHeight > 0 {
            func cell(_ value: Double, _ size: Int, _ cells: Int) -> Int {
                min(cells - 1, max(0, Int(value / Double(size) * Double(cells))))
            }
            let left = cell(face.box[0], sample.frameWidth, mapColumns)
            let right = max(left + 1, cell(face.box[0] + face.box[2], sample.frameWidth, mapColumns))
            let top = cell(face.box[1], sample.frameHeight, mapRows)
            let bottom = max(top + 1, cell(face.box[1] + face.box[3], sample.frameHeight, mapRows))
            let right2 = min(right, mapColumns - 1), bottom2 = min(bottom, mapRows - 1)
            for column in left...right2 {
                grid[top][column] = "-"
                grid[bottom2][column] = "-"
            }
            for row in top...bottom2 {
                grid[row][left] = "|"
                grid[row][right2] = "|"
            }
            for (row, column) in [(top, left), (top, right2), (bottom2, left), (bottom2, right2)] { grid[row][column] = "+" }
        }
        // The centre, to aim at.
        let middleRow = mapRows / 2, middleColumn = mapColumns / 2
        if grid[middleRow][middleColumn] != "-" && grid[middleRow][middleColumn] != "|" { grid[middleRow][middleColumn] = "x" }
        let border = "+" + String(repeating: "-", count: mapColumns) + "+"
        return [border] + grid.map { "|" + String($0) + "|" } + [border]
    }

    /// The figures beside the map (each at most 36 columns).
    static func panelLines(_ sample: AimSample) -> [String] {
        func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
        var lines: [String] = []
        if let face = sample.face {
            let size = Int(face.sizePx.rounded())
            lines.append("face      \(size) px (min \(sample.minFaceSize))")
            lines.append("size      " + (size >= sample.minFaceSize ? "ok" : "TOO SMALL: step closer"))
            lines.append("quality   \(f(face.score)) \(face.qualifies ? "qualifies" : "does not qualify")")
            lines.append("sharpness \(f(face.quality.sharpness))  (var \(Int(face.laplacianVariance.rounded())))")
            lines.append("exposure  \(f(face.quality.exposure))  (luminance \(Int(face.meanLuminance.rounded())))")
            lines.append("pose      \(f(face.quality.pose))  (yaw \(Int(face.yawDegrees.rounded())))")
            lines.append("          roll \(Int(face.rollDegrees.rounded())) pitch \(Int(face.pitchDegrees.rounded()))")
            lines.append("framing   \(f(face.quality.framing))")
            lines.append("detector  score \(f(face.detectorScore, 3))")
        } else {
            lines.append("face      none (min \(sample.minFaceSize) px)")
            lines += ["", "", "", "", "", "", "", ""]
        }
        lines.append("faces     \(sample.faceCount)")
        lines.append("scene     luminance \(Int(sample.sceneLuminance.rounded()))")
        let rate = sample.framesPerSecond.map { f($0, 1) } ?? "--"
        lines.append("rate      \(rate) of \(Int(sample.configuredFramesPerSecond)) fps")
        lines.append("detect    \(f(sample.detectorMilliseconds, 1)) ms")
        lines.append("decode    \(f(sample.decodeMilliseconds, 1)) ms")
        return lines.map { String($0.prefix(width - mapColumns - 4)) }
    }

    /// Cut to the screen width (advice is written to fit; this is the guarantee).
    static func fit(_ line: String) -> String { line.count <= width ? line : String(line.prefix(width)) }

    /// The bytes that redraw the screen in place: cursor home, each line cleared to its end,
    /// then the rest of the screen cleared. No alternate screen, no cursor hiding: both go
    /// wrong on serial consoles and leave terminals in a bad state when the program is killed.
    static func frame(_ lines: [String]) -> String {
        "\u{1B}[H" + lines.map { $0 + "\u{1B}[K\n" }.joined() + "\u{1B}[J"
    }
}
