import GrusCore
import GrusInference
import GrusNN
import GrusTasks

/// Batches of example indices. With bucketing, a seeded shuffle is followed by sorting within
/// windows of 50 batches by length, so each batch holds similar lengths (little padding), and the
/// batch order is shuffled again. The same seed gives the same batches.
public func makeBatches(lengths: [Int], indices: [Int], batchSize: Int, bucket: Bool, rng: inout RNG) -> [[Int]] {
    var order = indices
    rng.shuffle(&order)
    if bucket {
        let window = batchSize * 50
        var sorted: [Int] = []
        for start in stride(from: 0, to: order.count, by: window) {
            let chunk = order[start..<min(start + window, order.count)]
            sorted += chunk.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        }
        order = sorted
    }
    var batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
    if bucket { rng.shuffle(&batches) }
    return batches
}

/// Word dropout: each valid token id of a training batch becomes `unknown` with `probability`
/// (padding stays; characters, when the model reads them, stay too).
package func dropWords(_ batch: inout SequenceBatch, probability: Float, unknown: Int, rng: inout RNG) {
    guard var ids = batch.tokens else { return }
    let b = batch.size
    for (j, n) in batch.lengths.enumerated() { for t in 0..<n where rng.uniform() < probability { ids[t * b + j] = unknown } }
    batch.tokens = ids
}
