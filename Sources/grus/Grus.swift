import ArgumentParser
import Foundation
import GrusCore

@main
struct Grus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grus",
        abstract: "Speech and text sequence labelling with gated recurrent units.",
        version: "0.2.0",
        subcommands: [Run.self, Eval.self, Predict.self, Stream.self, Compare.self, Export.self, Cache.self, Check.self, RecipeKeys.self, Features.self, Tune.self, Toy.self]
    )

    /// A crash must end the process: on a terminal Swift's crash reporter would otherwise wait
    /// for keystrokes. Unless SWIFT_BACKTRACE says otherwise, grus runs itself again with the
    /// reporter's interaction off (the runtime reads the variable only at start-up).
    static func main() {
        if getenv("SWIFT_BACKTRACE") == nil {
            setenv("SWIFT_BACKTRACE", "interactive=no", 1)
            execv("/proc/self/exe", CommandLine.unsafeArgv)   // returns only if it failed: carry on
        }
        // A closed pipe on standard output (`grus run ... | head -1`) is an error that writes
        // report, not a signal that kills training part way: the run goes on and ends with exit 1.
        signal(SIGPIPE, SIG_IGN)
        // A run started by `grus tune` ends with the search: killed, it must not leave runs
        // writing into folders a resumed search will use.
        if let parent = getenv("GRUS_EXIT_WITH_PARENT").flatMap({ Int32(String(cString: $0)) }) {
            Thread.detachNewThread {
                while getppid() == parent { sleep(1) }
                FileHandle.standardError.write(Data("error: the search that started this run has ended; stopping\n".utf8))
                _exit(1)
            }
        }
        FaultInjection.install()
        main(nil)
    }
}
