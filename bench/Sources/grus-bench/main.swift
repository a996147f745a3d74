// GRU benchmarks: release build, several runs, median. Compare with bench/torch_gru.py.
//   swift build -c release --product grus-bench && .build/release/grus-bench [--runs N] [--only NAME]
import Foundation
import GrusCore
import GrusNN

struct Shape {
    let name: String
    let batch: Int, steps: Int, input: Int, hidden: Int, layers: Int, bidirectional: Bool
    let training: Bool

    /// Forward FLOPs = B·T·Σ_layers D·6H·(I_l + H); a training step counts 3×.
    var flops: Double {
        let d = bidirectional ? 2 : 1
        var per = 0.0
        for l in 0..<layers {
            let i = l == 0 ? input : d * hidden
            per += Double(d * 6 * hidden * (i + hidden))
        }
        return Double(batch * steps) * per * (training ? 3 : 1)
    }
}

let shapes = [
    Shape(name: "speech-train", batch: 64, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: true, training: true),
    Shape(name: "speech-infer", batch: 64, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: true, training: false),
    Shape(name: "text-train", batch: 64, steps: 40, input: 128, hidden: 256, layers: 1, bidirectional: true, training: true),
    Shape(name: "latency-b1", batch: 1, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: false, training: false),
    // Diagnostics, run only with --only NAME.
    Shape(name: "latency-b1-1layer", batch: 1, steps: 98, input: 40, hidden: 128, layers: 1, bidirectional: false, training: false),
    Shape(name: "latency-b1-1layer-in128", batch: 1, steps: 98, input: 128, hidden: 128, layers: 1, bidirectional: false, training: false),
    Shape(name: "infer-uni-1thread", batch: 64, steps: 98, input: 256, hidden: 128, layers: 1, bidirectional: false, training: false),
    Shape(name: "infer-bi-2threads", batch: 64, steps: 98, input: 256, hidden: 128, layers: 1, bidirectional: true, training: false),
]
let diagnostics: Set = ["latency-b1-1layer", "latency-b1-1layer-in128", "infer-uni-1thread", "infer-bi-2threads"]

var runs = 7
var only: String? = nil
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--runs": runs = Int(args.next() ?? "") ?? runs
    case "--only": only = args.next()
    default: print("usage: grus-bench [--runs N] [--only NAME]"); exit(2)
    }
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

print("shape          batch  median-ms      seq/s   GFLOP/s  (runs: \(runs), threads: \(min(2, availableCores)))")
for s in shapes where only == s.name || (only == nil && !diagnostics.contains(s.name)) {
    var rng = RNG(seed: 1)
    let gru = GRUEncoder(GRUConfig(inputSize: s.input, hiddenSize: s.hidden, numLayers: s.layers, bidirectional: s.bidirectional), rng: &rng)
    let x = Tensor(shape: [s.steps, s.batch, s.input], data: (0..<(s.steps * s.batch * s.input)).map { _ in rng.normal() })
    if s.name == "infer-uni-1thread" { gru.threads = 1 }
    gru.computeInputGradient = false   // as in the PyTorch script, where the input needs no gradient
    let lengths = [Int](repeating: s.steps, count: s.batch)
    let dy = Tensor(repeating: 1, shape: [s.steps, s.batch, (s.bidirectional ? 2 : 1) * s.hidden])
    func once() {
        let out = gru.forward(x, lengths: lengths, training: s.training, rng: &rng)
        if s.training { gru.zeroGrad(); gru.backward(dy) } else { _ = out }
    }
    // Inner repetitions so each timed run lasts long enough to measure.
    let inner = s.batch == 1 ? 200 : 3
    for _ in 0..<2 { once() }
    var times: [Double] = []
    for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<inner { once() }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(inner))
    }
    let m = median(times)
    print(String(format: "%-13@ %6d %10.3f %10.1f %9.1f", s.name as NSString, s.batch, m * 1000, Double(s.batch) / m, s.flops / m / 1e9))
}

