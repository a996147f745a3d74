import GrusCore

// The recipe keys of the audio front end (frontend.audio), declared here once: the recipe schema,
// `grus recipe-keys` and the flags of `grus features` are made from them.

extension FeatureOptions {
    /// frontend.audio.*
    public static let recipeKeys: [String: Field] = [
        "preset": Field.choice(FeaturePreset.kaldi, "feature settings to start from"),
        "kind": Field.choice(FeatureKind.fbank, "feature type"),
        "bins": Field.int(40, min: 1, max: 512, "mel bands"),
        "ceps": Field.int(13, min: 1, max: 512, "MFCC cepstra"),
        "sample_rate": Field(.int(min: 1000, max: 192_000, names: ["native": 0]), default: 0,
                             "rate features are computed at; native: the training audio's own rate (never upsample)"),
        "frame_length_ms": Field.number(25, min: 1, max: 1000, exclusive: false, "window length"),
        "frame_shift_ms": Field.number(10, min: 1, max: 1000, exclusive: false, "hop"),
        "n_fft": Field.int(0, min: 0, max: 65536, "FFT size (0 = next power of two)"),
        "deltas": Field.int(0, min: 0, max: 2, "append deltas (1) or deltas and delta-deltas (2)"),
        "cmvn": Field.choice(CMVNMode.global, "mean/variance normalisation: none, per utterance, training-set statistics, sliding over the last cmvn_window frames (streamable), or per speaker (each speaker's own statistics, also for speakers never heard; the corpus must name speakers)"),
        "cmvn_window": Field.int(300, min: 10, max: 100_000, "sliding CMVN: frames in the window (300 = 3 s at a 10 ms shift)"),
        "augment": .section(AugmentOptions.recipeKeys),
    ]
}

extension AugmentOptions {
    /// frontend.audio.augment.*
    public static let recipeKeys: [String: Field] = [
        "spec_augment": Field.bool(false, "SpecAugment time and frequency masks"),
        "time_masks": Field.int(2, min: 0, max: 20, "SpecAugment: time masks per utterance"),
        "max_time_width": Field.int(20, min: 0, max: 1000, "SpecAugment: widest time mask, in frames"),
        "freq_masks": Field.int(2, min: 0, max: 20, "SpecAugment: frequency masks per utterance"),
        "max_freq_width": Field.int(8, min: 0, max: 512, "SpecAugment: widest frequency mask, in bins"),
        "noise": Field.choice(NoiseKind.none, "additive noise source"),
        "noise_folder": Field(.path, default: "", "folder of noise clips for noise: folder"),
        "min_snr": Field.number(5, min: -20, max: 100, "noise: lowest signal-to-noise ratio, dB"),
        "max_snr": Field.number(20, min: -20, max: 100, "noise: highest signal-to-noise ratio, dB"),
        "noise_probability": Field.number(0.5, min: 0, max: 1, "noise: share of training utterances that get it"),
        "max_shift_ms": Field.number(0, min: 0, max: 10_000, "random time shift either way (0 = off)"),
        "speeds": Field(.list(.number(min: 0.5, max: 2, exclusiveMin: false)), default: [Double](),
                        "speed perturbation factors, e.g. [0.9, 1.0, 1.1]"),
        "vtlp": Field(.list(.number(min: 0.5, max: 2, exclusiveMin: false)), default: [Double](),
                      "vocal tract length perturbation: [lowest, highest] stretch of the feature bins per utterance, e.g. [0.9, 1.1] ([] = off)"),
        "prefix_clips": Field.int(0, min: 0, max: 10, "classify with model.head.pool_window: the encoder first runs over 0 to this many random other training clips, as in a stream whose state ran before the window (grus stream --mode state)"),
    ]
}

/// Additive noise for augmentation (frontend.audio.augment.noise).
public enum NoiseKind: String, Codable, Sendable, CaseIterable { case none, white, pink, folder }
