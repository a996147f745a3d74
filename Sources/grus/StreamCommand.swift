import ArgumentParser
import Foundation
import GrusAudio
import GrusCore
import GrusExperiment
import GrusInference
import GrusRecipes
import GrusReports
import GrusTasks
import GrusTrain

extension KeywordStream.Mode: ExpressibleByArgument {}

/// `grus stream`: a transcription model on audio as it arrives, chunk by chunk.
struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on audio as it arrives (a file, or raw 16-bit PCM on standard input): a transcript as it grows, or keyword detections.",
        discussion: """
        A transcription model (task: transcribe) must be unidirectional (model.encoder.bidirectional: false); each change \
        of the transcript prints "SECONDS<TAB>TRANSCRIPT" (JSON with --json), and the last line is the final transcript. \
        Streamed and offline scores are identical for the same audio.
        A classification model spots keywords: every --hop-ms it classifies the last --window-ms, averages the last \
        --smooth decisions, and reports a label that does not start with "_" (so _silence_ and _unknown_ are fillers) \
        whose score reaches --threshold, at most once per --refractory-ms: "START<TAB>END<TAB>LABEL<TAB>SCORE" \
        (JSON with --json). --truth scores the detections against keywords at known times.
        Features must stream: Kaldi framing, no deltas, global or no CMVN.
        """)

    @Option(help: "Experiment folder (or its model/ folder).") var model: String
    @Argument(help: "An audio file, or - for raw signed 16-bit little-endian mono PCM on standard input.") var input: String
    @Option(help: "Standard input's sample rate in Hz (must be the model's; a file is resampled).") var rate: Int?
    @Option(help: "Milliseconds of audio fed at a time (10 to 10000).") var chunkMs: Int = 100
    @Flag(help: "JSON lines: {\"time\": seconds, \"text\": transcript, \"final\": bool}.") var json = false
    @Option(help: "Keywords: the score a detection needs (0 to 1).") var threshold: Double = 0.8
    @Option(help: "Keywords: the audio each decision classifies, in ms (the model's clip length).") var windowMs: Int = 1000
    @Option(help: "Keywords: time between decisions, in ms.") var hopMs: Int = 100
    @Option(help: "Keywords: decisions averaged.") var smooth: Int = 3
    @Option(help: "Keywords: the least time between two detections, in ms.") var refractoryMs: Int = 1000
    @Option(help: "Keywords: window (classify the last window afresh at each decision) or state (one encoder step per frame, state carried; unidirectional models).")
    var mode: KeywordStream.Mode = .window
    @Option(help: "Keywords: a TSV of the keywords said (start and end seconds, label; header start, end, label); prints recall and false alarms per hour, and a curve over thresholds.") var truth: String?
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (10...10_000).contains(chunkMs) else { throw ValidationError("--chunk-ms must be 10 to 10000, got \(chunkMs)") }
        if let r = rate, !(1000...384_000).contains(r) { throw ValidationError("--rate must be 1000 to 384000 Hz, got \(r)") }
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be 0 to 1, got \(threshold)") }
        guard (100...60_000).contains(windowMs), (10...10_000).contains(hopMs), (1...100).contains(smooth), (0...60_000).contains(refractoryMs) else {
            throw ValidationError("--window-ms 100-60000, --hop-ms 10-10000, --smooth 1-100, --refractory-ms 0-60000")
        }
    }

    func run() throws {
        try reportingErrors {
            threads.apply()
            if try Models.streamKind(at: model) == .keywords { try spotKeywords(); return }
            let stream = try TranscriptStream(model: model)
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
            // Input that ends mid-sample ends the stream there; the odd byte is dropped.
            try readInput(sampleRate: stream.sampleRate, file: stream.read) { samples in
                if stream.push(samples) { emit(final: false) }
            }
            stream.finish()
            emit(final: true)
        }
    }

    /// Reads the input as `feed` chunks of samples at `sampleRate`.
    func readInput(sampleRate: Int, file: (String) throws -> [Float], feed: ([Float]) -> Void) throws {
        let chunk = max(1, sampleRate * chunkMs / 1000)
        if input == "-" {
            guard let r = rate else { throw ValidationError("reading standard input needs --rate (the model's is \(sampleRate) Hz)") }
            guard r == sampleRate else {
                throw ValidationError("--rate \(r): the model reads \(sampleRate) Hz audio; resample before streaming (e.g. sox ... -r \(sampleRate))")
            }
            var carry: UInt8? = nil
            while true {
                let data = FileHandle.standardInput.readData(ofLength: chunk * 2)
                if data.isEmpty { break }
                var bytes = [UInt8](data)
                if let c = carry { bytes.insert(c, at: 0); carry = nil }
                if bytes.count % 2 == 1 { carry = bytes.removeLast() }
                var samples = [Float](repeating: 0, count: bytes.count / 2)
                for k in 0..<samples.count {
                    let bits = UInt16(bytes[2 * k]) | (UInt16(bytes[2 * k + 1]) << 8)
                    samples[k] = Float(Int16(bitPattern: bits)) / 32768
                }
                feed(samples)
            }
        } else {
            if rate != nil { throw ValidationError("--rate is for standard input; a file's own rate is read from it") }
            let samples = try file(input)
            var i = 0
            while i < samples.count { feed(Array(samples[i..<min(i + chunk, samples.count)])); i += chunk }
        }
    }

    func spotKeywords() throws {
        let spot = try KeywordStream(model: model, threshold: threshold, windowMs: windowMs, hopMs: hopMs, smooth: smooth, refractoryMs: refractoryMs,
                                     mode: mode)
        func show(_ d: KeywordStream.Detection) {
            if json {
                let record: [String: Any] = ["start": (d.start * 100).rounded() / 100, "end": (d.end * 100).rounded() / 100, "label": d.label,
                                             "score": (d.score * 1e4).rounded() / 1e4]
                print(String(decoding: (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])) ?? Data(), as: UTF8.self))
            } else {
                print(String(format: "%.2f\t%.2f\t%@\t%.4f", d.start, d.end, d.label as NSString, d.score))
            }
            fflush(stdout)
        }
        try readInput(sampleRate: spot.sampleRate, file: spot.read) { samples in
            for d in spot.push(samples) { show(d) }
        }
        for d in spot.finish() { show(d) }
        guard let truthPath = truth else { return }
        guard let text = readWholeFile(truthPath).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ValidationError("--truth \(truthPath): cannot be read")
        }
        var keywords: [(start: Double, end: Double, label: String)] = []
        for (n, line) in text.split(separator: "\n").enumerated() where n > 0 && !line.isEmpty {
            let f = line.split(separator: "\t").map(String.init)
            guard f.count >= 3, let a = Double(f[0]), let b = Double(f[1]) else {
                throw ValidationError("--truth \(truthPath):\(n + 1): expected start<TAB>end<TAB>label")
            }
            keywords.append((a, b, f[2]))
        }
        let s = KeywordStream.score(spot.detections, truth: keywords, seconds: spot.seconds)
        print(String(format: "threshold %.2f: recall %.2f%% (%d of %d keywords), %d false alarms in %.1f s = %.1f per hour",
                     threshold, 100 * s.recall, s.hits, keywords.count, s.falseAlarms, spot.seconds, s.falseAlarmsPerHour))
        print("threshold\trecall\tfalse_alarms_per_hour")
        for t in stride(from: 0.3, through: 0.99, by: 0.05) + [0.99] {
            let c = KeywordStream.score(spot.detections(threshold: t), truth: keywords, seconds: spot.seconds)
            print(String(format: "%.2f\t%.4f\t%.1f", t, c.recall, c.falseAlarmsPerHour))
        }
    }
}
