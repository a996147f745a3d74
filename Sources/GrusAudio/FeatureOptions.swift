/// Feature settings, one struct per stage, in the manner of Kaldi's option structs.
/// Every field has a documented default; the presets (`FeatureOptions.kaldi`, `.librosa`)
/// set them to match those tools.

public enum WindowType: String, Codable, Sendable, CaseIterable {
    /// 0.5 − 0.5 cos(2πn/(N−1)) (periodic: /N).
    case hann
    /// 0.54 − 0.46 cos(2πn/(N−1)).
    case hamming
    /// Kaldi's default: the Hann window raised to the power 0.85.
    case povey
    case rectangular
    /// 0.42 − 0.5 cos(2πn/(N−1)) + 0.08 cos(4πn/(N−1)).
    case blackman
}

public enum PaddingMode: String, Codable, Sendable {
    /// Mirror the signal at its edges without repeating the edge sample.
    case reflect
    /// Zeros.
    case constant
}

/// How the signal is cut into windowed frames.
public struct FrameOptions: Codable, Equatable, Sendable {
    /// Rate the features are computed at; input at other rates is resampled first. Default 16000.
    public var sampleRate = 16000
    /// Window length in milliseconds. Default 25.
    public var frameLengthMs = 25.0
    /// Hop between frames in milliseconds. Default 10.
    public var frameShiftMs = 10.0
    /// FFT size; 0 (default) rounds the window length up to a power of two.
    public var nFFT = 0
    /// Window function. Default povey (Kaldi).
    public var window: WindowType = .povey
    /// Periodic (DFT-even) window, as librosa and torch use; Kaldi's are symmetric. Default false.
    public var periodicWindow = false
    /// Kaldi's snip_edges: only frames that fit entirely in the signal. Default true.
    /// When false, frames are centred on multiples of the hop (see `center`).
    public var snipEdges = true
    /// With snipEdges false: true pads nFFT/2 at both ends and frames start at multiples of the
    /// hop in the padded signal (librosa/torch `center=True`); false follows Kaldi's layout
    /// (frame m centred at m·hop + hop/2, mirrored at the edges). Default true.
    public var center = true
    /// Padding for `center`. Default reflect (torch); librosa 0.10+ uses constant.
    public var padMode: PaddingMode = .reflect
    /// Pre-emphasis coefficient (x[n] − p·x[n−1], per frame as Kaldi does); 0 turns it off. Default 0.97.
    public var preemphasis: Float = 0.97
    /// Subtract each frame's mean before pre-emphasis. Default true.
    public var removeDC = true
    /// Gaussian dither amplitude added to each frame (seeded). Default 0 (off).
    public var dither: Float = 0

    public init() {}

    public var windowLength: Int { Int((Double(sampleRate) * frameLengthMs / 1000).rounded()) }
    public var hopLength: Int { Int((Double(sampleRate) * frameShiftMs / 1000).rounded()) }
    public var fftLength: Int {
        if nFFT > 0 { return nFFT }
        var n = 1
        while n < windowLength { n *= 2 }
        return n
    }
}

public enum MelScale: String, Codable, Sendable {
    /// mel = 2595 log10(1 + f/700) (HTK; Kaldi writes it 1127 ln(1 + f/700)).
    case htk
    /// Slaney's Auditory Toolbox: linear below 1 kHz, logarithmic above (librosa's default).
    case slaney
}

/// Where the triangular filters are linear.
public enum TriangleSpace: String, Codable, Sendable {
    /// Linear in mel, evaluated at each FFT bin's mel value (Kaldi).
    case mel
    /// Linear in Hz between mel-spaced corner frequencies (librosa, torchaudio).
    case hertz
}

public struct MelOptions: Codable, Equatable, Sendable {
    /// Number of mel bands. Default 40.
    public var numBins = 40
    /// Lowest frequency in Hz. Default 20 (Kaldi).
    public var fMin = 20.0
    /// Highest frequency in Hz; 0 means Nyquist, negative means Nyquist minus this. Default 0.
    public var fMax = 0.0
    public var scale: MelScale = .htk
    public var triangles: TriangleSpace = .mel
    /// Slaney area normalisation: each filter scaled by 2 / (its width in Hz). Default false.
    public var slaneyNorm = false
    /// Whether the Nyquist bin takes part (Kaldi leaves it out). Default false.
    public var includeNyquist = false

    public init() {}
}

public enum LogKind: String, Codable, Sendable, CaseIterable {
    /// ln(max(x, floor)).
    case natural
    /// 10·log10(max(x, floor)), with an optional `topDb` clamp (librosa's power_to_db).
    case decibel
    /// No log: the mel energies themselves.
    case none
}

