// GRU benchmarks: release build, several runs, median. Compare with bench/torch_gru.py.
//   swift build -c release --product grus-bench && .build/release/grus-bench [--runs N] [--only NAME]
import Foundation
import GrusCore
import GrusNN
import GrusAudio
import GrusText

struct Shape {
    let name: String
    let batch: Int, steps: Int, input: Int, hidden: Int, layers: Int, bidirectional: Bool
    let training: Bool
    var lstm = false

    /// Forward FLOPs = B·T·Σ_layers D·6H·(I_l + H) (LSTM: 8H); a training step counts 3×.
    var flops: Double {
        let d = bidirectional ? 2 : 1
        var per = 0.0
        for l in 0..<layers {
            let i = l == 0 ? input : d * hidden
            per += Double(d * (lstm ? 8 : 6) * hidden * (i + hidden))
        }
        return Double(batch * steps) * per * (training ? 3 : 1)
    }
}

let shapes = [
    Shape(name: "speech-train", batch: 64, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: true, training: true),
    Shape(name: "speech-infer", batch: 64, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: true, training: false),
    Shape(name: "text-train", batch: 64, steps: 40, input: 128, hidden: 256, layers: 1, bidirectional: true, training: true),
    Shape(name: "latency-b1", batch: 1, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: false, training: false),
    Shape(name: "lstm-speech-train", batch: 64, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: true, training: true, lstm: true),
    Shape(name: "lstm-text-train", batch: 64, steps: 40, input: 128, hidden: 256, layers: 1, bidirectional: true, training: true, lstm: true),
    // Diagnostics, run only with --only NAME.
    Shape(name: "latency-b1-fp16", batch: 1, steps: 98, input: 40, hidden: 128, layers: 2, bidirectional: false, training: false),
    Shape(name: "latency-b1-1layer", batch: 1, steps: 98, input: 40, hidden: 128, layers: 1, bidirectional: false, training: false),
    Shape(name: "latency-b1-1layer-in128", batch: 1, steps: 98, input: 128, hidden: 128, layers: 1, bidirectional: false, training: false),
    Shape(name: "infer-uni-1thread", batch: 64, steps: 98, input: 256, hidden: 128, layers: 1, bidirectional: false, training: false),
    Shape(name: "infer-bi-2threads", batch: 64, steps: 98, input: 256, hidden: 128, layers: 1, bidirectional: true, training: false),
]
let diagnostics: Set = ["latency-b1-fp16", "latency-b1-1layer", "latency-b1-1layer-in128", "infer-uni-1thread", "infer-bi-2threads"]

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

/// Median seconds per call of `body` over `runs` timed runs of `inner` calls, after `warmup` calls.
func medianSeconds(runs: Int, inner: Int, warmup: Int, _ body: () -> Void) -> Double {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<inner { body() }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(inner))
    }
    return median(times)
}

