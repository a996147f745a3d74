import Foundation
import GrusAudio
import GrusCore
import GrusNN
import GrusTasks

/// What a model does on audio as it arrives, by its task: `grus stream` and programs open the
/// stream its task declares.
public enum StreamKind: String, Sendable {
    /// Keyword spotting (`KeywordStream`): a classification model over a sliding window.
    case keywords
    /// A growing transcript (`TranscriptStream`): a unidirectional CTC model, state carried.
    case transcript
}

/// A task whose models run on audio as it arrives.
public protocol StreamingTask: SequenceTask {
    static var streamKind: StreamKind { get }
}

extension Models {
    /// How the model in a folder streams (nil: its task does not).
    public static func streamKind(at path: String) throws -> StreamKind? {
        (try ModelFolder.locate(path).task as? any StreamingTask.Type)?.streamKind
    }
}

/// An audio model opened for streaming: its weights and model.json, the front end, and features
/// that can stream (refused, with the reason, when they cannot).
package struct StreamingModel<T: SequenceTask> {
    package let bundle: ModelBundle<T>
    package let model: T.Model
    package let options: FeatureOptions
    package let cmvn: CMVNStats?
    package let frontEnd: AudioFrontEnd
    package let features: StreamingFeatures
    /// model.json's path, for messages.
    package let json: String

    /// `needs`: what to say when the folder holds another task's model.
    package init(_ path: String, needs: String) throws {
        let folder = try ModelFolder.locate(path)
        json = folder.jsonURL.path
        guard folder.task == T.self else { throw GrusError.format(path: json, message: "a '\(folder.task.name)' model; \(needs)") }
        (bundle, model) = try ModelBundle<T>.load(folder)
        if model.encoder.config.isLSTM {
            throw GrusError.format(path: json, message: "an LSTM encoder: its cell state is not carried from chunk to chunk yet, so it cannot stream; train a GRU (model.encoder.cell: gru)")
        }
        guard case let .audio(o, stats, _) = bundle.frontEnd else { throw GrusError.format(path: json, message: "a text model; grus stream reads audio") }
        options = o
        cmvn = stats
        do {
            frontEnd = try AudioFrontEnd(o)
            features = try StreamingFeatures(frontEnd.extractor)
        } catch let e as FeatureOptionsError {
            throw GrusError.format(path: json, message: "these features cannot stream: " + e.problems.map(\.description).joined(separator: "; "))
        }
    }
}
