import GrusAudio
import GrusData
import GrusTasks
import GrusTrain

/// Checks that involve more than one key, on a recipe whose keys are each valid. Each problem
/// names the key to change.
package enum RecipeChecks {
    package static func check(_ r: Recipe, file: String) -> [RecipeIssue] {
        var issues: [RecipeIssue] = []
        func fail(_ key: String, _ message: String) { issues.append(RecipeIssue(file: file, keyPath: key, message: message)) }

        let format = CorpusFormats.named(r.corpus.format)!   // the schema admits registered names only
        if let needed = format.inputs, needed != r.frontend.type {
            fail("frontend.type", "'\(r.frontend.type.rawValue)' does not fit corpus.format '\(r.corpus.format)', whose inputs are \(needed.rawValue); use '\(needed.rawValue)'")
        }
        if r.frontend.type == .audio {
            let a = r.frontend.audio
            // The sizes that depend on the rate are checked here when the rate is given, and
            // again once the native rate is known.
            for p in a.featureOptions(rate: a.sampleRate > 0 ? a.sampleRate : 16000).problems()
            where a.sampleRate > 0 || p.field != "frame.nFFT" {
                fail(Recipe.AudioFrontEnd.key(of: p.field), p.message)
            }
            if !a.augment.vtlp.isEmpty && a.augment.vtlp.count != 2 {
                fail("frontend.audio.augment.vtlp", "give two factors, the lowest and the highest (e.g. [0.9, 1.1]), or [] for none")
            }
            if a.augment.minSnr > a.augment.maxSnr {
                fail("frontend.audio.augment.min_snr", "must not exceed max_snr (\(a.augment.maxSnr))")
            }
        }
        if let task = Tasks.named(r.task), task.needsTags != format.tagged {
            fail("task", format.tagged ? "corpus.format '\(r.corpus.format)' gives a tag per token; use task: tag"
                                       : "task '\(r.task)' needs a tag per token; corpus.format '\(r.corpus.format)' gives none (use \(CorpusFormats.tagged.dropLast().joined(separator: ", ")) or \(CorpusFormats.tagged.last!))")
        }
        /// Whether the recipe's task reads a head setting, and the tasks that do ("tag or joint").
        func reads(_ part: HeadOptions.Part) -> (Bool, String) {
            let readers = Tasks.reading(part)
            return (readers.contains(r.task), readers.joined(separator: " or "))
        }
        let head = r.model.head
        if head.crf, case let (false, tasks) = reads(.crf) { fail("model.head.crf", "a CRF labels steps; it needs task: \(tasks)") }
        if head.transitionMask != .none && !head.crf {
            fail("model.head.transition_mask", "masks the CRF's transitions; set model.head.crf: true, or leave it none")
        }
        if r.model.stackFrames > 1, case let (reading, tasks) = reads(.stackFrames), !reading || r.frontend.type != .audio {
            fail("model.stack_frames", "stacks audio frames for task: \(tasks)")
        }
        if r.model.charEncoder.dim > 0, case let (reading, tasks) = reads(.characters), !reading || r.frontend.type != .text {
            fail("model.char_encoder.dim", "reads the characters of text tokens; it needs frontend.type: text and task: \(tasks)")
        }
        if head.tagScheme != .asRead, case let (false, tasks) = reads(.tagScheme) {
            fail("model.head.tag_scheme", "converts span tags; it needs task: \(tasks)")
        }
        if let learnt = head.tagScheme.scheme, let mask = head.transitionMask.scheme, mask != learnt {
            fail("model.head.transition_mask", "is \(mask.rawValue), but the model learns \(learnt.rawValue) tags (model.head.tag_scheme); use auto")
        }
        if head.poolWindow > 0, case let (false, tasks) = reads(.poolWindow) {
            fail("model.head.pool_window", "pools the last steps of a sequence into one label; it needs task: \(tasks)")
        }
        if r.frontend.audio.augment.prefixClips > 0 && (head.poolWindow == 0 || r.frontend.type != .audio) {
            fail("frontend.audio.augment.prefix_clips", "runs the encoder over other clips before each one; set model.head.pool_window so the label pools only the clip's own window")
        }
        if r.corpus.split == .speaker && r.corpus.testSpeaker.isEmpty {
            fail("corpus.test_speaker", "is required when split is 'speaker'")
        }
        if r.model.encoder.cell == .lstm && r.model.encoder.form != .pytorch {
            fail("model.encoder.form", "chooses between GRU equations; an LSTM (model.encoder.cell: lstm) has one form, leave it pytorch")
        }
        if r.model.encoder.cell == .lstm && r.model.encoder.recurrentInit != .uniform {
            fail("model.encoder.recurrent_init", "orthogonal initialisation is the GRU's; an LSTM starts as nn.LSTM does (uniform)")
        }
        if r.training.freezeEpochs > 0 && r.model.initFrom.isEmpty {
            fail("training.freeze_epochs", "keeps transferred weights fixed; it needs model.init_from (freezing randomly initialised weights only wastes epochs)")
        }
        let s = r.training.schedule
        let warmups = [("warmup_steps", s.warmupSteps > 0), ("warmup_epochs", s.warmupEpochs > 0), ("warmup_fraction", s.warmupFraction > 0)]
            .filter(\.1).map(\.0)
        if warmups.count > 1 {
            fail("training.schedule." + warmups[1], "give the warm-up once: \(warmups.joined(separator: " and ")) are both set")
        }
        if s.maxWarmupFraction > 0 && s.warmupFraction > s.maxWarmupFraction {
            fail("training.schedule.warmup_fraction", "\(s.warmupFraction) exceeds max_warmup_fraction (\(s.maxWarmupFraction))")
        }
        if let task = Tasks.named(r.task), !r.training.earlyStopping.metric.isEmpty, !task.devMetrics.contains(r.training.earlyStopping.metric) {
            fail("training.early_stopping.metric", "task \(r.task) reports \(task.devMetrics.joined(separator: ", ")), not '\(r.training.earlyStopping.metric)'")
        }
        if let task = Tasks.named(r.task), !r.tune.metric.isEmpty, !task.devMetrics.contains(r.tune.metric) {
            fail("tune.metric", "task \(r.task) reports \(task.devMetrics.joined(separator: ", ")), not '\(r.tune.metric)'")
        }
        if !r.tune.budget.isEmpty && TuneOptions.seconds(r.tune.budget) == nil {
            fail("tune.budget", "'\(r.tune.budget)' is not a duration; write it as 20m, 1h30m, 90s or a number of seconds")
        }
        if r.training.minSteps > 0 && r.training.maxSteps > 0 && r.training.minSteps > r.training.maxSteps {
            fail("training.min_steps", "\(r.training.minSteps) is above training.max_steps (\(r.training.maxSteps))")
        }
        return issues
    }
}
