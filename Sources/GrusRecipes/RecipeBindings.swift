import GrusAudio
import GrusNN
import GrusTasks
import GrusTrain
import GrusText

// Where recipe sections become the modules' own option types. Nothing else reads these keys.

extension Recipe.AudioFrontEnd {
    /// Feature options at `rate` (the resolved `sample_rate`). Global CMVN is applied with
    /// training statistics by the pipeline, so the extractor itself does none.
    public func featureOptions(rate: Int) -> FeatureOptions {
        var o = preset.options
        o.kind = kind
        o.mel.numBins = bins
        o.mfcc.numCeps = ceps
        o.frame.sampleRate = rate
        o.frame.frameLengthMs = frameLengthMs
        o.frame.frameShiftMs = frameShiftMs
        o.frame.nFFT = nFft
        o.deltaOrder = deltas
        o.cmvn = cmvn == .global ? .none : cmvn
        if cmvn == .sliding { o.cmvnWindow = cmvnWindow }
        return o
    }

    /// The recipe key of a FeatureOptions field, for messages.
    public static func key(of field: String) -> String {
        let keys = ["frame.sampleRate": "sample_rate", "frame.frameLengthMs": "frame_length_ms", "frame.frameShiftMs": "frame_shift_ms",
                    "frame.nFFT": "n_fft", "mel.numBins": "bins", "mfcc.numCeps": "ceps", "deltaOrder": "deltas"]
        return "frontend.audio." + (keys[field] ?? field)
    }
}

extension Recipe.Augment {
    package var options: AugmentOptions {
        var o = AugmentOptions()
        if specAugment {
            var s = AugmentOptions.SpecAugment()
            s.timeMasks = timeMasks; s.maxTimeWidth = maxTimeWidth; s.freqMasks = freqMasks; s.maxFreqWidth = maxFreqWidth
            o.specAugment = s
        }
        let source: AugmentOptions.NoiseSource?
        switch noise {
        case .none: source = nil
        case .white: source = .white
        case .pink: source = .pink
        case .folder: source = .clips
        }
        if let source {
            var n = AugmentOptions.Noise()
            n.source = source
            n.minSNR = minSnr; n.maxSNR = maxSnr; n.probability = noiseProbability
            o.noise = n
        }
        if maxShiftMs > 0 { o.maxShiftMs = maxShiftMs }
        if !speeds.isEmpty { o.speeds = speeds }
        if vtlp.count == 2 { o.vtlp = vtlp.min()!...vtlp.max()! }
        return o
    }
}

extension Recipe.TextFrontEnd {
    package var settings: TextEncoder.Settings {
        var s = TextEncoder.Settings()
        s.normalizer.unicode = unicode
        s.normalizer.caseFold = caseFold
        s.kind = tokenizer
        s.splitPunctuation = splitPunctuation
        s.pattern = pattern.isEmpty ? nil : pattern
        s.bpeVocabularySize = bpeVocabulary
        s.bpeMinFrequency = bpeMinFrequency
        s.minCount = minCount
        s.maxVocabulary = maxVocabulary > 0 ? maxVocabulary : nil
        s.maxLength = maxLength > 0 ? maxLength : nil
        s.truncation = truncation
        return s
    }
}

extension Recipe.Encoder {
    package func gruConfig(inputSize: Int) -> GRUConfig {
        var c = GRUConfig(inputSize: inputSize, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional,
                          dropout: Float(dropout), form: form, recurrentInit: recurrentInit)
        c.cell = cell == .lstm ? .lstm : nil     // nil: a GRU, as model.json has always said
        return c
    }
}

extension Recipe.Model {
    /// The task's head settings: model.head, model.char_encoder and model.stack_frames.
    public var headOptions: HeadOptions {
        var o = HeadOptions()
        o.pooling = head.pooling
        o.poolWindow = head.poolWindow
        o.dropout = head.dropout
        o.crf = head.crf
        o.transitionMask = head.transitionMask
        o.tagScheme = head.tagScheme
        o.charDim = charEncoder.dim
        o.charHidden = charEncoder.hidden
        o.stackFrames = stackFrames
        return o
    }
}
