import Foundation

/// A flock on a lock file: exclusive, naming its holder's process and host in the file, or shared.
/// Separate opens conflict even within one process, as between processes.
package final class KeyLock {
    private var fd: Int32
    private let path: String

    /// `wait`: block until the lock is free (calling `waiting` first with the holder); otherwise
    /// throw when another process holds it.
    package init(_ url: URL, shared: Bool = false, wait: Bool, waiting: (String) -> Void) throws {
        path = url.path
        fd = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GrusError.io(path: url.path, message: "cannot create the lock file (\(String(cString: strerror(errno))))") }
        let mode = shared ? LOCK_SH : LOCK_EX
        if flock(fd, mode | LOCK_NB) != 0 {
            guard wait else { close(fd); throw GrusError.io(path: url.path, message: "in use") }
            var holder = [UInt8](repeating: 0, count: 128)
            let n = pread(fd, &holder, 128, 0)
            waiting(n > 0 ? String(decoding: holder[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "another process")
            while flock(fd, mode) != 0 {
                guard errno == EINTR else { close(fd); throw GrusError.io(path: url.path, message: "cannot lock (\(String(cString: strerror(errno))))") }
            }
        }
        if !shared {
            _ = ftruncate(fd, 0)
            let me = Array("process \(getpid()) on \(ProcessInfo.processInfo.hostName)\n".utf8)
            _ = pwrite(fd, me, me.count, 0)
        }
    }

    /// Turns an exclusive hold into a shared one.
    package func share() throws {
        while flock(fd, LOCK_SH) != 0 {
            guard errno == EINTR else { throw GrusError.io(path: path, message: "cannot share the lock (\(String(cString: strerror(errno))))") }
        }
    }

    package func release() {
        guard fd >= 0 else { return }
        close(fd)   // closing drops the flock
        fd = -1
    }

    deinit { release() }

    /// Whether some process holds the lock now.
    package static func isHeld(_ url: URL) -> Bool {
        let fd = open(url.path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) != 0
    }
}
