import Foundation

/// Runs `body(i)` for i in 0..<n on the machine's cores and waits for all of them.
/// With n == 1 it runs inline on the caller's thread.
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 0 { return }
    ParallelWidth.record(n)
    if n == 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: n, execute: body)
}

/// The widest `parallelFor` since the last reset: tests check that nothing runs on more
/// threads than `Threads.count` allows.
public enum ParallelWidth {
    nonisolated(unsafe) private static var widest = 0
    private static let lock = NSLock()

    static func record(_ n: Int) {
        lock.lock(); if n > widest { widest = n }; lock.unlock()
    }

    /// Returns the widest since the last call, and starts again.
    public static func take() -> Int {
        lock.lock(); defer { widest = 0; lock.unlock() }
        return widest
    }
}

/// Splits 0..<count into at most `parts` contiguous ranges of near-equal size.
public func splitRange(_ count: Int, parts: Int) -> [Range<Int>] {
    let p = max(1, min(parts, count))
    var out: [Range<Int>] = []
    var start = 0
    for i in 0..<p {
        let size = count / p + (i < count % p ? 1 : 0)
        out.append(start..<(start + size))
        start += size
    }
    return out
}

/// Cores available to this process.
public var availableCores: Int { ProcessInfo.processInfo.activeProcessorCount }

/// How many threads Grus's own parallel work uses: feature extraction, the GRU's directions,
/// optimiser updates, CTC, prediction and corpus generation. Defaults to the machine's cores,
/// shared among the MPI ranks on this machine so that ranks × threads never exceeds them;
/// `training.threads` in a recipe, or `--threads`, sets it before anything runs.
public enum Threads {
    nonisolated(unsafe) public private(set) static var count = automatic

    /// The default: this machine's cores divided among the ranks of an MPI job running on it.
    public static var automatic: Int { max(1, availableCores / Distributed.localSize) }

    /// Sets the count; 0 (or less) means `automatic`.
    public static func set(_ n: Int) { count = n > 0 ? n : automatic }

    /// Runs `body(worker, i)` for every i in 0..<items, spread over `count` workers (at most
    /// one per item): worker k takes k, k + workers, k + 2·workers, ...
    public static func forEach(_ items: Int, _ body: (Int) -> Void) {
        let workers = max(1, min(count, items))
        parallelFor(workers) { k in
            for i in stride(from: k, to: items, by: workers) { body(i) }
        }
    }
}
