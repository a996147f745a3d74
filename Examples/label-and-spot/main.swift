// Labels one input with a trained Grus model, then spots keywords in a long recording as it
// "arrives" in 100 ms chunks. Uses GrusInference only.
//   label-and-spot MODEL_FOLDER INPUT [RECORDING.wav]
// INPUT is an audio file for an audio model, or a text for a text model.
import Foundation
import GrusInference

let args = CommandLine.arguments
guard args.count >= 3 else { print("usage: label-and-spot MODEL_FOLDER INPUT [RECORDING.wav]"); exit(2) }
do {
    let model = try Models.load(args[1])
    let prediction = try model.label(args[2], topK: 3)
    print("\(args[2]): \(prediction.text)")
    if args.count > 3, try Models.streamKind(at: args[1]) == .keywords {
        let spotter = try KeywordStream(model: args[1], threshold: 0.7)
        let audio = try spotter.read(args[3]), chunk = spotter.sampleRate / 10
        for start in stride(from: 0, to: audio.count, by: chunk) {
            for d in spotter.push(Array(audio[start..<min(start + chunk, audio.count)])) { print("heard \(d.label) at \(d.end) s (\(d.score))") }
        }
        for d in spotter.finish() { print("heard \(d.label) at \(d.end) s (\(d.score))") }
    }
} catch {
    print("error: \(error)")
    exit(1)
}