/// 1000 one-second 16 kHz clips to 40-bin log-mel (25 ms window, 10 ms hop, n_fft 512, Kaldi
/// preset), on both cores: compute only, and read + compute from WAV files.
func featureBenchmark(runs: Int) throws {
    let count = 1000, rate = 16000
    var rng = RNG(seed: 7)
    let clips: [[Float]] = (0..<count).map { c in
        let f0 = 100 + Double(c % 50) * 40
        return (0..<rate).map { i in 0.3 * Float(sin(2 * Double.pi * f0 * Double(i) / Double(rate) * (1 + Double(i) / Double(rate)))) + 0.05 * rng.normal() }
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grus-bench-clips")
    try? FileManager.default.removeItem(at: dir)
    for (i, c) in clips.enumerated() { try AudioFile.write(Audio(samples: c, sampleRate: rate), to: dir.appendingPathComponent("\(i).wav").path) }
    defer { try? FileManager.default.removeItem(at: dir) }
    var o = FeatureOptions.kaldi
    o.mel.numBins = 40
    let frontEnd = try! AudioFrontEnd(o)
    let threads = min(2, availableCores)
    func timed(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    var compute: [Double] = [], readCompute: [Double] = []
    for _ in 0..<runs {
        compute.append(timed {
            parallelFor(threads) { k in
                for i in stride(from: k, to: count, by: threads) { _ = frontEnd.extractor.compute(clips[i]) }
            }
        })
        readCompute.append(timed {
            parallelFor(threads) { k in
                for i in stride(from: k, to: count, by: threads) {
                    _ = try? frontEnd.features(ofFile: dir.appendingPathComponent("\(i).wav").path)
                }
            }
        })
    }
    print(String(format: "features compute-only: %.0f clips/s (median of %d runs, %d threads)", Double(count) / median(compute), runs, threads))
    print(String(format: "features read+compute: %.0f clips/s", Double(count) / median(readCompute)))
}

/// Normalise + tokenize + map SST-2 train.tsv with the word and BPE tokenizers; BPE training time.
func textBenchmark(runs: Int) throws {
    let path = "../shared/corpora/sst2/train.tsv"
    guard FileManager.default.fileExists(atPath: path) else {
        print("text benchmark: \(path) is absent (SST-2 lives in ../shared/corpora beside the repository); skipped")
        return
    }
    let lines = try TextFile.lines(path).lines.dropFirst().map { String($0.text.split(separator: "\t").first ?? "") }
    let threads = min(2, availableCores)
    func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    var settings = TextEncoder.Settings()
    settings.bpeVocabularySize = 8000
    settings.bpeMinFrequency = 2
    var trainTimes: [Double] = []
    var bpe: TextEncoder!
    for _ in 0..<max(1, runs / 2) {
        settings.kind = .bpe
        trainTimes.append(seconds { bpe = TextEncoder.fit(lines, settings: settings) })
    }
    settings.kind = .word
    let word = TextEncoder.fit(lines, settings: settings)
    for (name, enc) in [("word", word), ("bpe", bpe!)] {
        var times: [Double] = []
        var tokens = 0
        for _ in 0..<runs {
            let parts = splitRange(lines.count, parts: threads)
            var counts = [Int](repeating: 0, count: parts.count)
            times.append(seconds {
                counts.withUnsafeMutableBufferPointer { c in
                    let cp = c.baseAddress!
                    parallelFor(parts.count) { k in
                        var n = 0
                        for i in parts[k] { n += enc.encode(lines[i]).count }
                        cp[k] = n
                    }
                }
            })
            tokens = counts.reduce(0, +)
        }
        print(String(format: "text %@: %d lines, %d tokens, %.0f tokens/s (%d threads, vocabulary %d)",
                     name, lines.count, tokens, Double(tokens) / median(times), threads, enc.vocabulary.count))
    }
    print(String(format: "text bpe training (vocabulary 8000, min frequency 2): %.2f s", median(trainTimes)))
}

if only == "text" {
    try textBenchmark(runs: runs)
    exit(0)
}

/// The recurrent step's GEMM: OpenBLAS (packing the weights on every call) against a PackedMatrix.
if only == "packed" {
    BLAS.configureOnce()
    print("m    k    n     sgemm-us  packed-us  packed GFLOP/s")
    for (m, k, n) in [(64, 128, 384), (32, 128, 384), (64, 384, 128), (64, 256, 768), (64, 768, 256), (7, 128, 384), (1, 128, 384), (1, 256, 768)] {
        var rng = RNG(seed: 3)
        let a = (0..<(m * k)).map { _ in rng.normal() }, b = (0..<(k * n)).map { _ in rng.normal() }
        var c = [Float](repeating: 0, count: m * n)
        let packed = PackedMatrix()
        b.withUnsafeBufferPointer { packed.pack(k: k, n: n, $0.baseAddress!, ldb: n, transposed: false) }
        let reps = 2000
        func time(_ body: () -> Void) -> Double {
            median((0..<runs).map { _ in let t0 = DispatchTime.now().uptimeNanoseconds; for _ in 0..<reps { body() }
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(reps) })
        }
        let blas = a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            time { BLAS.gemm(transA: false, transB: false, m: m, n: n, k: k, ap.baseAddress!, lda: k, bp.baseAddress!, ldb: n, cp.baseAddress!, ldc: n) } } } }
        let ref = c
        let mine = a.withUnsafeBufferPointer { ap in c.withUnsafeMutableBufferPointer { cp in
            time { packed.multiply(m: m, ap.baseAddress!, lda: k, cp.baseAddress!, ldc: n, accumulate: false) } } }
        let err = zip(ref, c).map { abs($0 - $1) }.max()!
        b.withUnsafeBufferPointer { packed.pack(k: k, n: n, $0.baseAddress!, ldb: n, transposed: false, half: true) }
        let half = a.withUnsafeBufferPointer { ap in c.withUnsafeMutableBufferPointer { cp in
            time { packed.multiply(m: m, ap.baseAddress!, lda: k, cp.baseAddress!, ldc: n, accumulate: false) } } }
        let rel = zip(ref, c).map { abs($0 - $1) }.max()! / ref.map { abs($0) }.max()!
        print(String(format: "%-4d %-4d %-5d %8.2f  %9.2f  %6.1f   (max diff %.1e)   fp16 %6.2f us (max diff / max |C| %.1e)",
                     m, k, n, blas, mine, 2 * Double(m * k * n) / mine / 1e3, err, half, rel))
    }
    exit(0)
}

