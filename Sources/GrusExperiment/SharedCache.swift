import Foundation
import GrusCore
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain

/// Where the feature cache lives: `experiment.cache_dir` when a recipe sets it, else
/// $GRUS_CACHE_DIR, else $XDG_CACHE_HOME/grus, else ~/.cache/grus.
public enum CacheDirectory {
    public static let environment = "GRUS_CACHE_DIR"

    public static func resolve(_ configured: String = "") -> URL {
        let env = ProcessInfo.processInfo.environment
        if !configured.isEmpty { return URL(fileURLWithPath: configured) }
        if let dir = env[environment], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("grus") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/grus")
    }
}

/// The content-addressed feature cache shared by every experiment: `DIR/features/KEY/` holds one
/// corpus's features for one front end (features.bin and features.json, as `FeatureCache`
/// writes them). KEY hashes every input file's identity and every front-end option, so ten
/// experiments on the same corpus and front end compute features once.
///
/// Safe under concurrent runs and MPI ranks on a shared file system:
/// - an entry is written in a scratch folder `DIR/features/.tmp-KEY-PID-UUID/` and renamed into
///   place whole, so a reader sees a complete entry or none;
/// - whoever computes an entry holds an exclusive flock on `DIR/features/KEY.lock`, so a second
///   run of the same key waits for it and then reads its result instead of computing again.
public struct SharedFeatureCache {
    public let root: URL

    public init(directory: URL) { root = directory.appendingPathComponent("features") }

    package func entry(_ key: String) -> URL { root.appendingPathComponent(key) }
    package func lockURL(_ key: String) -> URL { root.appendingPathComponent(key + ".lock") }

    /// Runs `body` holding the key's lock. `waiting` is called once when another process holds it.
    package func withLock<R>(_ key: String, waiting: (String) -> Void, _ body: () throws -> R) throws -> R {
        // mkdir -p, one level at a time, so the error is the system's own.
        var path = ""
        for part in root.standardizedFileURL.path.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw GrusError.io(path: path, message: "the feature cache cannot be created (\(String(cString: strerror(errno)))); point experiment.cache_dir or $\(CacheDirectory.environment) at a writable folder")
            }
        }
        var st = stat()
        guard stat(root.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw GrusError.io(path: root.path, message: "the feature cache is not a folder; point experiment.cache_dir or $\(CacheDirectory.environment) at a writable folder")
        }
        let lock = try KeyLock(lockURL(key), wait: true, waiting: waiting)
        defer { lock.release() }
        return try body()
    }

    /// A new scratch folder for computing `key`'s entry.
    package func scratch(_ key: String) throws -> URL {
        let url = root.appendingPathComponent(".tmp-\(key)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Moves a finished scratch folder into place as `key`'s entry, replacing an older one
    /// (call with the key's lock held). A run still reading the old entry keeps its open files.
    package func publish(_ scratch: URL, as key: String) throws {
        let target = entry(key)
        if FileManager.default.fileExists(atPath: target.path) {
            let trash = root.appendingPathComponent(".old-\(key)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.moveItem(at: target, to: trash)
            try? FileManager.default.removeItem(at: trash)
        }
        guard rename(scratch.path, target.path) == 0 else {
            throw GrusError.io(path: target.path, message: "cannot move the new features into the cache (\(String(cString: strerror(errno))))")
        }
    }

    /// Marks an entry as used now (its index's modification time), for `grus cache prune`.
    package func touch(_ key: String) {
        _ = utimes(entry(key).appendingPathComponent("features.json").path, nil)
    }

    // MARK: listing and pruning

    public struct Entry {
        public var key: String
        public var bytes: Int
        public var lastUsed: Date
        public var examples: Int
        public var corpus: String
        public var frontEnd: String
        /// A scratch folder left by a run that ended while computing (no process holds its key).
        public var abandoned: Bool
    }

    /// Every entry, most recently used first, and abandoned scratch folders.
    public func list() -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        var out: [Entry] = []
        for name in names where !name.hasSuffix(".lock") {
            let url = root.appendingPathComponent(name)
            let bytes = folderBytes(url)
            if name.hasPrefix(".") {
                let parts = name.dropFirst(5).split(separator: "-")
                let key = parts.first.map(String.init) ?? ""
                guard !KeyLock.isHeld(lockURL(key)) else { continue }    // still being computed
                out.append(Entry(key: key, bytes: bytes, lastUsed: modified(url), examples: 0, corpus: "", frontEnd: "", abandoned: true))
                continue
            }
            let indexURL = url.appendingPathComponent("features.json")
            let index = readWholeFile(indexURL.path).flatMap { try? JSONDecoder().decode(FeatureCache.Index.self, from: $0) }
            out.append(Entry(key: name, bytes: bytes, lastUsed: modified(indexURL), examples: index?.origins.count ?? 0,
                             corpus: index?.corpus ?? "?", frontEnd: index.map { $0.frontEnd.summary } ?? "unreadable index", abandoned: false))
        }
        return out.sorted { $0.lastUsed > $1.lastUsed }
    }

    /// Removes abandoned scratch folders, then entries unused for `olderThan` seconds (all with
    /// nil), then the least recently used until the rest fit in `maxBytes`. An entry whose key is
    /// locked (being computed) is kept. Returns what was removed.
    public func prune(olderThan: TimeInterval?, maxBytes: Int?, now: Date = Date()) -> [Entry] {
        var removed: [Entry] = []
        var kept = 0
        for e in list() {
            let drop = e.abandoned || (olderThan.map { now.timeIntervalSince(e.lastUsed) >= $0 } ?? (maxBytes == nil))
                || (maxBytes.map { kept + e.bytes > $0 } ?? false)
            guard drop else { kept += e.bytes; continue }
            if e.abandoned {
                if let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) {
                    for n in names where n.hasPrefix(".tmp-\(e.key)-") || n.hasPrefix(".old-\(e.key)-") {
                        try? FileManager.default.removeItem(at: root.appendingPathComponent(n))
                    }
                }
                removed.append(e)
                continue
            }
            guard let lock = try? KeyLock(lockURL(e.key), wait: false, waiting: { _ in }) else { kept += e.bytes; continue }
            try? FileManager.default.removeItem(at: entry(e.key))
            lock.release()
            try? FileManager.default.removeItem(at: lockURL(e.key))
            removed.append(e)
        }
        return removed
    }

    private func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }

    private func folderBytes(_ url: URL) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return 0 }
        return names.reduce(0) { sum, n in
            sum + (((try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent(n).path))?[.size] as? Int) ?? 0)
        }
    }
}

extension ModelFrontEnd {
    /// One line for `grus cache list`: what computed the features.
    package var summary: String {
        switch self {
        case let .audio(o, cmvn, _):
            return "audio \(o.kind.rawValue) \(o.dimension)-dim at \(o.frame.sampleRate) Hz" + (cmvn != nil ? ", global CMVN" : "")
        case let .text(e):
            return "text, \(e.vocabulary.count) tokens" + (e.characters != nil ? " and characters" : "")
        }
    }
}
