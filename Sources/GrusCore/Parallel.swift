import Foundation

/// Runs `body(i)` for i in 0..<n on the machine's cores and waits for all of them.
/// With n == 1 it runs inline on the caller's thread.
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 0 { return }
    if n == 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: n, execute: body)
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
