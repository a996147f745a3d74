import Foundation
import GrusCore
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports

/// An exclusive lock on an experiment folder (flock on `.grus.lock`), held while a run uses it.
/// The kernel drops it when the process ends, however it ends.
package final class FolderLock {
    package let fd: Int32

    package init(_ folder: URL) throws {
        let path = folder.appendingPathComponent(".grus.lock").path
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GrusError.io(path: path, message: "cannot create the folder's lock file (\(String(cString: strerror(errno))))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &holder, 32, 0)
            close(fd)
            let pid = n > 0 ? String(decoding: holder[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw GrusError.io(path: folder.path, message: "another grus run (process \(pid)) is using this experiment folder; wait for it, or use --out for a new folder")
        }
        _ = ftruncate(fd, 0)
        let me = Array("\(getpid())\n".utf8)
        _ = pwrite(fd, me, me.count, 0)
    }

    deinit { close(fd) }
}
