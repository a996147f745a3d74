// libFuzzer target: the tagging readers (CoNLL-U, CoNLL/IOB, seq.in folders, tagged JSONL) accept
// any bytes without crashing: what they cannot use is a bad input naming the line.
import Foundation
import FuzzSupport
import GrusData
import GrusText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTagging(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let dir = NSTemporaryDirectory() + "grus-fuzz-tagging-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let file = dir + "/input.txt"
    FileManager.default.createFile(atPath: file, contents: bytes)
    for policy in [InvalidUTF8Policy.fail, .replace, .skip] {
        _ = try? CorpusReader.conllu(file, split: .train, invalidUTF8: policy)
        _ = try? CorpusReader.conll(file, split: .train, invalidUTF8: policy)
        _ = try? CorpusReader.taggedJSONL(file, split: .train, invalidUTF8: policy)
    }
    // seq.in, seq.out and label: the input cut in three at its 0x00 bytes (or where it ends).
    let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
    for (k, name) in ["seq.in", "seq.out", "label"].enumerated() {
        FileManager.default.createFile(atPath: dir + "/" + name, contents: k < parts.count ? Data(parts[k]) : Data())
    }
    for policy in [InvalidUTF8Policy.fail, .skip] { _ = try? CorpusReader.seqIn(dir, split: .train, invalidUTF8: policy) }
    return 0
}

@_cdecl("FuzzTagging_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzTagging)
}
