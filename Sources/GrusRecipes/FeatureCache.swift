import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusText

/// Hashes of a stage's inputs, so a finished stage can be skipped when nothing it reads changed.
enum StageKey {
    static func hash(_ parts: [Any]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var bytes: [UInt8] = []
        for p in parts {
            if let e = p as? Encodable, let d = try? enc.encode(AnyEncodable(e)) { bytes += Array(d) } else { bytes += Array("\(p)".utf8) }
            bytes.append(0)
        }
        return SHA1.hash(bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func read(_ url: URL) -> String? {
        guard let d = readWholeFile(url.path),
              let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return nil }
        return o["key"] as? String
    }

    static func write(_ key: String, to url: URL) throws {
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: ["key": key]), to: url)
    }
}

struct AnyEncodable: Encodable {
    let value: Encodable
    init(_ v: Encodable) { value = v }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

/// The features stage's output: cache/features.json (key, per-example lengths or token ids,
/// bad inputs, CMVN statistics, tokenizer) and cache/features.bin (all audio features, Float32,
/// concatenated). Both written atomically; the .bin is memory-mapped when read.
struct FeatureCache {
    let folder: URL
    let key: String

    struct Index: Codable {
        var key: String
        var dimension: Int
        var origins: [String]
        var frames: [Int]
        var tokens: [[Int]]?
        var bad: [BadInput]
        var cmvn: CMVNStats?
        var text: TextEncoder?
    }

    func save(from e: Experiment) throws {
        let dim = e.examples.first?.features?.shape[1] ?? 0
        let index = Index(key: key, dimension: dim, origins: e.examples.map(\.item.origin),
                          frames: e.examples.map { $0.features?.shape[0] ?? 0 },
                          tokens: e.bundleText == nil ? nil : e.examples.map { $0.tokens ?? [] },
                          bad: e.bad, cmvn: e.cmvn, text: e.bundleText)
        if dim > 0 {
            var data = Data(capacity: e.examples.reduce(0) { $0 + $1.features!.count } * 4)
            for ex in e.examples { ex.features!.data.withUnsafeBytes { data.append(contentsOf: $0) } }
            try AtomicFile.write(data, to: folder.appendingPathComponent("features.bin"))
        }
        try AtomicFile.write(try JSONEncoder().encode(index), to: folder.appendingPathComponent("features.json"))
    }

    /// Fills the experiment's examples from the cache; false when there is none for this key.
    func load(into e: Experiment) throws -> Bool {
        guard let d = readWholeFile(folder.appendingPathComponent("features.json").path),
              let index = try? JSONDecoder().decode(Index.self, from: d), index.key == key else { return false }
        let byOrigin = Dictionary(e.examples.map { ($0.item.origin, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [Example] = []
        if let tokens = index.tokens {
            for (o, t) in zip(index.origins, tokens) { guard var ex = byOrigin[o] else { return false }; ex.tokens = t; out.append(ex) }
            e.bundleText = index.text
        } else {
            let bin = try Data(contentsOf: folder.appendingPathComponent("features.bin"), options: .alwaysMapped)
            guard bin.count == index.frames.reduce(0, +) * index.dimension * 4 else { return false }
            var offset = 0
            for (o, frames) in zip(index.origins, index.frames) {
                guard var ex = byOrigin[o] else { return false }
                let n = frames * index.dimension
                var values = [Float](repeating: 0, count: n)
                values.withUnsafeMutableBytes { _ = bin.copyBytes(to: $0, from: (offset * 4)..<((offset + n) * 4)) }
                ex.features = Tensor(shape: [frames, index.dimension], data: values)
                out.append(ex)
                offset += n
            }
            e.cmvn = index.cmvn
        }
        e.examples = out
        e.bad = index.bad
        return true
    }
}