/// One training step of a BiGRU-CRF tagger at an ATIS-like shape (bench/torch_tagger.py is the
/// PyTorch + pytorch-crf equivalent): embedding → BiGRU → linear → CRF loss → backward → Adam.
/// `crf: false`: the same with softmax cross-entropy over the valid steps instead of the CRF.
func taggerBenchmark(runs: Int, crf: Bool = true) {
    BLAS.configureOnce()
    let b = 32, vocab = 900, emb = 128, hidden = 128, tags = 127
    var rng = RNG(seed: 2)
    // Ragged lengths 6...25 (as in bench/torch_tagger.py), time-major token ids, padding 0.
    let lengths = (0..<b).map { 6 + ($0 * 7) % 20 }, steps = lengths.max()!
    var ids = [Int](repeating: 0, count: steps * b)
    for (j, n) in lengths.enumerated() { for t in 0..<n { ids[t * b + j] = 1 + (t * 31 + j * 17) % (vocab - 1) } }
    let targets = lengths.enumerated().map { j, n in (0..<n).map { t in (t * 13 + j * 5) % tags } }
    let config = TaggerConfig(vocabSize: vocab, encoder: GRUConfig(inputSize: emb, hiddenSize: hidden, numLayers: 1, bidirectional: true),
                              numTags: tags, crf: crf)
    let tagger = SequenceTagger(config, rng: &rng)
    let adam = Adam(tagger.parameters, learningRate: 1e-3)
    let batch = SequenceBatch(tokens: ids, steps: steps, lengths: lengths)
    func once() {
        tagger.zeroGrad()
        let logits = tagger.forward(batch, training: true, rng: &rng)
        let dE = crf ? tagger.crf!.loss(logits, lengths: lengths, targets: targets).dEmissions
                     : stepCrossEntropy(logits, rows: SequenceTagger.validRows(lengths: lengths), targets: targets.flatMap { $0 }).grad
        tagger.backward(dE)
        adam.step()
    }
    let m = medianSeconds(runs: runs, inner: 10, warmup: 3, once)
    print(String(format: "%-14@ %5d %10.3f %10.1f", (crf ? "tagger-train" : "tagger-softmax") as NSString, b, m * 1000, Double(b) / m))
}

if only == "tagger-train" || only == "tagger-softmax" {
    taggerBenchmark(runs: runs, crf: only == "tagger-train")
    exit(0)
}

