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

/// Audio features of a whole corpus in one file of Float32 rows, read back one example at a time
/// with pread: a batch costs only its own rows, so memory stays bounded by the batch rather than
/// the corpus, and the operating system's page cache does the caching. Global CMVN statistics are
/// applied as rows are read.
final class FeatureStore: @unchecked Sendable {
    let path: String
    let dimension: Int
    let frames: [Int]
    let offsets: [Int]          // first row of each entry
    let cmvn: CMVNStats?
    let speakerCMVN: SpeakerCMVN?
    private let fd: Int32

    init(path: String, dimension: Int, frames: [Int], cmvn: CMVNStats?, speakerCMVN: SpeakerCMVN? = nil) throws {
        self.path = path
        self.dimension = dimension
        self.frames = frames
        self.cmvn = cmvn
        self.speakerCMVN = speakerCMVN
        var row = 0
        offsets = frames.map { n in defer { row += n }; return row }
        fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GrusError.io(path: path, message: "cannot open the feature cache (\(String(cString: strerror(errno)))); rerun with --from-stage features")
        }
        var st = stat()
        let expected = row * dimension * 4
        guard fstat(fd, &st) == 0, Int(st.st_size) == expected else {
            close(fd)
            throw GrusError.io(path: path, message: "the feature cache holds \(st.st_size) bytes, its index expects \(expected); rerun with --from-stage features")
        }
    }

    deinit { close(fd) }

    var count: Int { frames.count }

    /// Features of entry k (read from here, or recomputed for augmentation) normalised with the
    /// store's CMVN statistics: global, or those of the entry's speaker.
    func normalize(_ t: Tensor, entry k: Int) -> Tensor {
        if let s = speakerCMVN { return s.apply(t, entry: k) }
        return cmvn.map { $0.apply(t) } ?? t
    }

    /// Entry k as [frames, dimension], normalised with the store's CMVN statistics.
    func read(_ k: Int) throws -> Tensor {
        var t = Tensor(zeros: [frames[k], dimension])
        let bytes = frames[k] * dimension * 4, start = offsets[k] * dimension * 4
        try t.data.withUnsafeMutableBytes { p in
            var done = 0
            while done < bytes {
                let n = pread(fd, p.baseAddress! + done, bytes - done, off_t(start + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw GrusError.io(path: path, message: "reading the feature cache failed at byte \(start + done) (\(n < 0 ? String(cString: strerror(errno)) : "file shortened")); rerun with --from-stage features")
                }
                done += n
            }
        }
        return normalize(t, entry: k)
    }

    /// Appends features to a new store file; `commit` renames it into place.
    final class Writer {
        let file: AtomicFile.Writer
        let dimension: Int
        private(set) var frames: [Int] = []

        init(_ url: URL, dimension: Int) throws {
            file = try AtomicFile.Writer(url)
            self.dimension = dimension
        }

        func append(_ x: Tensor) throws {
            precondition(x.rank == 2 && x.shape[1] == dimension)
            try x.data.withUnsafeBytes { try file.append($0) }
            frames.append(x.shape[0])
        }

        func commit(cmvn: CMVNStats?, speakerCMVN: SpeakerCMVN? = nil) throws -> FeatureStore {
            try file.commit()
            return try FeatureStore(path: file.url.path, dimension: dimension, frames: frames, cmvn: cmvn, speakerCMVN: speakerCMVN)
        }
    }
}

/// One entry of the features stage, in a folder of the shared cache (`SharedFeatureCache`):
/// features.json indexes key, per-example origins and frame counts (or token ids), bad inputs,
/// CMVN statistics, tokenizer. Audio features themselves are in features.bin (a FeatureStore,
/// raw features; CMVN is applied on read). The index is written last, so a present index with
/// the right key means a complete entry.
struct FeatureCache {
    static let format = 3
    let folder: URL
    let key: String

    var binURL: URL { folder.appendingPathComponent("features.bin") }
    var indexURL: URL { folder.appendingPathComponent("features.json") }

    struct Index: Codable {
        var format: Int
        var key: String
        var dimension: Int
        var origins: [String]
        var frames: [Int]
        var tokens: [[Int]]?
        var chars: [[[Int]]]?
        var bad: [BadInput]
        var frontEnd: ModelFrontEnd
        /// Speaker CMVN: each group's statistics and each entry's group.
        var speakerCMVN: SpeakerCMVN?
        /// The corpus the features were computed from (for `grus cache list`).
        var corpus: String?
    }

    /// Called before a new features.bin is written, so a stale index never describes it.
    func invalidate() { try? FileManager.default.removeItem(at: indexURL) }

    func save(_ set: FeatureSet, corpus: String) throws {
        let index = Index(format: Self.format, key: key, dimension: set.store?.dimension ?? 0, origins: set.examples.map(\.item.origin),
                          frames: set.examples.map(\.length), tokens: set.store == nil ? set.examples.map { $0.tokens ?? [] } : nil,
                          chars: set.examples.first?.chars == nil ? nil : set.examples.map { $0.chars ?? [] },
                          bad: set.bad, frontEnd: set.frontEnd, speakerCMVN: set.store?.speakerCMVN, corpus: corpus)
        try AtomicFile.write(try JSONEncoder().encode(index), to: indexURL)
    }

    /// The cached feature set for these items, or nil when there is none for this key.
    func load(_ items: [Item]) -> FeatureSet? {
        guard let d = readWholeFile(indexURL.path),
              let index = try? JSONDecoder().decode(Index.self, from: d), index.format == Self.format, index.key == key else { return nil }
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
enum InputIdentity {
    static func of(_ item: Item, audio: Bool) -> String {
        guard audio else { return item.input }
        var st = stat()
        guard stat(item.input, &st) == 0 else { return "unreadable" }
        return "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):\(st.st_ino)"
    }
}
