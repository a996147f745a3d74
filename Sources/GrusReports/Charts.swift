import Foundation
import GrusRecipes
import GrusTasks
import GrusTrain
import Plot

/// Inline SVG charts for report.html, built as Plot nodes (which escape every text and
/// attribute). Every drawn value carries a `<title>` (the browser's tooltip) with the number it
/// shows, so the page can be checked against the files it was drawn from.
package enum Charts {
    package typealias N = Node<HTML.BodyContext>

    package static let palette = ["#1f5fa8", "#d9731a", "#2a9d4b", "#b8323a", "#7d4fb0", "#6b6b6b", "#c2a100", "#178a8a"]

    /// An SVG element with attributes in the given order and children.
    package static func el(_ name: String, _ attributes: [(String, String)], _ children: [N] = []) -> N {
        .element(named: name, nodes: attributes.map { N.attribute(named: $0.0, value: $0.1) } + children)
    }

    package static func text(_ s: String, x: Double, y: Double, size: Int = 11, anchor: String = "start", extra: [(String, String)] = []) -> N {
        el("text", [("x", f(x)), ("y", f(y)), ("font-size", "\(size)"), ("text-anchor", anchor)] + extra, [.text(s)])
    }

    package static func title(_ s: String) -> N { el("title", [], [.text(s)]) }

    package static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    package static func svg(width: Double, height: Double, label: String, _ children: [N]) -> N {
        el("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("width", f(width)), ("height", f(height)),
                   ("viewBox", "0 0 \(f(width)) \(f(height))"), ("role", "img"), ("aria-label", label), ("font-family", "sans-serif")],
           [title(label)] + children)
    }

    /// About five round tick values covering lo...hi.
    package static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        let span = max(hi - lo, 1e-12)
        let raw = span / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(lo / step) * step
        while v <= hi + step * 1e-9 { out.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return out
    }

    package struct Series {
        package var name: String
        /// (x, y, the value as its source file wrote it).
        package var points: [(x: Double, y: Double, shown: String)]
    }

    /// Lines over epochs. `percent`: y values are fractions shown as percentages.
    package static func line(_ series: [Series], title label: String, xLabel: String, yLabel: String, percent: Bool = false,
                             width: Double = 580, height: Double = 300) -> N {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return .p(.text("\(label): no values")) }
        let (left, right, top, bottom) = (74.0, 16.0, 48.0, 42.0)
        var (x0, x1) = (all.map(\.x).min()!, all.map(\.x).max()!)
        if x1 - x0 < 1 { x0 -= 0.5; x1 += 0.5 }
        var (y0, y1) = (all.map(\.y).min()!, all.map(\.y).max()!)
        let pad = max((y1 - y0) * 0.08, abs(y1) * 0.01, 1e-9)
        y0 -= pad; y1 += pad
        if y0 < 0 && all.allSatisfy({ $0.y >= 0 }) { y0 = 0 }
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        var nodes: [N] = [text(label, x: left, y: 18, size: 13, extra: [("font-weight", "bold")])]
        for t in ticks(y0, y1) {
            nodes.append(el("line", [("x1", f(left)), ("x2", f(width - right)), ("y1", f(py(t))), ("y2", f(py(t))), ("stroke", "#e3e3e3")]))
            nodes.append(text(percent ? String(format: "%g%%", (t * 100 * 1e6).rounded() / 1e6) : String(format: "%g", t), x: left - 6, y: py(t) + 4, anchor: "end"))
        }
        for t in ticks(x0, x1, count: min(8, max(1, Int(x1 - x0)))) where t == t.rounded() {
            nodes.append(text(String(format: "%g", t), x: px(t), y: height - bottom + 16, anchor: "middle"))
        }
        nodes.append(el("line", [("x1", f(left)), ("x2", f(left)), ("y1", f(top)), ("y2", f(height - bottom)), ("stroke", "#888")]))
        nodes.append(el("line", [("x1", f(left)), ("x2", f(width - right)), ("y1", f(height - bottom)), ("y2", f(height - bottom)), ("stroke", "#888")]))
        nodes.append(text(xLabel, x: left + pw / 2, y: height - 6, anchor: "middle"))
        nodes.append(text(yLabel, x: 14, y: top + ph / 2, anchor: "middle", extra: [("transform", "rotate(-90 14 \(f(top + ph / 2)))")]))
        for (k, s) in series.enumerated() {
            let color = palette[k % palette.count]
            let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            nodes.append(el("polyline", [("points", path), ("fill", "none"), ("stroke", color), ("stroke-width", "2")]))
            for p in s.points {
                nodes.append(el("circle", [("cx", f(px(p.x))), ("cy", f(py(p.y))), ("r", "3"), ("fill", color), ("data-series", s.name), ("data-value", p.shown)],
                                [title("\(s.name), \(xLabel) \(String(format: "%g", p.x)): \(p.shown)")]))
            }
            // The legend: one row between the title and the plot.
            let lx = left + Double(k) * 150
            nodes.append(el("rect", [("x", f(lx)), ("y", "26"), ("width", "10"), ("height", "10"), ("fill", color)]))
            nodes.append(text(s.name, x: lx + 14, y: 35))
        }
        return svg(width: width, height: height, label: label, nodes)
    }

    /// Counts as a heat map, each row shaded by its own total; counts printed in the cells.
    package static func confusion(labels: [String], matrix: [[Int]], title label: String) -> N {
        let c = labels.count
        guard c > 0 else { return .p(.text("\(label): no classes")) }
        guard c <= 80 else { return .p(.text("\(label): \(c) classes are too many to draw; metrics.json holds the matrix")) }
        let cell = max(14, min(40, 560 / Double(c)))
        let longest = Double(labels.map(\.count).max() ?? 1)
        let left = min(160, 10 + 6.5 * longest), top = min(140, 30 + 5 * longest)
        let width = left + cell * Double(c) + 20, height = top + cell * Double(c) + 36
        var nodes: [N] = [text(label, x: 4, y: 16, size: 13, extra: [("font-weight", "bold")])]
        for (j, l) in labels.enumerated() {
            let x = left + (Double(j) + 0.5) * cell, y = top - 6
            nodes.append(text(l, x: x, y: y, size: 10, extra: [("transform", "rotate(-50 \(f(x)) \(f(y)))")]))
            nodes.append(text(l, x: left - 6, y: top + (Double(j) + 0.5) * cell + 4, size: 10, anchor: "end"))
        }
        for (i, row) in matrix.enumerated() {
            let total = max(1, row.reduce(0, +))
            for (j, n) in row.enumerated() {
                let share = Double(n) / Double(total)
                let fill = String(format: "rgb(%d,%d,%d)", Int(255 - 224 * share), Int(255 - 160 * share), Int(255 - 87 * share))
                let x = left + Double(j) * cell, y = top + Double(i) * cell
                nodes.append(el("rect", [("x", f(x)), ("y", f(y)), ("width", f(cell)), ("height", f(cell)), ("fill", fill), ("stroke", "#fff"),
                                         ("data-count", "\(n)")],
                                [title("true \(labels[i]), predicted \(labels[j]): \(n)")]))
                if n > 0 && cell >= 16 {
                    nodes.append(text("\(n)", x: x + cell / 2, y: y + cell / 2 + 4, size: cell >= 28 ? 11 : 9, anchor: "middle",
                                      extra: [("fill", share > 0.5 ? "#fff" : "#222")]))
                }
            }
        }
        nodes.append(text("predicted →", x: left, y: height - 10, size: 11))
        return svg(width: width, height: height, label: label, nodes)
    }

    /// Horizontal grouped bars in 0...1, the value printed at each bar's end.
    package static func bars(series: [String], rows: [Figure.BarRow], title label: String, limit: Int = 100) -> N {
        var shown = rows
        var note = ""
        if rows.count > limit {
            shown = Array(rows.sorted { ($0.values.last ?? 0) < ($1.values.last ?? 0) }.prefix(limit))
            note = " (the \(limit) lowest by \(series.last ?? "value") of \(rows.count))"
        }
        let bar = 7.0, gap = 8.0, group = Double(series.count) * bar + gap
        let longest = Double(shown.map(\.label.count).max() ?? 1)
        let left = min(200, 12 + 6.5 * longest), plot = 420.0
        let width = left + plot + 130, height = 44 + group * Double(shown.count) + 10
        var nodes: [N] = [text(label + note, x: 4, y: 16, size: 13, extra: [("font-weight", "bold")])]
        for (k, s) in series.enumerated() {
            nodes.append(el("rect", [("x", f(left + Double(k) * 90)), ("y", "24"), ("width", "10"), ("height", "10"), ("fill", palette[k % palette.count])]))
            nodes.append(text(s, x: left + Double(k) * 90 + 14, y: 33))
        }
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            let x = left + t * plot
            nodes.append(el("line", [("x1", f(x)), ("x2", f(x)), ("y1", "40"), ("y2", f(height - 8)), ("stroke", "#e3e3e3")]))
        }
        for (r, row) in shown.enumerated() {
            let y0 = 44 + Double(r) * group
            nodes.append(text(row.label, x: left - 6, y: y0 + Double(series.count) * bar / 2 + 4, size: 10, anchor: "end"))
            for (k, v) in row.values.enumerated() {
                let y = y0 + Double(k) * bar
                nodes.append(el("rect", [("x", f(left)), ("y", f(y)), ("width", f(max(0, min(1, v)) * plot)), ("height", f(bar - 1)),
                                         ("fill", palette[k % palette.count]), ("data-value", String(format: "%.4f", v))],
                                [title("\(row.label) \(series[k]) \(String(format: "%.4f", v))")]))
            }
            nodes.append(text(String(format: "%.3f", row.values.last ?? 0) + "  " + row.note, x: left + plot + 6,
                              y: y0 + Double(series.count) * bar / 2 + 4, size: 10))
        }
        return svg(width: width, height: height, label: label, nodes)
    }

    /// Named counts as horizontal bars.
    package static func counts(_ items: [(String, Int)], title label: String) -> N {
        let top = max(1, items.map(\.1).max() ?? 1)
        let left = 110.0, plot = 360.0, row = 22.0
        let height = 30 + row * Double(items.count) + 8
        var nodes: [N] = [text(label, x: 4, y: 16, size: 13, extra: [("font-weight", "bold")])]
        for (k, (name, n)) in items.enumerated() {
            let y = 28 + Double(k) * row
            nodes.append(text(name, x: left - 6, y: y + 12, anchor: "end"))
            nodes.append(el("rect", [("x", f(left)), ("y", f(y)), ("width", f(Double(n) / Double(top) * plot)), ("height", "16"),
                                     ("fill", palette[k % palette.count]), ("data-count", "\(n)")], [title("\(name): \(n)")]))
            nodes.append(text("\(n)", x: left + Double(n) / Double(top) * plot + 6, y: y + 12))
        }
        return svg(width: left + plot + 80, height: height, label: label, nodes)
    }
}
