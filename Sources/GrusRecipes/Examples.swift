import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusNN
import GrusText

/// One example after its front end: token ids (text), or audio features [frames, dim] held
/// either here (`features`) or as entry `stored` of a FeatureStore.
struct Example {
    var item: Item
    var label: Int            // −1: a label the model does not know
    var features: Tensor?
    var tokens: [Int]?
    var stored: Int?
    var frames = 0
    var length: Int { features?.shape[0] ?? tokens?.count ?? frames }

    func audioFeatures(_ store: FeatureStore?) throws -> Tensor {
        if let f = features { return f }
        guard let k = stored, let store else { preconditionFailure("example \(item.origin) has no features") }
        return try store.read(k)
    }
}

/// Pads examples into a time-major batch; stored features are read from `store`.
func makeBatch(_ examples: [Example], _ indices: [Int], store: FeatureStore? = nil,
               transform: ((Int, Tensor) throws -> Tensor)? = nil) throws -> SequenceBatch {
    let labels = indices.map { max(0, examples[$0].label) }
    if examples[indices[0]].tokens != nil {
        return SequenceBatch.padding(indices.map { examples[$0].tokens! }, labels: labels)
    }
    let feats = try indices.map { i -> Tensor in
        let f = try examples[i].audioFeatures(store)
        return try transform?(i, f) ?? f
    }
    let t = feats.map { $0.shape[0] }.max()!, b = feats.count, d = feats[0].shape[1]
    var x = Tensor(zeros: [t, b, d])
    x.data.withUnsafeMutableBufferPointer { xp in
        for (j, f) in feats.enumerated() {
            f.data.withUnsafeBufferPointer { fp in
                for s in 0..<f.shape[0] { (xp.baseAddress! + (s * b + j) * d).update(from: fp.baseAddress! + s * d, count: d) }
            }
        }
    }
    return SequenceBatch(features: x, lengths: feats.map { $0.shape[0] }, labels: labels)
}

/// Runs the model over examples in batches (both cores inside the GRU) and returns class
/// probabilities in the examples' order.
func predictAll(_ model: SequenceClassifier, _ examples: [Example], store: FeatureStore? = nil, batchSize: Int) throws -> [[Float]] {
    var out = [[Float]](repeating: [], count: examples.count)
    let order = examples.indices.sorted { examples[$0].length > examples[$1].length }
    for start in stride(from: 0, to: order.count, by: batchSize) {
        let idx = Array(order[start..<min(start + batchSize, order.count)])
        let probs = model.predict(try makeBatch(examples, idx, store: store))
        let c = probs.shape[1]
        for (j, i) in idx.enumerated() { out[i] = Array(probs.data[(j * c)..<((j + 1) * c)]) }
    }
    return out
}

/// Audio front end for a recipe.
func featureOptions(_ a: Recipe.AudioFrontEnd) -> FeatureOptions {
    var o = a.preset == "librosa" ? FeatureOptions.librosa : FeatureOptions.kaldi
    o.kind = FeatureKind(rawValue: a.kind)!
    o.mel.numBins = a.bins
    o.mfcc.numCeps = a.ceps
    o.frame.sampleRate = a.sampleRate
    o.frame.frameLengthMs = a.frameLengthMs
    o.frame.frameShiftMs = a.frameShiftMs
    o.frame.nFFT = a.nFft
    o.deltaOrder = a.deltas
    o.cmvn = a.cmvn == "utterance" ? .utterance : .none   // global CMVN is applied with training statistics
    return o
}

func augmentOptions(_ a: Recipe.Augment) -> AugmentOptions {
    var o = AugmentOptions()
    if a.specAugment {
        var s = AugmentOptions.SpecAugment()
        s.timeMasks = a.timeMasks; s.maxTimeWidth = a.maxTimeWidth; s.freqMasks = a.freqMasks; s.maxFreqWidth = a.maxFreqWidth
        o.specAugment = s
    }
    if a.noise != "none" {
        var n = AugmentOptions.Noise()
        n.source = a.noise == "white" ? .white : a.noise == "pink" ? .pink : .clips
        n.minSNR = a.minSnr; n.maxSNR = a.maxSnr; n.probability = a.noiseProbability
        o.noise = n
    }
    if a.maxShiftMs > 0 { o.maxShiftMs = a.maxShiftMs }
    if !a.speeds.isEmpty { o.speeds = a.speeds }
    return o
}

/// Reads the audio of an item at the front end's rate, cropped to `maxSeconds` (0 = no limit);
/// `segment` k reads the k-th `maxSeconds` stretch instead (long files split into examples).
func loadAudio(_ path: String, frontEnd: AudioFrontEnd, maxSeconds: Double, segment: Int? = nil) throws -> [Float] {
    let rate = frontEnd.options.frame.sampleRate
    let start = Double(segment ?? 0) * maxSeconds
    var samples = try frontEnd.load(path, maxSeconds: maxSeconds > 0 ? maxSeconds : nil, startSeconds: start).samples
    if maxSeconds > 0 { samples = Array(samples.prefix(Int(maxSeconds * Double(rate)))) }
    let minimum = frontEnd.options.frame.windowLength
    if samples.count < minimum {
        throw AudioError.invalidSamples(path: path, reason: "too short: \(samples.count) samples at \(rate) Hz, one frame needs \(minimum)")
    }
    return samples
}
