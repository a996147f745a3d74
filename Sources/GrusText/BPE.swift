import Foundation

/// Byte-pair encoding over words (Sennrich et al. 2016): words come from a `WordTokenizer`,
/// start as characters with "</w>" appended to the last one, and the most frequent adjacent
/// pair is merged until the symbol inventory reaches `vocabularySize` or the best pair occurs
/// fewer than `minFrequency` times.
///
/// Determinism: pairs are counted over distinct words weighted by their frequency; among
/// equally frequent pairs the one whose (left, right) symbols sort first by Unicode scalar
/// values is merged. Encoding applies merges in the order they were learned.
public struct BPE: Codable, Equatable, Sendable {
    public static let endOfWord = "</w>"

    public var words: WordTokenizer
    /// Merges in rank order, each [left, right].
    public var merges: [[String]]

    public init(words: WordTokenizer = WordTokenizer(), merges: [[String]]) {
        self.words = words
        self.merges = merges
        buildIndex()
    }

    private enum CodingKeys: String, CodingKey { case words, merges }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        words = try c.decode(WordTokenizer.self, forKey: .words)
        merges = try c.decode([[String]].self, forKey: .merges)
        guard merges.allSatisfy({ $0.count == 2 }) else {
            throw DecodingError.dataCorruptedError(forKey: .merges, in: c, debugDescription: "every merge must be a [left, right] pair")
        }
        buildIndex()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(words, forKey: .words)
        try c.encode(merges, forKey: .merges)
    }

    public static func == (a: BPE, b: BPE) -> Bool { a.words == b.words && a.merges == b.merges }

    // Encoding index: symbol ids and (left, right) → (rank, merged id).
    private var symbolIDs: [String: Int] = [:]
    private var symbols: [String] = []
    private var mergeTable: [UInt64: (rank: Int, merged: Int)] = [:]
    private let cache = WordCache()

    private mutating func buildIndex() {
        symbolIDs = [:]; symbols = []; mergeTable = [:]
        func id(_ s: String) -> Int {
            if let i = symbolIDs[s] { return i }
            symbols.append(s)
            symbolIDs[s] = symbols.count - 1
            return symbols.count - 1
        }
        for (rank, m) in merges.enumerated() {
            let a = id(m[0]), b = id(m[1]), c = id(m[0] + m[1])
            let key = UInt64(a) << 32 | UInt64(b)
            if mergeTable[key] == nil { mergeTable[key] = (rank, c) }
        }
    }

    /// Every symbol the merges produce (the learned inventory above single characters).
    public var mergedSymbols: [String] { merges.map { $0[0] + $0[1] } }

    public func tokenize(_ s: String) -> [String] {
        var out: [String] = []
        for w in words.tokenize(s) { out.append(contentsOf: encodeWord(w)) }
        return out
    }

    /// The word's BPE symbols.
    public func encodeWord(_ word: String) -> [String] {
        if let hit = cache.get(word) { return hit }
        var chars = word.map(String.init)
        guard !chars.isEmpty else { return [] }
        chars[chars.count - 1] += BPE.endOfWord
        // Symbols unknown to the merges get ids past the table (they never merge).
        var ids = chars.map { symbolIDs[$0] ?? -1 }
        var strs = chars
        while ids.count > 1 {
            var best = Int.max, at = -1, merged = -1
            for i in 0..<(ids.count - 1) where ids[i] >= 0 && ids[i + 1] >= 0 {
                if let m = mergeTable[UInt64(ids[i]) << 32 | UInt64(ids[i + 1])], m.rank < best {
                    best = m.rank; at = i; merged = m.merged
                }
            }
            if at < 0 { break }
            // Merge every occurrence of this pair, left to right.
            let a = ids[at], b = ids[at + 1]
            var newIDs: [Int] = [], newStrs: [String] = []
            var i = 0
            while i < ids.count {
                if i < ids.count - 1 && ids[i] == a && ids[i + 1] == b {
                    newIDs.append(merged); newStrs.append(symbols[merged]); i += 2
                } else {
                    newIDs.append(ids[i]); newStrs.append(strs[i]); i += 1
                }
            }
            ids = newIDs; strs = newStrs
        }
        cache.set(word, strs)
        return strs
    }

    /// Learns merges from texts (already normalised).
    public static func train(_ texts: [String], words: WordTokenizer = WordTokenizer(),
                             vocabularySize: Int, minFrequency: Int = 2) -> BPE {
        var counts: [String: Int] = [:]
        for t in texts { for w in words.tokenize(t) { counts[w, default: 0] += 1 } }
        return train(wordCounts: counts, words: words, vocabularySize: vocabularySize, minFrequency: minFrequency)
    }

    public static func train(wordCounts: [String: Int], words: WordTokenizer = WordTokenizer(),
                             vocabularySize: Int, minFrequency: Int = 2) -> BPE {
        var trainer = BPETrainer(wordCounts: wordCounts)
        let merges = trainer.run(vocabularySize: vocabularySize, minFrequency: max(1, minFrequency))
        return BPE(words: words, merges: merges)
    }
}

