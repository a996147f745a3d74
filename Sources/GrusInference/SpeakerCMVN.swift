import GrusAudio
import GrusCore
import GrusData

/// Speaker CMVN (`frontend.audio.cmvn: speaker`, Kaldi's apply-cmvn with utt2spk): features are
/// normalised with the statistics of all of their speaker's utterances. A speaker's training
/// utterances are normalised together, and so are its dev and its test utterances, each split
/// apart, so no test audio shapes a training feature. At evaluation the statistics come from the
/// inputs themselves (no labels are read): a speaker the model never heard is normalised with
/// its own statistics. An input whose speaker is unknown is its own group (utterance CMVN).
package struct SpeakerCMVN: Codable {
    /// Statistics by group.
    package var stats: [String: CMVNStats]
    /// Each stored entry's group.
    package var groups: [String]

    package init(stats: [String: CMVNStats], groups: [String]) {
        self.stats = stats
        self.groups = groups
    }

    /// The group an item is normalised with: its speaker within its split, or the input itself.
    package static func group(_ item: Item) -> String {
        item.split.rawValue + "/" + (item.speaker.map { "speaker:" + $0 } ?? "input:" + item.origin + "#\(item.segment ?? 0)")
    }

    /// Empty statistics with the same floors as global CMVN's.
    package static func emptyStats(_ dimension: Int) -> CMVNStats {
        var s = CMVNStats(dimension: dimension)
        s.relativeFloor = 0.1
        return s
    }

    /// Entry `k`'s features, normalised.
    package func apply(_ x: Tensor, entry k: Int) -> Tensor { stats[groups[k]]!.apply(x) }
}
