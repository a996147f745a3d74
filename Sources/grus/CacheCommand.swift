import ArgumentParser
import Foundation
import GrusExperiment
import GrusInference
import GrusRecipes
import GrusReports
import GrusTasks
import GrusTrain

/// `grus cache list|prune`: the shared feature cache.
struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or clear the shared feature cache.",
        discussion: """
        Every `grus run` keeps its features in one cache folder shared by all experiments, keyed by \
        the corpus files' identities and every front-end option: experiment.cache_dir, else \
        $\(CacheDirectory.environment), else $XDG_CACHE_HOME/grus, else ~/.cache/grus. Point it at \
        shared storage to share features between machines.
        """,
        subcommands: [List.self, Prune.self])

    struct Location: ParsableArguments {
        @Option(help: "The cache folder (default: $\(CacheDirectory.environment), else $XDG_CACHE_HOME/grus, else ~/.cache/grus).")
        var dir: String = ""

        var cache: SharedFeatureCache { SharedFeatureCache(directory: CacheDirectory.resolve(dir)) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cache entries, most recently used first.")
        @OptionGroup var location: Location

        func run() throws {
            let cache = location.cache
            let entries = cache.list()
            print("\(cache.root.path): \(entries.count) entr\(entries.count == 1 ? "y" : "ies"), \(megabytes(entries.reduce(0) { $0 + $1.bytes }))")
            let dates = DateFormatter()
            dates.dateFormat = "yyyy-MM-dd HH:mm"
            for e in entries {
                let what = e.abandoned ? "abandoned scratch folder (a run ended while computing it)" : "\(e.examples) examples, \(e.frontEnd), \(e.corpus)"
                print("\(e.key.prefix(12))  \(megabytes(e.bytes).padding(toLength: 9, withPad: " ", startingAt: 0))  used \(dates.string(from: e.lastUsed))  \(what)")
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove cache entries: all of them, or those unused for some days, or the least recently used beyond a size.",
            discussion: "Abandoned scratch folders always go. An entry being computed right now is kept; a run reading an entry keeps its open files.")
        @OptionGroup var location: Location
        @Option(help: "Remove entries unused for this many days.") var olderThan: Double?
        @Option(help: "Keep the most recently used entries within this many megabytes.") var maxMb: Double?
        @Flag(help: "Remove every entry.") var all = false

        func validate() throws {
            let given = [olderThan != nil, maxMb != nil, all].filter { $0 }.count
            guard given == 1 else { throw ValidationError("give one of --all, --older-than DAYS or --max-mb MB") }
            // NaN compares false with everything: test for the valid range, not against the invalid one.
            if let d = olderThan, !(d >= 0 && d <= 1e6) { throw ValidationError("--older-than must be 0 to 1000000 days, got \(d)") }
            if let m = maxMb, !(m >= 0 && m <= 1e12) { throw ValidationError("--max-mb must be 0 to 1000000000000, got \(m)") }
        }

        func run() throws {
            let removed = location.cache.prune(olderThan: olderThan.map { $0 * 86_400 }, maxBytes: maxMb.map { Int($0 * 1_000_000) })
            print("removed \(removed.count) entr\(removed.count == 1 ? "y" : "ies"), \(megabytes(removed.reduce(0) { $0 + $1.bytes }))")
        }
    }
}

private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
