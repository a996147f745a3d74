import Foundation
import GrusAudio
import GrusCore

/// Audio features of a whole corpus in one file of Float32 rows, read back one example at a time
/// with pread: a batch costs only its own rows, so memory stays bounded by the batch rather than
/// the corpus, and the operating system's page cache does the caching. Global CMVN statistics are
/// applied as rows are read.
package final class FeatureStore: @unchecked Sendable {
    package let path: String
    package let dimension: Int
    package let frames: [Int]
    package let offsets: [Int]          // first row of each entry
    package let cmvn: CMVNStats?
    package let speakerCMVN: SpeakerCMVN?
    private let fd: Int32

    package init(path: String, dimension: Int, frames: [Int], cmvn: CMVNStats?, speakerCMVN: SpeakerCMVN? = nil) throws {
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

    package var count: Int { frames.count }

    /// Features of entry k (read from here, or recomputed for augmentation) normalised with the
    /// store's CMVN statistics: global, or those of the entry's speaker.
    package func normalize(_ t: Tensor, entry k: Int) -> Tensor {
        if let s = speakerCMVN { return s.apply(t, entry: k) }
        return cmvn.map { $0.apply(t) } ?? t
    }

    /// Entry k as [frames, dimension], normalised with the store's CMVN statistics.
    package func read(_ k: Int) throws -> Tensor {
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
    package final class Writer {
        package let file: AtomicFile.Writer
        package let dimension: Int
        package private(set) var frames: [Int] = []

        package init(_ url: URL, dimension: Int) throws {
            file = try AtomicFile.Writer(url)
            self.dimension = dimension
        }

        package func append(_ x: Tensor) throws {
            precondition(x.rank == 2 && x.shape[1] == dimension)
            try x.data.withUnsafeBytes { try file.append($0) }
            frames.append(x.shape[0])
        }

        package func commit(cmvn: CMVNStats?, speakerCMVN: SpeakerCMVN? = nil) throws -> FeatureStore {
            try file.commit()
            return try FeatureStore(path: file.url.path, dimension: dimension, frames: frames, cmvn: cmvn, speakerCMVN: speakerCMVN)
        }
    }
}
