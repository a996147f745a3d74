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
    ///
    /// The target is taken for what it is. A symbolic link is followed: the file it names is
    /// replaced and the link stays. A device or a named pipe (/dev/stdout, a FIFO) is written
    /// through as a stream, never replaced by a regular file. A folder is refused.
    public final class Writer {
        public let url: URL
        let tmp: URL
        let handle: FileHandle
        public private(set) var bytesWritten = 0
        let discard: Bool
        /// Writing straight into a device or FIFO: nothing to rename.
        let stream: Bool

        public init(_ url: URL) throws {
            self.url = url
            discard = AtomicFile.discards(url)
            if discard {
                stream = false
                tmp = URL(fileURLWithPath: "/dev/null")
                handle = FileHandle(forWritingAtPath: "/dev/null")!
                return
            }
            var st = stat()
            if stat(url.path, &st) == 0 {
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    throw GrusError.io(path: url.path, message: "is a folder; give the name of a file to write")
                case S_IFCHR, S_IFBLK, S_IFIFO:
                    guard let h = FileHandle(forWritingAtPath: url.path) else {
                        throw GrusError.io(path: url.path, message: "cannot be opened for writing (\(String(cString: strerror(errno))))")
                    }
                    tmp = url
                    handle = h
                    stream = true
                    return
                default:
                    break
                }
            }
            stream = false
            // A link's target is the file to replace (the link itself stays).
            let target = url.resolvingSymlinksInPath()
            let dir = target.deletingLastPathComponent()
            do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                let why = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription ?? error.localizedDescription
                throw GrusError.io(path: url.path, message: "cannot be written: the folder \(dir.path) cannot be made (\(why)); is a part of the path a file?")
            }
            tmp = dir.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
                throw GrusError.io(path: url.path, message: "cannot be written: no file can be created in \(dir.path) (\(String(cString: strerror(errno)))); check that the folder exists, is a folder and is writable")
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
            if stream {
                do { try handle.close() } catch {
                    throw GrusError.io(path: url.path, message: "cannot be written (\(error.localizedDescription))")
                }
                return
            }
            do {
                try handle.synchronize()
                try handle.close()
                beforeRename?(url)
                let target = url.resolvingSymlinksInPath()
                if rename(tmp.path, target.path) != 0 {
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
            if discard || stream { return }
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

/// Makes `url` and the folders above it, with an error a person can act on: the part of the
/// path that is a file, or the folder that could not be made and why (permission, a read-only
/// disk, a file system such as /proc that holds no folders of ours).
public func makeFolder(_ url: URL, for what: String) throws {
    var missing: [URL] = []
    var at = url.standardizedFileURL
    var st = stat()
    while stat(at.path, &st) != 0 {
        missing.append(at)
        let up = at.deletingLastPathComponent()
        if up.path == at.path { break }
        at = up
    }
    if (st.st_mode & S_IFMT) != S_IFDIR {
        throw GrusError.io(path: url.path, message: "\(what) cannot be made: \(at.path) is a file, not a folder; choose another place")
    }
    for folder in missing.reversed() where mkdir(folder.path, 0o777) != 0 && errno != EEXIST {
        let why = String(cString: strerror(errno))
        let advice: String
        switch errno {
        case EROFS: advice = "the disk is read-only"
        case EACCES, EPERM: advice = "you may not write in \(folder.deletingLastPathComponent().path)"
        case ENOSPC: advice = "the disk is full"
        default: advice = "\(folder.deletingLastPathComponent().path) does not take new folders"
        }
        throw GrusError.io(path: url.path, message: "\(what) cannot be made: \(folder.path) could not be created (\(why): \(advice)); choose another place")
    }
}