public struct LogOptions: Codable, Equatable, Sendable {
    public var kind: LogKind = .natural
    /// Smallest value taken before the log. Default 1.1920929e-07 (float epsilon, as Kaldi/torchaudio).
    public var floor: Float = 1.1920929e-07
    /// For decibels: clamp to (max over the utterance − topDb). nil = no clamp.
    public var topDb: Float? = nil

    public init() {}
}

public struct MFCCOptions: Codable, Equatable, Sendable {
    /// Cepstra kept from the orthonormal DCT-II of the log mel energies. Default 13.
    public var numCeps = 13
    /// Cepstral liftering c_i · (1 + L/2 · sin(πi/L)); 0 turns it off. Default 22 (Kaldi).
    public var lifter: Float = 22

    public init() {}
}

public enum FeatureKind: String, Codable, Sendable, CaseIterable {
    /// Log mel filterbank energies (Kaldi "fbank").
    case fbank
    case mfcc
    /// Power spectrum (n_fft/2 + 1 bins).
    case spectrogram
}

public enum CMVNMode: String, Codable, Sendable, CaseIterable {
    case none
    /// Mean and variance over each utterance's own frames.
    case utterance
    /// Statistics from the training set, kept with the model.
    case global
    /// Over the previous `cmvnWindow` frames, the current one included (Kaldi's
    /// apply-cmvn-sliding with center=false): it follows a speaker and a channel as they come,
    /// and it can stream.
    case sliding
    /// Statistics over all of a speaker's utterances (Kaldi's apply-cmvn with utt2spk): in
    /// training per speaker and split, at evaluation over the speaker's own inputs, so no word's
    /// content shifts the statistics as it does for one short utterance. Applied by the
    /// pipeline, which knows the speakers; the extractor does none.
    case speaker
}

/// Feature settings to start from (`frontend.audio.preset`).
public enum FeaturePreset: String, Codable, Sendable, CaseIterable {
    case kaldi, librosa
    public var options: FeatureOptions { self == .kaldi ? .kaldi : .librosa }
}

/// The whole front end for one feature type.
public struct FeatureOptions: Codable, Equatable, Sendable {
    public var kind: FeatureKind = .fbank
    public var frame = FrameOptions()
    public var mel = MelOptions()
    public var log = LogOptions()
    public var mfcc = MFCCOptions()
    /// Power spectrum (|X|²) when true, magnitude when false. Default true.
    public var usePower = true
    /// Append deltas (1) or deltas and delta-deltas (2). Default 0.
    public var deltaOrder = 0
    /// Regression half-window for deltas (torchaudio/Kaldi use 2). Default 2.
    public var deltaWindow = 2
    public var cmvn: CMVNMode = .none
    /// With CMVN: also divide by the standard deviation. Default true.
    public var normalizeVariance = true
    /// Sliding CMVN: frames in the window (nil: 300, 3 s at a 10 ms shift).
    public var cmvnWindow: Int? = nil

    public init() {}

    /// Kaldi's fbank/mfcc defaults (as torchaudio.compliance.kaldi), with 40 mel bins and no dither.
    public static var kaldi: FeatureOptions {
        var o = FeatureOptions()
        o.frame = FrameOptions()
        o.mel = MelOptions()
        o.log = LogOptions()
        return o
    }

    /// librosa.feature.melspectrogram / mfcc (librosa 0.10+: centred frames, zero padding,
    /// periodic Hann, Slaney mel scale and norm, power_to_db with top_db 80 for MFCC) at
    /// 16 kHz with a 25 ms window centred in a 512-point FFT and a 10 ms hop, i.e.
    /// `n_fft=512, hop_length=160, win_length=400, n_mels=40, fmin=0`.
    public static var librosa: FeatureOptions {
        var o = FeatureOptions()
        o.frame.window = .hann
        o.frame.periodicWindow = true
        o.frame.snipEdges = false
        o.frame.center = true
        o.frame.padMode = .constant
        o.frame.preemphasis = 0
        o.frame.removeDC = false
        o.frame.nFFT = 512
        o.mel.fMin = 0
        o.mel.scale = .slaney
        o.mel.triangles = .hertz
        o.mel.slaneyNorm = true
        o.mel.includeNyquist = true
        o.log.kind = .decibel
        o.log.floor = 1e-10
        o.log.topDb = 80
        o.mfcc.numCeps = 20
        o.mfcc.lifter = 0
        return o
    }

    /// Feature dimension per frame (after deltas).
    public var dimension: Int {
        let base: Int
        switch kind {
        case .fbank: base = mel.numBins
        case .mfcc: base = mfcc.numCeps
        case .spectrogram: base = frame.fftLength / 2 + 1
        }
        return base * (1 + deltaOrder)
    }
}
