import Foundation
import GrusAudio
import GrusData
import GrusNN
import GrusTasks
import GrusText
import GrusTrain

/// A validated recipe with every default filled in: the typed view of `RecipeSchema`, which
/// declares each key's name, type, range, default and help. Field names are the keys in
/// camelCase; choices are the enums the code switches over. (A test checks that the two agree
/// key for key.)
public struct Recipe: Codable, Equatable {
    public struct Experiment: Codable, Equatable { public var name: String; public var out: String; public var seed: Int; public var cacheDir: String }
    public typealias Corpus = CorpusSettings
    public struct Augment: Codable, Equatable {
        public var specAugment: Bool, timeMasks: Int, maxTimeWidth: Int, freqMasks: Int, maxFreqWidth: Int
        public var noise: NoiseKind, noiseFolder: String, minSnr: Double, maxSnr: Double, noiseProbability: Double
        public var maxShiftMs: Double, speeds: [Double], vtlp: [Double]
        public var prefixClips: Int
    }
    public struct AudioFrontEnd: Codable, Equatable {
        public var preset: FeaturePreset, kind: FeatureKind, bins: Int, ceps: Int
        /// 0: the training audio's own rate.
        public var sampleRate: Int
        public var frameLengthMs: Double, frameShiftMs: Double, nFft: Int, deltas: Int, cmvn: CMVNMode, cmvnWindow: Int
        public var augment: Augment
    }
    public struct TextFrontEnd: Codable, Equatable {
        public var tokenizer: TextEncoder.Settings.Kind, unicode: NormalizerOptions.UnicodeForm, caseFold: Bool, splitPunctuation: Bool
        public var pattern: String
        public var bpeVocabulary: Int, bpeMinFrequency: Int, minCount: Int, maxVocabulary: Int
        public var maxLength: Int, truncation: TextEncoder.Truncation, pretrainedVectors: String, freezeEmbeddings: Bool
    }
    public struct FrontEnd: Codable, Equatable { public var type: FrontEndType; public var audio: AudioFrontEnd; public var text: TextFrontEnd }
    public struct Encoder: Codable, Equatable {
        public var hidden: Int, layers: Int, bidirectional: Bool, dropout: Double, form: GRUForm, recurrentInit: GRUConfig.RecurrentInit
        public var cell: RecurrentCellKind
    }
    public struct Head: Codable, Equatable {
        public var pooling: Pooling.Kind; public var poolWindow: Int; public var dropout: Double
        public var crf: Bool; public var transitionMask: TransitionMask; public var tagScheme: TagSchemeChoice
    }
    public struct CharEncoder: Codable, Equatable { public var dim: Int; public var hidden: Int }
    public struct Model: Codable, Equatable {
        public var embeddingDim: Int; public var stackFrames: Int; public var charEncoder: CharEncoder; public var encoder: Encoder; public var head: Head
        public var initFrom: String; public var initEmbedding: Bool
    }
    public typealias Schedule = ScheduleOptions
    public typealias EarlyStopping = EarlyStoppingOptions
    public typealias Training = TrainingOptions
    public struct Evaluation: Codable, Equatable { public var topK: Int; public var beamWidth: Int; public var splits: [Split] }

    public var task: String
    public var experiment: Experiment
    public var corpus: Corpus
    public var frontend: FrontEnd
    public var model: Model
    public var training: Training
    public var evaluation: Evaluation
    public var tune: TuneOptions
}
