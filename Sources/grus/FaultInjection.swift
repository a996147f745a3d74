import Foundation
import GrusCore
import GrusTrain

/// Fault injection for the kill-and-resume tests, read from the environment at start-up:
/// GRUS_FAULT=step:N (after N optimiser steps), checkpoint:N (during the N-th checkpoint write,
/// after the temporary file, before the rename) or eval:N (as the N-th dev evaluation begins)
/// makes the process kill itself with SIGKILL, and so does checkpointed:N (just after the N-th
/// epoch's checkpoint is in place); features:N kills after N chunks of audio features
/// are written; trap:N makes N threads trap at once as the features stage begins (a crash must
/// end the process); sleep:MS makes the features stage take MS milliseconds longer (the shared
/// cache's concurrency tests). With GRUS_FAULT_RANK=K only rank K of an MPI job has the fault.
enum FaultInjection {
    static func install() {
        let env = ProcessInfo.processInfo.environment
        if let r = env["GRUS_FAULT_RANK"].flatMap(Int.init), r != (env["OMPI_COMM_WORLD_RANK"].flatMap(Int.init) ?? 0) { return }
        guard let v = env["GRUS_FAULT"], let c = v.firstIndex(of: ":"), let n = Int(v[v.index(after: c)...]) else { return }
        let kind = String(v[..<c])
        nonisolated(unsafe) var count = 0
        func reached() {
            count += 1
            if count == n { kill(getpid(), SIGKILL) }
        }
        switch kind {
        case "checkpoint":
            AtomicFile.beforeRename = { url in if url.lastPathComponent == "last.safetensors" { reached() } }
        case "trap":
            RunEvents.observer = { point in
                guard point == .features, n > 0 else { return }
                parallelFor(n) { _ in
                    usleep(10_000)
                    let a: [Int] = []
                    _ = a[Int(getpid()) % 7 + 5]   // an index out of range: a Swift trap
                }
            }
        case "sleep":
            RunEvents.observer = { point in if point == .features { usleep(useconds_t(n * 1000)) } }
        default:
            let watched: RunEvents.Point? = ["step": .step, "eval": .eval, "features": .featuresChunk, "checkpointed": .checkpointed][kind]
            RunEvents.observer = { point in if point == watched { reached() } }
        }
    }
}
