import Foundation
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// Generated corpora under concurrent runs. Each `CorpusLocks` stands for one process: flock
/// treats separate opens of a lock file alike within a process and between processes.
final class CorpusLocksTests: FolderTestCase {
    /// A stand-in corpus: a folder whose stamp file names the settings it was made with.
    final class Corpus: @unchecked Sendable {
        let folder: String
        private let mutex = NSLock()
        private var made: [String] = [], said: [String] = []
        init(_ folder: String) { self.folder = folder }

        var makes: [String] { mutex.lock(); defer { mutex.unlock() }; return made }
        var messages: [String] { mutex.lock(); defer { mutex.unlock() }; return said }
        func current(_ v: String) -> Bool { (try? String(contentsOfFile: folder + "/stamp.txt", encoding: .utf8)) == v }
        func log(_ m: String) { mutex.lock(); said.append(m); mutex.unlock() }
        func make(_ v: String) throws {
            mutex.lock(); made.append(v); mutex.unlock()
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            Thread.sleep(forTimeInterval: 0.2)
            try v.write(toFile: folder + "/stamp.txt", atomically: true, encoding: .utf8)
        }
        /// What one run does: ask for the corpus made with `v`.
        func use(_ locks: CorpusLocks, _ v: String) throws {
            try locks.using(folder, current: { self.current(v) }, log: { self.log($0) }) { try self.make(v) }
        }
    }

    /// Runs `body` on another thread; false if it has not returned within `seconds`.
    func finishes(within seconds: Double, _ body: @escaping @Sendable () throws -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { try? body(); done.signal() }
        return done.wait(timeout: .now() + seconds) == .success
    }

    func testRemakingWaitsForReadersAndHappensOnce() throws {
        let corpus = Corpus(dir.appendingPathComponent("corpus").path)
        let a = CorpusLocks(), b = CorpusLocks(), c = CorpusLocks()
        try corpus.use(a, "v1")
        XCTAssertEqual(corpus.makes, ["v1"])
        // b and c both ask for other settings while a still reads the corpus: neither deletes it.
        let group = DispatchGroup()
        for runner in [b, c] { DispatchQueue.global().async(group: group) { try? corpus.use(runner, "v2") } }
        Thread.sleep(forTimeInterval: 0.6)
        XCTAssertTrue(corpus.current("v1"), "the corpus was remade while a run was reading it")
        XCTAssertEqual(corpus.makes, ["v1"])
        a.release(corpus.folder)
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        // Made once: the second found it made after waiting for the first.
        XCTAssertEqual(corpus.makes, ["v1", "v2"])
        XCTAssertTrue(corpus.current("v2"))
        XCTAssertTrue(corpus.messages.contains { $0.contains("waiting for the runs still reading it") }, "\(corpus.messages)")
        // Asking for the corpus as it is does not wait for the other readers, and makes nothing.
        XCTAssertTrue(finishes(within: 2) { try corpus.use(a, "v2") })
        XCTAssertEqual(corpus.makes, ["v1", "v2"])
        // A process's own hold does not block its own remaking (seeds run one after another).
        b.release(corpus.folder)
        c.release(corpus.folder)
        XCTAssertTrue(finishes(within: 10) { try corpus.use(a, "v3") }, "remaking waited for its own process's hold")
        XCTAssertTrue(corpus.current("v3"))
    }
}
