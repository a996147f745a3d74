import Foundation
import GrusCore
import GrusData
import GrusRecipes
import GrusTasks
import GrusTrain

/// data.json: what a run trained and evaluated on. Examples per split, per label within each
/// split (the class for classification, the intent for joint, the tag for tagging, the token
/// for transcription), and the inputs skipped as bad, with the most common reasons.
public struct DataSummary: Codable, Equatable {
    public var examples: [String: Int]
    public var labels: [String: [String: Int]]
    public var badInputs: Int
    public var badReasons: [String: Int]

    package enum CodingKeys: String, CodingKey { case examples, labels, badInputs = "bad_inputs", badReasons = "bad_reasons" }

    package init(items: [Item], bad: [BadInput]) {
        var examples: [String: Int] = [:], labels: [String: [String: Int]] = [:]
        for item in items {
            let split = item.split.rawValue
            examples[split, default: 0] += 1
            let units: [String]
            if let tags = item.tags { units = tags } else if item.label.contains(" ") { units = item.label.split(separator: " ").map(String.init) } else { units = [item.label] }
            for u in units where !u.isEmpty { labels[split, default: [:]][u, default: 0] += 1 }
        }
        var reasons: [String: Int] = [:]
        for b in bad {
            // The reason without the file-specific part: "too short: 12 samples ..." → "too short".
            let head = String(b.reason.prefix { $0 != ":" && $0 != "(" }).trimmingCharacters(in: .whitespaces)
            reasons[String(head.prefix(80)), default: 0] += 1
        }
        self.examples = examples
        self.labels = labels
        badInputs = bad.count
        badReasons = reasons
    }

    package static func read(_ folder: URL) -> DataSummary? {
        readWholeFile(folder.appendingPathComponent("data.json").path).flatMap { try? JSONDecoder().decode(DataSummary.self, from: $0) }
    }

    package func save(to folder: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: folder.appendingPathComponent("data.json"))
    }
}
