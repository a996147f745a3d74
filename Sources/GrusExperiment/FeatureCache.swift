import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain
import GrusText

/// Hashes of a stage's inputs, so a finished stage can be skipped when nothing it reads changed.
package enum StageKey {
    package static func hash(_ parts: [Any]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var bytes: [UInt8] = []
        for p in parts {
            if let e = p as? Encodable, let d = try? enc.encode(AnyEncodable(e)) { bytes += Array(d) } else { bytes += Array("\(p)".utf8) }
            bytes.append(0)
        }
        return SHA1.hash(bytes).map { String(format: "%02x", $0) }.joined()
    }

    package static func read(_ url: URL) -> String? {
        guard let d = readWholeFile(url.path),
              let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return nil }
        return o["key"] as? String
    }

    package static func write(_ key: String, to url: URL) throws {
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: ["key": key]), to: url)
    }
}

package struct AnyEncodable: Encodable {
    package let value: Encodable
    package init(_ v: Encodable) { value = v }
    package func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

/// One entry of the features stage, in a folder of the shared cache (`SharedFeatureCache`):
/// features.json indexes key, per-example origins and frame counts (or token ids), bad inputs,
/// CMVN statistics, tokenizer. Audio features themselves are in features.bin (a FeatureStore,
/// raw features; CMVN is applied on read). The index is written last, so a present index with
/// the right key means a complete entry.
package struct FeatureCache {
    package static let format = 4
    package let folder: URL
    package let key: String

    package init(folder: URL, key: String) { (self.folder, self.key) = (folder, key) }

    package var binURL: URL { folder.appendingPathComponent("features.bin") }
    package var indexURL: URL { folder.appendingPathComponent("features.json") }

    package struct Index: Codable {
        package var format: Int
        package var key: String
        package var dimension: Int
        package var origins: [String]
        package var frames: [Int]
        package var tokens: [[Int]]?
        package var chars: [[[Int]]]?
        package var bad: [BadInput]
        package var frontEnd: ModelFrontEnd
        /// Speaker CMVN: each group's statistics and each entry's group.
        package var speakerCMVN: SpeakerCMVN?
        /// The corpus the features were computed from (for `grus cache list`).
        package var corpus: String?
        /// FNV-1a of features.bin, the frame counts, the token and character ids and the origins,
        /// checked when the entry is read.
        package var checksum: String?
    }

    /// The checksum of an entry's contents (`Index.checksum`).
    package func checksum(_ index: Index) throws -> String {
        var h = FNV1a()
        if index.tokens == nil {
            guard let f = FileHandle(forReadingAtPath: binURL.path) else { throw GrusError.io(path: binURL.path, message: "cannot be read") }
            defer { try? f.close() }
            while let chunk = try f.read(upToCount: 1 << 22), !chunk.isEmpty { h.add(chunk) }
        }
        h.add(index.frames)
        for t in index.tokens ?? [] { h.add(t); h.add([-1]) }
        for sentence in index.chars ?? [] { for word in sentence { h.add(word); h.add([-2]) }; h.add([-1]) }
        for o in index.origins { h.add(Data(o.utf8)); h.add([-1]) }
        return String(h.value, radix: 16)
    }

    /// Why an entry cannot be used, or nil: a checksum that does not match, or ids outside the
    /// vocabulary (which would reach the embedding as out-of-range rows).
    package func problem(_ index: Index) -> String? {
        guard (try? checksum(index)) == index.checksum else {
            return "its checksum does not match: features.bin or features.json changed after they were written"
        }
        if let why = shapeProblem(index) { return why }
        guard index.tokens != nil, case let .text(encoder) = index.frontEnd else { return nil }
        let words = encoder.vocabulary.count, letters = encoder.characters?.count ?? 0
        for (k, t) in (index.tokens ?? []).enumerated() {
            if let bad = t.first(where: { !(0..<words).contains($0) }) {
                return "token id \(bad) of \(index.origins[k]) is outside its vocabulary of \(words)"
            }
        }
        for (k, sentence) in (index.chars ?? []).enumerated() {
            if let bad = sentence.joined().first(where: { !(0..<letters).contains($0) }) {
                return "character id \(bad) of \(index.origins[k]) is outside its \(letters) characters"
            }
        }
        return nil
    }

    /// Counts that must agree before an entry is read: one frame count (and token list, and
    /// character list) per origin, sizes that fit in memory, CMVN statistics of the features'
    /// dimension, and a speaker group with statistics for every entry.
    package func shapeProblem(_ index: Index) -> String? {
        let n = index.origins.count
        guard index.frames.count == n, index.tokens.map({ $0.count == n }) ?? true, index.chars.map({ $0.count == n }) ?? true else {
            return "its lists disagree: \(n) origins, \(index.frames.count) frame counts, \(index.tokens?.count ?? n) token lists, \(index.chars?.count ?? n) character lists"
        }
        guard (0...1_000_000).contains(index.dimension), index.frames.allSatisfy({ (0...100_000_000).contains($0) }) else {
            return "its dimension (\(index.dimension)) or a frame count is out of range"
        }
        var total = 0
        for f in index.frames {
            let (t, o) = total.addingReportingOverflow(f)
            guard !o else { return "its frame counts overflow" }
            total = t
        }
        guard !total.multipliedReportingOverflow(by: max(1, index.dimension) * 4).overflow else { return "its size overflows" }
        if index.tokens == nil {
            guard case let .audio(_, cmvn, _) = index.frontEnd else { return "audio features with a text front end" }
            let dims = [cmvn].compactMap { $0 } + (index.speakerCMVN.map { Array($0.stats.values) } ?? [])
            if let bad = dims.first(where: { $0.sum.count != index.dimension || $0.sumSquares.count != index.dimension }) {
                return "CMVN statistics of dimension \(bad.sum.count) for features of dimension \(index.dimension)"
            }
            if let sc = index.speakerCMVN, sc.groups.count != n || sc.groups.contains(where: { sc.stats[$0] == nil }) {
                return "its speaker groups do not cover its \(n) entries"
            }
        }
        return nil
    }

    /// Called before a new features.bin is written, so a stale index never describes it.
    package func invalidate() { try? FileManager.default.removeItem(at: indexURL) }

    package func save(_ set: FeatureSet, corpus: String) throws {
        var index = Index(format: Self.format, key: key, dimension: set.store?.dimension ?? 0, origins: set.examples.map(\.item.origin),
                          frames: set.examples.map(\.length), tokens: set.store == nil ? set.examples.map { $0.tokens ?? [] } : nil,
                          chars: set.examples.first?.chars == nil ? nil : set.examples.map { $0.chars ?? [] },
                          bad: set.bad, frontEnd: set.frontEnd, speakerCMVN: set.store?.speakerCMVN, corpus: corpus)
        index.checksum = try checksum(index)
        try AtomicFile.write(try JSONEncoder().encode(index), to: indexURL)
    }

    /// The cached feature set for these items, or nil when there is none for this key. An entry
    /// whose contents changed since they were written (its checksum), or whose ids fall outside
    /// its vocabulary, is not used: `damaged` says why, and the caller computes it again.
    package func load(_ items: [Item], damaged: (String) -> Void = { _ in }) -> FeatureSet? {
        guard let d = readWholeFile(indexURL.path),
              let index = try? JSONDecoder().decode(Index.self, from: d), index.format == Self.format, index.key == key else { return nil }
        if let why = problem(index) { damaged(why); return nil }
        let byOrigin = Dictionary(items.map { ($0.origin, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [Example] = []
        var store: FeatureStore?
        if let tokens = index.tokens {
            guard case let .text(encoder) = index.frontEnd else { return nil }
            for (k, (o, t)) in zip(index.origins, tokens).enumerated() {
                guard var item = byOrigin[o] else { return nil }
                // A tagged sentence cut to max_length keeps as many tokens and tags as ids.
                if let toks = item.tokens, toks.count > t.count {
                    let cut: ([String]) -> [String] = { encoder.truncation == .keepStart ? Array($0.prefix(t.count)) : Array($0.suffix(t.count)) }
                    item.tokens = cut(toks)
                    item.tags = item.tags.map(cut)
                }
                var example = Example(item: item, tokens: t)
                example.chars = index.chars?[k]
                out.append(example)
            }
        } else {
            guard case let .audio(_, cmvn, _) = index.frontEnd,
                  let s = try? FeatureStore(path: binURL.path, dimension: index.dimension, frames: index.frames, cmvn: cmvn,
                                            speakerCMVN: index.speakerCMVN) else { return nil }
            for (k, o) in index.origins.enumerated() {
                guard let item = byOrigin[o] else { return nil }
                out.append(Example(item: item, stored: k, frames: index.frames[k]))
            }
            store = s
        }
        return FeatureSet(examples: out, bad: index.bad, store: store, frontEnd: index.frontEnd)
    }
}

/// What identifies an input's content for the cache keys: the text itself, or an audio file's
/// size and modification time (to the nanosecond), so an edited line or a replaced file is
/// always computed again.
package enum InputIdentity {
    package static func of(_ item: Item, audio: Bool) -> String {
        guard audio else { return item.input }
        var st = stat()
        guard stat(item.input, &st) == 0 else { return "unreadable" }
        return "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):\(st.st_ino)"
    }
}

/// FNV-1a over 64-bit words (a trailing partial word zero-padded): a fast checksum of cache
/// entries, read again on every reuse of an entry, so it takes a word, not a byte, per step.
/// It finds damage; it is no defence against someone who rewrites it.
package struct FNV1a {
    package private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ word: UInt64) { value = (value ^ word) &* 0x100_0000_01b3 }

    package mutating func add(_ data: Data) {
        data.withUnsafeBytes { raw in
            let words = raw.count / 8
            for i in 0..<words { mix(raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
            var tail: UInt64 = 0
            for (k, b) in raw[(words * 8)...].enumerated() { tail |= UInt64(b) << (8 * UInt64(k)) }
            mix(tail ^ UInt64(raw.count))
        }
    }

    package mutating func add(_ numbers: [Int]) { for n in numbers { mix(UInt64(bitPattern: Int64(n))) } }
}
