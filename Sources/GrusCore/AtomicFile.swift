import Foundation

/// Writes files so that a reader (or a crash) never sees a half-written one:
/// the bytes go to a temporary file in the same folder, are flushed, then renamed over the target.
public enum AtomicFile {
    /// Called after the temporary file is complete and before the rename (fault-injection tests).
    nonisolated(unsafe) public static var beforeRename: ((URL) -> Void)?

    /// Files under this folder are not written (their bytes are discarded): MPI ranks other than
    /// 0 compute everything rank 0 does, and rank 0 alone writes the experiment folder.
    nonisolated(unsafe) public static var discardUnder: String?

    static func discards(_ url: URL) -> Bool {
        guard let d = discardUnder else { return false }
        let path = url.standardizedFileURL.path
        return path == d || path.hasPrefix(d.hasSuffix("/") ? d : d + "/")
    }

    /// Removes temporary files a killed writer left in `folder` (never the files themselves).
    public static func removeLeftovers(in folder: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for n in names where n.hasPrefix(".") && n.contains(".tmp-") {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(n))
        }
    }

    public static func write(_ data: Data, to url: URL) throws {
        let writer = try Writer(url)
        do { try data.withUnsafeBytes { try writer.append($0) } } catch { writer.abort(); throw error }
        try writer.commit()
    }

    public static func write(_ string: String, to url: URL) throws {
        try write(Data(string.utf8), to: url)
    }

    /// A file written piece by piece (for outputs too large to hold in memory): appends go to a
    /// temporary file; `commit` flushes and renames it over the target, `abort` removes it.
    public final class Writer {
        public let url: URL
        let tmp: URL
        let handle: FileHandle
        public private(set) var bytesWritten = 0
        let discard: Bool

        public init(_ url: URL) throws {
            self.url = url
            discard = AtomicFile.discards(url)
            if discard {
                tmp = URL(fileURLWithPath: "/dev/null")
                handle = FileHandle(forWritingAtPath: "/dev/null")!
                return
            }
            let dir = url.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
                throw GrusError.io(path: tmp.path, message: "cannot create a temporary file; check the folder's permissions")
            }
            handle = try FileHandle(forWritingTo: tmp)
        }

        public func append(_ bytes: UnsafeRawBufferPointer) throws {
            do { try handle.write(contentsOf: bytes) } catch {
                throw GrusError.io(path: url.path, message: "cannot be written (\(error.localizedDescription)); nothing was replaced")
            }
            bytesWritten += bytes.count
        }

        /// The temporary file's descriptor, for writers that take one (libsndfile's sf_open_fd).
        public var fileDescriptor: Int32 { handle.fileDescriptor }

        public func append(_ data: Data) throws {
            try data.withUnsafeBytes { try append($0) }
        }

        public func commit() throws {
            if discard { try? handle.close(); return }
            do {
                try handle.synchronize()
                try handle.close()
                beforeRename?(url)
                if rename(tmp.path, url.path) != 0 {
                    throw GrusError.io(path: url.path, message: "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
                }
            } catch let e as GrusError {
                try? FileManager.default.removeItem(at: tmp)
                throw e
            } catch {
                try? FileManager.default.removeItem(at: tmp)
                throw GrusError.io(path: url.path, message: "cannot be written (\(error.localizedDescription)); the previous file, if any, is unchanged")
            }
        }

        public func abort() {
            try? handle.close()
            if discard { return }
            try? FileManager.default.removeItem(at: tmp)
        }
    }
}

/// Why `path` is not a regular file Grus can read (a FIFO would block the reader forever, a
/// device never ends), or nil when it is one. Symbolic links are followed.
public func specialFileProblem(_ path: String) -> String? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }   // missing: the caller says so
    switch st.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "is a folder, not a file"
    case S_IFIFO: return "is a named pipe (FIFO), not a regular file; Grus reads only regular files"
    case S_IFCHR, S_IFBLK: return "is a device, not a regular file; Grus reads only regular files"
    case S_IFSOCK: return "is a socket, not a regular file; Grus reads only regular files"
    default: return "is not a regular file"
    }
}

/// Reads a whole file, or nil when it cannot be opened or is not a regular file. (FileManager.contents(atPath:) leaks a
/// buffer for empty files in this Foundation; found with LeakSanitizer while fuzzing.)
public func readWholeFile(_ path: String) -> Data? {
    if specialFileProblem(path) != nil { return nil }
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    return (try? handle.readToEnd()) ?? Data()
}

/// The process's peak resident memory so far, in MB (getrusage).
public func peakMemoryMB() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_maxrss) / 1024
}
