import Foundation
import GrusCore
import GrusRecipes
import GrusTasks
import GrusTrain

/// What `grus compare` and `--seeds` read from an experiment folder: the resolved recipe, the
/// final metrics, the parameter count and the training time. A folder made by `--seeds` gives
/// the mean over its seeds, with their standard deviation.
public struct RunSummary {
    public var folder: String
    /// recipe.yaml as key path → value.
    public var recipe: [String: String]
    /// metrics.json's top-level numbers (counts left out).
    public var metrics: [String: Double]
    /// Over seeds: each metric's standard deviation.
    public var spread: [String: Double] = [:]
    public var seeds: Int = 1
    public var training: TrainingSummary?

    /// Counts that describe the data rather than the model's quality.
    package static let counts: Set<String> = ["n", "reference_tokens", "substitutions", "deletions", "insertions"]

    public static func read(_ path: String) throws -> RunSummary {
        let dir = URL(fileURLWithPath: path)
        if let seeds = try SeedSummary.read(dir) { return try seeds.summary(folder: path) }
        func file(_ name: String) throws -> Data {
            guard let d = readWholeFile(dir.appendingPathComponent(name).path) else {
                throw GrusError.io(path: dir.appendingPathComponent(name).path, message: "missing; is \(path) the folder of a finished `grus run`?")
            }
            return d
        }
        let recipe = try RecipeLoader.flatten(String(decoding: try file("recipe.yaml"), as: UTF8.self))
        var metrics: [String: Double]
        do { metrics = try JSONDecoder().decode(TopLevelNumbers.self, from: try file("metrics.json")).values } catch {
            throw GrusError.format(path: dir.appendingPathComponent("metrics.json").path, message: "not a metrics file: \(readable(error))")
        }
        for k in counts { metrics[k] = nil }
        // training.json is optional (runs stopped before training have none); a broken one is an error.
        var training: TrainingSummary?
        if let d = readWholeFile(dir.appendingPathComponent("training.json").path) {
            do { training = try JSONDecoder().decode(TrainingSummary.self, from: d) } catch {
                throw GrusError.format(path: dir.appendingPathComponent("training.json").path, message: "not a training summary: \(readable(error))")
            }
        }
        return RunSummary(folder: path, recipe: recipe, metrics: metrics, training: training)
    }
}

/// OUT/seeds.json, written by `grus run --seeds N`: the seeds, their folders, and each metric's
/// values, mean and sample standard deviation.
public struct SeedSummary: Codable {
    public struct Stat: Codable { public var mean: Double; public var std: Double; public var values: [Double] }
    public var seeds: [Int]
    public var folders: [String]
    public var metrics: [String: Stat]

    /// The folder's seeds.json, or nil when it has none (a single run).
    public static func read(_ dir: URL) throws -> SeedSummary? {
        let url = dir.appendingPathComponent("seeds.json")
        guard let d = readWholeFile(url.path) else { return nil }
        do { return try JSONDecoder().decode(SeedSummary.self, from: d) } catch {
            throw GrusError.format(path: url.path, message: "not a seeds file written by `grus run --seeds`: \(readable(error))")
        }
    }

    /// Mean and sample standard deviation (n − 1) of each metric every run reports.
    public static func of(_ runs: [RunSummary], seeds: [Int]) -> SeedSummary {
        let shared = runs.dropFirst().reduce(Set(runs.first?.metrics.keys.map { $0 } ?? [])) { $0.intersection($1.metrics.keys) }
        var stats: [String: Stat] = [:]
        for k in shared {
            let v = runs.map { $0.metrics[k]! }
            let mean = v.reduce(0, +) / Double(v.count)
            let variance = v.count > 1 ? v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1) : 0
            stats[k] = Stat(mean: mean, std: variance.squareRoot(), values: v)
        }
        return SeedSummary(seeds: seeds, folders: runs.map(\.folder), metrics: stats)
    }

    /// The summary of the seeds' folder: means, spreads, the first seed's recipe without its seed,
    /// and the training figures averaged.
    package func summary(folder: String) throws -> RunSummary {
        var first = try RunSummary.read(folders[0])
        first.recipe["experiment.seed"] = seeds.map(String.init).joined(separator: ",")
        first.folder = folder
        first.metrics = metrics.mapValues(\.mean)
        first.spread = metrics.mapValues(\.std)
        first.seeds = seeds.count
        let trainings = folders.compactMap { try? RunSummary.read($0).training }
        if let t = first.training, trainings.count == folders.count {
            let n = Double(trainings.count)
            first.training = TrainingSummary(epochs: t.epochs, sequences: trainings.map(\.sequences).reduce(0, +) / trainings.count,
                                             trainSeconds: trainings.map(\.trainSeconds).reduce(0, +) / n,
                                             seconds: trainings.map(\.seconds).reduce(0, +) / n, parameters: t.parameters, threads: t.threads)
            first.training?.ranks = t.ranks
        }
        return first
    }

    public func save(to dir: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: dir.appendingPathComponent("seeds.json"))
    }

    /// "accuracy  0.9920 ± 0.0031  (0.9880, 0.9940, 0.9940)" per metric.
    public var table: String {
        metrics.keys.sorted(by: RunComparison.metricOrder).map { k in
            let s = metrics[k]!
            return k.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "%.4f ± %.4f  (", s.mean, s.std)
                + s.values.map { String(format: "%.4f", $0) }.joined(separator: ", ") + ")"
        }.joined(separator: "\n")
    }
}

/// The numeric top-level values of a JSON object (others are skipped).
package struct TopLevelNumbers: Decodable {
    package struct Key: CodingKey {
        package var stringValue: String
        package var intValue: Int? { nil }
        package init?(stringValue: String) { self.stringValue = stringValue }
        package init?(intValue: Int) { nil }
    }
    package var values: [String: Double] = [:]

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for k in c.allKeys { if let v = try? c.decode(Double.self, forKey: k) { values[k.stringValue] = v } }
    }
}
