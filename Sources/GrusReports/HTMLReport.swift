import Foundation
import GrusCore
import GrusData
import GrusRecipes
import GrusTasks
import GrusTrain
import Plot

/// report.html: one self-contained page (inline SVG and CSS, no script, nothing fetched) with
/// the headline metrics, the learning curves, the task's figures (confusion matrix, per-class or
/// per-type bars, error counts), the data summary, the training figures and the resolved recipe.
/// `grus run` writes it into the experiment folder; `grus eval --report-html` for an evaluation.
public struct HTMLReport {
    public var title: String
    public var task: String
    public var report: any TaskReport
    /// train-log.csv's text (a run), or nil (an evaluation).
    public var trainLog: String?
    public var training: TrainingSummary?
    public var data: DataSummary?
    public var recipeYAML: String?
    public var source: String

    package typealias N = Node<HTML.BodyContext>
    package typealias Row = Node<HTML.TableRowContext>

    /// The report of an experiment folder after its evaluation.
    package static func forRun(folder: URL, name: String, task: String, report: any TaskReport) -> HTMLReport {
        func text(_ f: String) -> String? { readWholeFile(folder.appendingPathComponent(f).path).map { String(decoding: $0, as: UTF8.self) } }
        let training = readWholeFile(folder.appendingPathComponent("training.json").path).flatMap { try? JSONDecoder().decode(TrainingSummary.self, from: $0) }
        return HTMLReport(title: name, task: task, report: report, trainLog: text("train-log.csv"), training: training,
                          data: DataSummary.read(folder), recipeYAML: text("recipe.yaml"), source: folder.path)
    }

    /// The report of `grus eval`: the evaluated inputs' summary instead of the run's curves.
    public static func forEvaluation(model: String, data: String, task: String, report: any TaskReport, items: [Item], bad: [BadInput]) -> HTMLReport {
        HTMLReport(title: "\(URL(fileURLWithPath: model).lastPathComponent) on \(URL(fileURLWithPath: data).lastPathComponent)", task: task, report: report,
                   trainLog: nil, training: nil, data: DataSummary(items: items, bad: bad), recipeYAML: nil, source: "model \(model), data \(data)")
    }

    public func write(to url: URL) throws { try AtomicFile.write(html, to: url) }

    public var html: String {
        let page = HTML(
            .head(.meta(.charset(.utf8)), .title("Grus report: \(title)"), .style(HTMLReport.css)),
            .body(
                .h1(.text("Grus report: \(title)")),
                .p(.class("sub"), .text("task \(task)" + (report.split.map { ", metrics of the \($0) split" } ?? "") + " · \(source)")),
                headline,
                .group(curves),
                .group(report.figures.map(figure)),
                .group(dataSection),
                .group(trainingSection),
                .group(recipeYAML.map { [N.section(.h2("Recipe (resolved)"), .pre(.text($0)))] } ?? [])
            )
        )
        return page.render(indentedBy: .spaces(1))
    }

    /// The metrics file's numbers as cards: percentages, but for losses and counts.
    package var headline: N {
        let numbers = (try? report.json()).flatMap { try? JSONDecoder().decode(TopLevelNumbers.self, from: $0) }?.values ?? [:]
        let keys = numbers.keys.sorted(by: RunComparison.metricOrder)
        return .div(.class("cards"), .group(keys.map { k in
            let v = numbers[k]!
            let counted = RunSummary.counts.contains(k)
            let shown = counted ? String(Int(v)) : k.contains("loss") ? String(format: "%.4f", v) : String(format: "%.2f%%", 100 * v)
            return N.div(.class("card"), .div(.class("value"), .text(shown)), .div(.class("key"), .text(k)))
        }))
    }

