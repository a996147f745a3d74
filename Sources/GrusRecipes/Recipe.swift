import Foundation

/// A validated recipe with every default filled in. Field names are the YAML keys in camelCase.
public struct Recipe: Codable, Equatable {
    public struct Experiment: Codable, Equatable { public var name: String; public var out: String; public var seed: Int }
    public struct Corpus: Codable, Equatable {
        public var format: String, path: String, train: String, dev: String, test: String
        public var devFraction: Double
        public var textColumn: String, pathColumn: String, labelColumn: String, splitColumn: String
        public var order: String, trecLabel: String, split: String, testSpeaker: String
        public var twelveClass: Bool, words: [String]
        public var onBadInput: String, onInvalidUtf8: String, maxSeconds: Double, longAudio: String
    }
    public struct Augment: Codable, Equatable {
        public var specAugment: Bool, timeMasks: Int, maxTimeWidth: Int, freqMasks: Int, maxFreqWidth: Int
        public var noise: String, noiseFolder: String, minSnr: Double, maxSnr: Double, noiseProbability: Double
        public var maxShiftMs: Double, speeds: [Double]
    }
    public struct AudioFrontEnd: Codable, Equatable {
        public var preset: String, kind: String, bins: Int, ceps: Int, sampleRate: Int
        public var frameLengthMs: Double, frameShiftMs: Double, nFft: Int, deltas: Int, cmvn: String
        public var augment: Augment
    }
    public struct TextFrontEnd: Codable, Equatable {
        public var tokenizer: String, unicode: String, caseFold: Bool, splitPunctuation: Bool, pattern: String
        public var bpeVocabulary: Int, bpeMinFrequency: Int, minCount: Int, maxVocabulary: Int
        public var maxLength: Int, truncation: String, pretrainedVectors: String, freezeEmbeddings: Bool
    }
    public struct FrontEnd: Codable, Equatable { public var type: String; public var audio: AudioFrontEnd; public var text: TextFrontEnd }
    public struct Encoder: Codable, Equatable {
        public var hidden: Int, layers: Int, bidirectional: Bool, dropout: Double, form: String, recurrentInit: String
    }
    public struct Head: Codable, Equatable { public var pooling: String; public var dropout: Double }
    public struct Model: Codable, Equatable { public var embeddingDim: Int; public var encoder: Encoder; public var head: Head }
    public struct Schedule: Codable, Equatable {
        public var type: String, warmupSteps: Int, stepEpochs: Int, gamma: Double, patience: Int, minLr: Double
    }
    public struct EarlyStopping: Codable, Equatable { public var metric: String; public var patience: Int }
    public struct Training: Codable, Equatable {
        public var epochs: Int, batchSize: Int, optimizer: String, lr: Double, momentum: Double, weightDecay: Double
        public var clipNorm: Double, labelSmoothing: Double, classWeights: String, lazyEmbeddingUpdates: Bool
        public var schedule: Schedule, earlyStopping: EarlyStopping
        public var bucket: Bool, threads: Int, logEvery: Int, onNan: String
    }
    public struct Evaluation: Codable, Equatable { public var topK: Int; public var splits: [String] }

    public var experiment: Experiment
    public var corpus: Corpus
    public var frontend: FrontEnd
    public var model: Model
    public var training: Training
    public var evaluation: Evaluation
}
