import ArgumentParser
import Foundation
import GrusAudio
import GrusCore
import GrusRecipes

/// `grus stream`: a transcription model on audio as it arrives, chunk by chunk.
struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcribe audio as it arrives (a file, or raw 16-bit PCM on standard input), printing the transcript as it grows.",
        discussion: """
        The model must be a unidirectional transcription model (task: transcribe, model.encoder.bidirectional: false) \
        whose features can stream (Kaldi framing, no deltas, global or no CMVN). Streamed and offline scores are identical \
        for the same audio. Each change of the transcript prints a line "SECONDS<TAB>TRANSCRIPT" (or JSON with --json); \
        the last line is the final transcript.
        """)

    @Option(help: "Experiment folder (or its model/ folder).") var model: String
    @Argument(help: "An audio file, or - for raw signed 16-bit little-endian mono PCM on standard input.") var input: String
    @Option(help: "Standard input's sample rate in Hz (must be the model's; a file is resampled).") var rate: Int?
    @Option(help: "Milliseconds of audio fed at a time (10 to 10000).") var chunkMs: Int = 100
    @Flag(help: "JSON lines: {\"time\": seconds, \"text\": transcript, \"final\": bool}.") var json = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (10...10_000).contains(chunkMs) else { throw ValidationError("--chunk-ms must be 10 to 10000, got \(chunkMs)") }
        if let r = rate, !(1000...384_000).contains(r) { throw ValidationError("--rate must be 1000 to 384000 Hz, got \(r)") }
    }

    func run() throws {
        try reportingErrors {
            threads.apply()
            let stream = try TranscriptStream(model: model)
            let chunk = max(1, stream.sampleRate * chunkMs / 1000)
            func emit(final: Bool) {
                if json {
                    let record: [String: Any] = ["time": (stream.seconds * 1000).rounded() / 1000, "text": stream.text, "final": final]
                    let data = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])) ?? Data()
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(String(format: "%.2f\t", stream.seconds) + stream.text)
                }
                fflush(stdout)
            }
            if input == "-" {
                guard let r = rate else { throw ValidationError("reading standard input needs --rate (the model's is \(stream.sampleRate) Hz)") }
                guard r == stream.sampleRate else {
                    throw ValidationError("--rate \(r): the model reads \(stream.sampleRate) Hz audio; resample before streaming (e.g. sox ... -r \(stream.sampleRate))")
                }
                var carry: UInt8? = nil
                while true {
                    let data = FileHandle.standardInput.readData(ofLength: chunk * 2)
                    if data.isEmpty { break }
                    var bytes = [UInt8](data)
                    if let c = carry { bytes.insert(c, at: 0); carry = nil }
                    // A chunk may end mid-sample: keep its odd byte for the next one.
                    if bytes.count % 2 == 1 { carry = bytes.removeLast() }
                    var samples = [Float](repeating: 0, count: bytes.count / 2)
                    for k in 0..<samples.count {
                        let bits = UInt16(bytes[2 * k]) | (UInt16(bytes[2 * k + 1]) << 8)
                        samples[k] = Float(Int16(bitPattern: bits)) / 32768
                    }
                    if stream.push(samples) { emit(final: false) }
                }
                // Input that ends mid-sample ends the stream there; the odd byte is dropped.
            } else {
                if rate != nil { throw ValidationError("--rate is for standard input; a file's own rate is read from it") }
                let samples = try stream.read(input)
                var i = 0
                while i < samples.count {
                    if stream.push(Array(samples[i..<min(i + chunk, samples.count)])) { emit(final: false) }
                    i += chunk
                }
            }
            stream.finish()
            emit(final: true)
        }
    }
}
