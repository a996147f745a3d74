import Foundation
import GrusCore

/// Connected digits joined from FSDD recordings (corpus.source) into corpus.path on first use
/// (`FSDDDigits`); with split: speaker, one speaker's strings are the test. corpus.synthetic_digits
/// adds every synthetic string to the training split.
public enum FSDDDigitsFormat: CorpusFormat {
    public static let name = "fsdd_digits"
    public static let inputs: FrontEndType? = .audio
    public static let generated = true
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.audio, CorpusKeys.speakerSplit, [
            "source": Field(.path, default: "", "fsdd_digits: the FSDD recordings the strings are joined from"),
            "synthetic_digits": Field(.path, default: "", "fsdd_digits: also train on the synthetic connected digits made in this folder (all 96 espeak-ng voices; '' = none)"),
        ])
    }

    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        var settings = FSDDDigits.Settings()
        settings.source = c.source
        try CorpusLocks.process.using(c.path, current: { FSDDDigits.isCurrent(c.path, settings) }, log: context.log) {
            try FSDDDigits.ensure(c.path, settings: settings, log: context.log)
        }
        var (items, bad) = try CorpusReader.manifest((c.path as NSString).appendingPathComponent(FSDDDigits.manifestName),
                                                     inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true)
        if c.split == .speaker {
            // One speaker's strings (from all its recordings) are the test; the others' training strings train.
            guard items.contains(where: { $0.speaker == c.testSpeaker }) else {
                throw CorpusError("\(c.path): no strings of speaker '\(c.testSpeaker)'")
            }
            items = items.compactMap { i in
                var i = i
                if i.speaker == c.testSpeaker { i.split = .test; return i }
                return i.split == .train ? i : nil
            }
        }
        if !c.syntheticDigits.isEmpty && context.onlySplit == nil {
            // Many more voices to learn from: every synthetic string trains.
            var synthetic = SyntheticDigits.Settings()
            synthetic.seed = 1
            let more = try SyntheticDigitsFormat.made(c.syntheticDigits, synthetic, log: context.log)
            items += more.items.map { var i = $0; i.split = .train; return i }
            bad += more.bad
        }
        return (items, bad)
    }

    public static func missingPaths(_ c: CorpusSettings, fileExists: (String) -> Bool) -> [(key: String, message: String)] {
        guard c.source.isEmpty || !fileExists(c.source) else { return [] }
        return [("corpus.source", c.source.isEmpty ? "fsdd_digits joins FSDD recordings: set it to the FSDD folder"
                                                   : "'\(c.source)' does not exist; point it at the FSDD recordings")]
    }
}