/// One dense Adam step over SST-2's model (embedding 13,776 × 128, BiGRU-256 over 128 inputs,
/// linear 512 → 2: 2.36 M parameters), with 1 and 2 threads: the optimiser work every MPI rank
/// repeats.
func adamBenchmark(runs: Int) {
    var rng = RNG(seed: 3)
    let shapes = [[13_776, 128], [768, 128], [768, 256], [768], [768], [768, 128], [768, 256], [768], [768], [2, 512], [2]]
    let params = shapes.enumerated().map { k, s in Parameter("p\(k)", Tensor(shape: s, data: (0..<s.reduce(1, *)).map { _ in 0.1 * rng.normal() })) }
    for p in params { for i in p.grad.data.indices { p.grad.data[i] = 0.01 * rng.normal() } }
    let adam = Adam(params, learningRate: 1e-3)
    print("adam-sst2: \(params.reduce(0) { $0 + $1.value.count }) parameters")
    for threads in [1, 2] {
        Threads.set(threads)
        let m = medianSeconds(runs: runs, inner: 20, warmup: 3) { adam.step() }
        print(String(format: "adam-sst2      threads %d %10.3f ms", threads, m * 1000))
    }
}

if only == "adam" {
    adamBenchmark(runs: runs)
    exit(0)
}

/// CTC loss + gradient w.r.t. the logits at two shapes (bench/torch_ctc.py is the PyTorch side):
/// connected digits (T 100, B 32, C 11, 1–7 labels) and characters (T 300, B 32, C 29, 30–60 labels).
func ctcBenchmark(runs: Int) {
    print("shape          batch  median-ms")
    for (name, t, c, lo, hi) in [("ctc-digits", 100, 11, 1, 7), ("ctc-chars", 300, 29, 30, 60)] {
        let b = 32
        var rng = RNG(seed: 5)
        let logits = Tensor(shape: [t * b, c], data: (0..<(t * b * c)).map { _ in rng.normal() })
        let lengths = (0..<b).map { t - ($0 * 7) % (t / 4) }
        let targets = (0..<b).map { j in (0..<(lo + (j * 5) % (hi - lo + 1))).map { 1 + ($0 * 3 + j) % (c - 1) } }
        let ctc = CTCLoss(zeroInfinity: true)
        let m = medianSeconds(runs: runs, inner: 20, warmup: 3) { _ = ctc(logits, lengths: lengths, targets: targets) }
        print(String(format: "%-14@ %5d %10.3f", name as NSString, b, m * 1000))
    }
}

if only == "ctc" {
    ctcBenchmark(runs: runs)
    exit(0)
}

if only == "features" {
    try featureBenchmark(runs: runs)
    exit(0)
}

print("shape          batch  median-ms      seq/s   GFLOP/s  (runs: \(runs), threads: \(min(2, availableCores)))")
for s in shapes where only == s.name || (only == nil && !diagnostics.contains(s.name)) {
    var rng = RNG(seed: 1)
    var config = GRUConfig(inputSize: s.input, hiddenSize: s.hidden, numLayers: s.layers, bidirectional: s.bidirectional)
    if s.lstm { config.cell = .lstm }
    let gru = GRUEncoder(config, rng: &rng)
    let x = Tensor(shape: [s.steps, s.batch, s.input], data: (0..<(s.steps * s.batch * s.input)).map { _ in rng.normal() })
    if s.name == "infer-uni-1thread" { gru.threads = 1 }
    if s.name.hasSuffix("fp16") { gru.halfPrecisionInference = true }
    gru.computeInputGradient = false   // as in the PyTorch script, where the input needs no gradient
    let lengths = [Int](repeating: s.steps, count: s.batch)
    let dy = Tensor(repeating: 1, shape: [s.steps, s.batch, (s.bidirectional ? 2 : 1) * s.hidden])
    func once() {
        let out = gru.forward(x, lengths: lengths, training: s.training, keepForBackward: s.training, rng: &rng)
        if s.training { gru.zeroGrad(); gru.backward(dy) } else { _ = out }
    }
    // Inner repetitions so each timed run lasts long enough to measure.
    let m = medianSeconds(runs: runs, inner: s.batch == 1 ? 200 : 3, warmup: 2, once)
    print(String(format: "%-13@ %6d %10.3f %10.1f %9.1f", s.name as NSString, s.batch, m * 1000, Double(s.batch) / m, s.flops / m / 1e9))
}

