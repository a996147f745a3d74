import Foundation
import GrusCore

/// Keeps concurrent runs apart on a corpus made on first use (synthetic speech commands,
/// synthetic digits, FSDD digit strings), which a run remakes when it asks for other settings
/// (another seed). Two lock files beside the corpus folder:
/// - `FOLDER.generating.lock`, exclusive: one process at a time checks the stamp and makes the
///   corpus; another that wants the same corpus waits, then finds it made.
/// - `FOLDER.readers.lock`: a run holds it shared while it uses the corpus (until it ends, or
///   until it asks for the corpus again); remaking takes it exclusive, so it waits for the runs
///   still reading the old corpus instead of deleting files under them.
public final class CorpusLocks: @unchecked Sendable {
    /// This process's locks.
    public static let process = CorpusLocks()

    private var held: [String: KeyLock] = [:]
    private let mutex = NSLock()

    public init() {}

    /// Makes the corpus in `folder` with `make` unless `current()` (its stamp matches) holds, and
    /// keeps a shared hold on it.
    public func using(_ folder: String, current: () -> Bool, log: (String) -> Void, make: () throws -> Void) throws {
        let key = URL(fileURLWithPath: folder).standardizedFileURL.path
        release(key)    // this process's own hold would block its own remaking
        let base = key.hasSuffix("/") ? String(key.dropLast()) : key
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: base).deletingLastPathComponent(), withIntermediateDirectories: true)
        let generating = try KeyLock(URL(fileURLWithPath: base + ".generating.lock"), wait: true) { holder in
            log("waiting for \(holder), which is making \(folder)")
        }
        defer { generating.release() }
        let readersURL = URL(fileURLWithPath: base + ".readers.lock")
        let readers: KeyLock
        if current() {
            // Only a process remaking the corpus holds it exclusive, and that one holds `generating`.
            readers = try KeyLock(readersURL, shared: true, wait: true) { _ in }
        } else {
            readers = try KeyLock(readersURL, wait: true) { _ in
                log("\(folder) is remade with other settings; waiting for the runs still reading it to end")
            }
            try make()
            try readers.share()
        }
        mutex.lock()
        held[key] = readers
        mutex.unlock()
    }

    /// Drops this process's hold on a corpus folder.
    public func release(_ folder: String) {
        let key = URL(fileURLWithPath: folder).standardizedFileURL.path
        mutex.lock()
        let lock = held.removeValue(forKey: key)
        mutex.unlock()
        lock?.release()
    }
}

/// Whether a generated corpus's stamp (the settings it was made with, as JSON) equals `settings`.
package func stampMatches<S: Decodable & Equatable>(_ folder: String, _ name: String, _ settings: S) -> Bool {
    guard let data = readWholeFile(URL(fileURLWithPath: folder).appendingPathComponent(name).path),
          let existing = try? JSONDecoder().decode(S.self, from: data) else { return false }
    return existing == settings
}

/// The file a generated corpus's folder holds from the moment generation starts.
package let generatedMarker = ".grus-generated"

/// Makes `root` an empty folder for a corpus Grus generates. Only a folder that is missing,
/// empty, or made by Grus (it holds `stamp` or the generation marker) is removed: a corpus.path
/// pointed at the user's own recordings is refused, never deleted.
package func clearGeneratedFolder(_ root: URL, stamp: String, format: String, instead: String) throws {
    let fm = FileManager.default
    if let entries = try? fm.contentsOfDirectory(atPath: root.path), !entries.isEmpty,
       !entries.contains(stamp), !entries.contains(generatedMarker) {
        throw CorpusError("\(root.path) holds files Grus did not make (\(entries.count) entries, no \(stamp)); corpus.format \(format) generates its corpus into a new or empty folder, or one it made before, and removes what is there. For a corpus of your own use corpus.format: \(instead); else give corpus.path a new folder")
    }
    var isDir: ObjCBool = false
    if fm.fileExists(atPath: root.path, isDirectory: &isDir), !isDir.boolValue {
        throw CorpusError("\(root.path) is a file; corpus.format \(format) generates its corpus into a folder: give corpus.path a new folder")
    }
    try? fm.removeItem(at: root)
    try fm.createDirectory(at: root, withIntermediateDirectories: true)
    fm.createFile(atPath: root.appendingPathComponent(generatedMarker).path, contents: Data())
}