/// Word → symbols cache shared by copies of a `BPE` (thread-safe).
final class WordCache: @unchecked Sendable {
    private var map: [String: [String]] = [:]
    private let lock = NSLock()

    func get(_ w: String) -> [String]? { lock.lock(); defer { lock.unlock() }; return map[w] }

    func set(_ w: String, _ s: [String]) {
        lock.lock(); defer { lock.unlock() }
        if map.count > 200_000 { map.removeAll(keepingCapacity: true) }
        map[w] = s
    }
}

/// Incremental BPE training: pair counts are updated only for the words a merge touches, and a
/// max-heap with lazy deletion finds the next pair.
struct BPETrainer {
    var symbols: [String] = []
    var symbolIDs: [String: Int] = [:]
    var words: [[Int]] = []
    var freqs: [Int] = []
    var pairCounts: [UInt64: Int] = [:]
    var pairWords: [UInt64: [Int32]] = [:]
    var heap: [(count: Int, key: UInt64)] = []

    init(wordCounts: [String: Int]) {
        // Words in a fixed order so that training does not depend on dictionary order.
        for (w, c) in wordCounts.sorted(by: { $0.key < $1.key }) {
            var chars = w.map(String.init)
            if chars.isEmpty { continue }
            chars[chars.count - 1] += BPE.endOfWord
            words.append(chars.map { id($0) })
            freqs.append(c)
        }
        for (wi, w) in words.enumerated() where w.count > 1 {
            for i in 0..<(w.count - 1) {
                let k = key(w[i], w[i + 1])
                pairCounts[k, default: 0] += freqs[wi]
                pairWords[k, default: []].append(Int32(wi))
            }
        }
        for (k, c) in pairCounts { push(c, k) }
    }

    mutating func id(_ s: String) -> Int {
        if let i = symbolIDs[s] { return i }
        symbols.append(s)
        symbolIDs[s] = symbols.count - 1
        return symbols.count - 1
    }

    func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(a) << 32 | UInt64(b) }

    /// Heap order: higher count first; ties by (left, right) symbol strings ascending.
    func before(_ x: (count: Int, key: UInt64), _ y: (count: Int, key: UInt64)) -> Bool {
        if x.count != y.count { return x.count > y.count }
        let xa = symbols[Int(x.key >> 32)], ya = symbols[Int(y.key >> 32)]
        if xa != ya { return xa.unicodeScalars.lexicographicallyPrecedes(ya.unicodeScalars) }
        let xb = symbols[Int(x.key & 0xffff_ffff)], yb = symbols[Int(y.key & 0xffff_ffff)]
        return xb.unicodeScalars.lexicographicallyPrecedes(yb.unicodeScalars)
    }

    mutating func push(_ count: Int, _ k: UInt64) {
        heap.append((count, k))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if before(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> (count: Int, key: UInt64)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && before(heap[l], heap[m]) { m = l }
                if r < heap.count && before(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m); i = m
            }
        }
        return top
    }

    mutating func run(vocabularySize: Int, minFrequency: Int) -> [[String]] {
        var merges: [[String]] = []
        // The inventory starts as every distinct character symbol.
        var inventory = symbols.count
        while inventory < vocabularySize, let top = pop() {
            guard pairCounts[top.key] == top.count else { continue }   // stale entry
            if top.count < minFrequency { break }
            let a = Int(top.key >> 32), b = Int(top.key & 0xffff_ffff)
            let merged = id(symbols[a] + symbols[b])
            merges.append([symbols[a], symbols[b]])
            inventory += 1
            var changed = Set<UInt64>()
            var seen = Set<Int32>()
            for wi in pairWords[top.key] ?? [] where seen.insert(wi).inserted {
                let w = words[Int(wi)], f = freqs[Int(wi)]
                guard w.count > 1 else { continue }
                var hasPair = false
                for i in 0..<(w.count - 1) where w[i] == a && w[i + 1] == b { hasPair = true; break }
                if !hasPair { continue }
                for i in 0..<(w.count - 1) {
                    let k = key(w[i], w[i + 1])
                    pairCounts[k, default: 0] -= f
                    changed.insert(k)
                }
                var nw: [Int] = []
                var i = 0
                while i < w.count {
                    if i < w.count - 1 && w[i] == a && w[i + 1] == b { nw.append(merged); i += 2 } else { nw.append(w[i]); i += 1 }
                }
                if nw.count > 1 {
                    for j in 0..<(nw.count - 1) {
                        let k = key(nw[j], nw[j + 1])
                        pairCounts[k, default: 0] += f
                        pairWords[k, default: []].append(wi)
                        changed.insert(k)
                    }
                }
                words[Int(wi)] = nw
            }
            pairCounts[top.key] = 0
            for k in changed {
                let c = pairCounts[k] ?? 0
                if c > 0 { push(c, k) } else { pairCounts[k] = nil }
            }
        }
        return merges
    }
}
