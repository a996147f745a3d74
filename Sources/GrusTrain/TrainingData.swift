import GrusAudio
import GrusData
import GrusInference
import GrusText

/// The features stage's result: every usable example with its features (audio: rows of a
/// FeatureStore on disk; text: token ids), what could not be used, and the front end a model
/// trained on them keeps.
public struct FeatureSet {
    package var examples: [Example]
    package var bad: [BadInput]
    /// Audio: the features file, read per batch (CMVN applied on read).
    package var store: FeatureStore?
    package var frontEnd: ModelFrontEnd

    package init(examples: [Example], bad: [BadInput], store: FeatureStore?, frontEnd: ModelFrontEnd) {
        (self.examples, self.bad, self.store, self.frontEnd) = (examples, bad, store, frontEnd)
    }

    /// Per-step input size of the model: the feature dimension, or nil for token ids.
    package var featureDimension: Int? { store?.dimension }
    package var textEncoder: TextEncoder? { if case let .text(e) = frontEnd { return e }; return nil }
}

/// The audio front end of a run (extractor and augmenter), at the resolved sample rate.
public struct AudioSetup {
    package let frontEnd: AudioFrontEnd
    package let augmenter: Augmenter?
    package let maxSeconds: Double
    package let cmvn: CMVNMode

    package init(frontEnd: AudioFrontEnd, augmenter: Augmenter?, maxSeconds: Double, cmvn: CMVNMode) {
        (self.frontEnd, self.augmenter, self.maxSeconds, self.cmvn) = (frontEnd, augmenter, maxSeconds, cmvn)
    }
}

/// Named points a run passes, for a program that watches them: `grus` kills itself at one of
/// them when GRUS_FAULT asks (its kill-and-resume tests). Nothing watches them otherwise.
public enum RunEvents {
    public enum Point: String, Sendable {
        /// The features stage begins.
        case features
        /// A chunk of audio features was written to the cache.
        case featuresChunk = "features-chunk"
        /// An optimiser step was taken.
        case step
        /// A dev evaluation begins.
        case eval
        /// An epoch's last checkpoint is in place.
        case checkpointed
    }

    nonisolated(unsafe) public static var observer: ((Point) -> Void)?

    package static func reach(_ point: Point) { observer?(point) }
}
