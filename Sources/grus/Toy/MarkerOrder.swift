import GrusCore

/// Synthetic sequence tasks that need memory, for smoke tests and demos.
enum ToyTask {
    /// Token sequences of `length` noise symbols with one `A` (id 1) and one `B` (id 2) at random
    /// positions; the label is 0 when A comes first, 1 when B does. Noise ids are 3..<vocab.
    /// Id 0 is padding.
    static func markerOrder(count: Int, lengths: ClosedRange<Int>, vocab: Int = 10, rng: inout RNG) -> [(ids: [Int], label: Int)] {
        precondition(vocab > 3 && lengths.lowerBound >= 2)
        return (0..<count).map { _ in
            let n = lengths.lowerBound + rng.int(below: lengths.count)
            var ids = (0..<n).map { _ in 3 + rng.int(below: vocab - 3) }
            let i = rng.int(below: n)
            var j = rng.int(below: n - 1)
            if j >= i { j += 1 }
            ids[i] = 1
            ids[j] = 2
            return (ids, i < j ? 0 : 1)
        }
    }
}
