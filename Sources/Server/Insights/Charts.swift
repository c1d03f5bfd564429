import Foundation
import GantryAPI

/// Bar charts drawn on the server as SVG: one bar per period, the value written above each bar, no script.
enum Charts {
    static func bars(_ series: [Insights.Point], format: (Double) -> String, title: String) -> String {
        let width = 520.0, height = 180.0, left = 8.0, bottom = 28.0, top = 16.0
        let values = series.map { $0.value ?? 0 }
        let maximum = max(values.max() ?? 0, 1e-9)
        let slot = (width - left * 2) / Double(max(series.count, 1))
        let barWidth = max(slot * 0.7, 1)
        var out = #"<svg class="bars" role="img" viewBox="0 0 \#(Int(width)) \#(Int(height))" width="100%" xmlns="http://www.w3.org/2000/svg"><title>\#(escape(title))</title>"#
        out += #"<line x1="\#(left)" y1="\#(height - bottom)" x2="\#(width - left)" y2="\#(height - bottom)"/>"#
        let labelEvery = max(1, series.count / 8)
        for (i, point) in series.enumerated() {
            let x = left + Double(i) * slot + (slot - barWidth) / 2
            let h = (height - bottom - top) * (point.value ?? 0) / maximum
            let y = height - bottom - h
            out += #"<rect class="bar" x="\#(fmt(x))" y="\#(fmt(y))" width="\#(fmt(barWidth))" height="\#(fmt(h))"><title>\#(point.start): \#(point.value.map(format) ?? "no data")</title></rect>"#
            if let v = point.value, point.count > 0 {
                out += #"<text x="\#(fmt(x + barWidth / 2))" y="\#(fmt(y - 3))" text-anchor="middle">\#(escape(format(v)))</text>"#
            }
            if i % labelEvery == 0 {
                out += #"<text x="\#(fmt(x + barWidth / 2))" y="\#(fmt(height - bottom + 14))" text-anchor="middle">\#(point.start.dropFirst(5))</text>"#
            }
        }
        return out + "</svg>"
    }

    /// A bar's label must fit its bar: one unit, at most one decimal ("45s", "20m", "5.2h", "3.1d").
    static func shortDuration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.0fs", seconds) }
        if seconds < 3600 { return String(format: "%.0fm", seconds / 60) }
        if seconds < 86400 { return String(format: "%.1fh", seconds / 3600) }
        return String(format: "%.1fd", seconds / 86400)
    }

    private static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
