import Foundation

/// One chart of the report as inline SVG: lines with a dot at each point,
/// axes with five ticks, a legend. Nothing but SVG elements, so the page
/// needs no script and no network.
struct LineChart {
    struct Series {
        var name: String
        /// A CSS colour; the report's tests look for these colours in a screenshot.
        var color: String
        var points: [(x: Double, y: Double)]
    }

    var title: String
    var xLabel: String
    var series: [Series]
    /// Epochs: ticks only at whole numbers.
    var wholeX = false
    var width = 460.0
    var height = 260.0

    private let left = 58.0, right = 14.0, top = 30.0, bottom = 40.0

    func svg() -> String {
        let all = series.flatMap(\.points)
        let (x0, x1) = Self.range(all.map(\.x), pad: 0)
        let (y0, y1) = Self.range(all.map(\.y), pad: 0.05)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotHeight }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escapeHTML(title))\">"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#ffffff\"/>"
        out += "<text x=\"\(Int(left))\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(escapeHTML(title))</text>"
        for i in 0...4 {
            let y = y0 + (y1 - y0) * Double(i) / 4
            out += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" font-size=\"11\" text-anchor=\"end\">\(Self.label(y))</text>"
        }
        for x in xTicks(x0, x1) {
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(wholeX ? String(Int(x)) : Self.label(x))</text>"
        }
        out += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"#444\"/>"
        out += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom))\" stroke=\"#444\"/>"
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 6))\" font-size=\"11\" text-anchor=\"middle\">\(escapeHTML(xLabel))</text>"
        for (index, line) in series.enumerated() {
            let points = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2.5\" points=\"\(points)\"/>"
            for point in line.points {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3.5\" fill=\"\(line.color)\"/>"
            }
            let legendY = top + 4 + Double(index) * 16
            out += "<rect x=\"\(f(width - right - 120))\" y=\"\(f(legendY))\" width=\"12\" height=\"12\" fill=\"\(line.color)\"/>"
            out += "<text x=\"\(f(width - right - 104))\" y=\"\(f(legendY + 10))\" font-size=\"11\">\(escapeHTML(line.name))</text>"
        }
        return out + "</svg>"
    }

    /// Five evenly spaced ticks, or for whole numbers every n-th of them.
    private func xTicks(_ x0: Double, _ x1: Double) -> [Double] {
        guard wholeX else { return (0...4).map { x0 + (x1 - x0) * Double($0) / 4 } }
        let first = Int(x0.rounded(.up)), last = Int(x1.rounded(.down))
        guard first <= last else { return [] }
        let every = max(1, (last - first + 7) / 8)
        return stride(from: first, through: last, by: every).map(Double.init)
    }

    /// The values' span; a single value gets room around it.
    private static func range(_ values: [Double], pad: Double) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return (0, 1) }
        guard high > low else {
            let margin = low == 0 ? 0.5 : abs(low) * 0.1
            return (low - margin, high + margin)
        }
        let margin = (high - low) * pad
        return (low - margin, high + margin)
    }

    /// Short tick labels: 0.0123, 0.912, 12.5, 25300.
    private static func label(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1000 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 0.1 || magnitude == 0 { return String(format: "%.3f", value) }
        return String(format: "%.2g", value)
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value.isFinite ? value : 0) }
}

/// Text for HTML and XML: the five characters that mean something there, escaped.
func escapeHTML(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
