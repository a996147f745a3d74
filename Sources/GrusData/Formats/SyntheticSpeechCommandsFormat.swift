import GrusCore

/// Speech commands Grus speaks with espeak-ng into corpus.path on first use (`SyntheticSpeechCommands`),
/// then read as Google's layout. The seed picks the voices' pitch, rate and noise.
public enum SyntheticSpeechCommandsFormat: CorpusFormat {
    public static let name = "synthetic_speech_commands"
    public static let inputs: FrontEndType? = .audio
    public static let generated = true
    public static var keys: [String: Field] { SpeechCommandsFormat.keys }

    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        var settings = SyntheticSpeechCommands.Settings()
        settings.seed = UInt64(context.seed)
        try CorpusLocks.process.using(c.path, current: { SyntheticSpeechCommands.isCurrent(c.path, settings) }, log: context.log) {
            try SyntheticSpeechCommands.ensure(c.path, settings: settings, log: context.log)
        }
        return try SpeechCommandsFormat.read(c, context)
    }
}