    /// Loss, dev metrics and learning rate by epoch, from train-log.csv.
    package var curves: [N] {
        guard let log = trainLog else { return [] }
        let lines = log.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, lines.count > 1, let epochCol = header.firstIndex(of: "epoch") else { return [] }
        let rows = lines.dropFirst().filter { $0.count == header.count }
        func series(_ column: String, name: String) -> Charts.Series? {
            guard let c = header.firstIndex(of: column) else { return nil }
            let points = rows.compactMap { r -> (x: Double, y: Double, shown: String)? in
                guard let x = Double(r[epochCol]), let y = Double(r[c]), y.isFinite else { return nil }
                return (x, y, r[c])
            }
            return points.isEmpty ? nil : Charts.Series(name: name, points: points)
        }
        let losses = [series("loss", name: "training loss"), series("dev_loss", name: "dev loss")].compactMap { $0 }
        let devMetrics = header.filter { $0.hasPrefix("dev_") && $0 != "dev_loss" }.compactMap { series($0, name: String($0.dropFirst(4))) }
        var charts: [N] = []
        if !losses.isEmpty { charts.append(Charts.line(losses, title: "Loss", xLabel: "epoch", yLabel: "loss")) }
        if !devMetrics.isEmpty { charts.append(Charts.line(devMetrics, title: "Dev metrics", xLabel: "epoch", yLabel: "dev", percent: true)) }
        if let lr = series("lr", name: "learning rate") { charts.append(Charts.line([lr], title: "Learning rate (end of epoch)", xLabel: "epoch", yLabel: "lr")) }
        return [.section(.h2("Learning curves"), .div(.class("grid"), .group(charts)))]
    }

    package func figure(_ f: Figure) -> N {
        switch f {
        case let .confusion(title, labels, matrix): return .section(Charts.confusion(labels: labels, matrix: matrix, title: title))
        case let .bars(title, series, rows): return .section(Charts.bars(series: series, rows: rows, title: title))
        case let .counts(title, items): return .section(Charts.counts(items, title: title))
        }
    }

    package var dataSection: [N] {
        guard let d = data else { return [] }
        let splits = ["train", "dev", "test"].filter { d.examples[$0] != nil }
        let totals = d.labels["train"] ?? d.labels[splits.first ?? ""] ?? [:]
        var labels = Set(d.labels.values.flatMap { $0.keys }).sorted { (totals[$0] ?? 0, $1) > (totals[$1] ?? 0, $0) }
        let more = labels.count > 40 ? labels.count - 40 : 0
        labels = Array(labels.prefix(40))
        let table = N.table(
            .tr(.th(.text("label")), .group(splits.map { Row.th(.text($0)) })),
            .tr(.td(.strong(.text("examples"))), .group(splits.map { Row.td(.strong(.text("\(d.examples[$0]!)"))) })),
            .group(labels.map { l in Node<HTML.TableContext>.tr(.td(.text(l)), .group(splits.map { Row.td(.text("\(d.labels[$0]?[l] ?? 0)")) })) })
        )
        var nodes: [N] = [.h2("Data"), table]
        if more > 0 { nodes.append(.p(.text("… and \(more) more labels (data.json lists them all)."))) }
        nodes.append(.p(.text(d.badInputs == 0 ? "No input was skipped." : "\(d.badInputs) bad input(s) skipped (bad-inputs.jsonl lists them):")))
        if d.badInputs > 0 {
            nodes.append(.ul(.group(d.badReasons.sorted { $0.value > $1.value }.map { Node<HTML.ListContext>.li(.text("\($0.key): \($0.value)")) })))
        }
        return [.section(.group(nodes))]
    }

    package var trainingSection: [N] {
        guard let t = training else { return [] }
        let rows: [(String, String)] = [("parameters", "\(t.parameters)"), ("epochs", "\(t.epochs)"), ("sequences trained", "\(t.sequences)"),
                                        ("time in training steps", String(format: "%.1f s", t.trainSeconds)),
                                        ("train stage in all (with dev evaluation)", String(format: "%.1f s", t.seconds)),
                                        ("throughput", String(format: "%.0f sequences/s", t.sequencesPerSecond)), ("threads", "\(t.threads)" + ((t.ranks ?? 1) > 1 ? " in each of \(t.ranks!) MPI ranks" : ""))]
        return [.section(.h2("Training"), .table(.group(rows.map { Node<HTML.TableContext>.tr(.td(.text($0.0)), .td(.text($0.1))) })))]
    }

    package static let css = """
    body{font-family:sans-serif;margin:24px auto;max-width:1240px;color:#222;padding:0 12px}
    h1{font-size:22px;margin-bottom:2px} h2{font-size:17px;margin:4px 0 10px}
    .sub{color:#666;margin-top:0}
    section{border:1px solid #ddd;border-radius:6px;padding:12px 14px;margin:14px 0;overflow-x:auto}
    .grid{display:flex;flex-wrap:wrap;gap:12px}
    .cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
    .card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}
    .card .value{font-size:20px;font-weight:bold} .card .key{color:#666;font-size:12px}
    table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #e2e2e2;padding:3px 8px;text-align:right}
    td:first-child,th:first-child{text-align:left}
    pre{background:#f7f7f7;padding:10px;font-size:12px;overflow-x:auto}
    """
}
