// libFuzzer target: text readers (line splitting, UTF-8 policies, TSV/fastText/TREC parsing,
// pretrained vectors) and the text pipeline accept any bytes without crashing.
import Foundation
import FuzzSupport
import GrusData
import GrusText

let encoder: TextEncoder = {
    var s = TextEncoder.Settings()
    s.kind = .bpe
    s.bpeVocabularySize = 60
    s.bpeMinFrequency = 1
    return TextEncoder.fit(["the quick brown fox", "jumps over the lazy dog", "héllo wörld 👍"], settings: s)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = NSTemporaryDirectory() + "grus-fuzz-text-\(getpid()).txt"
    FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
    for format in TextFormat.allCases {
        for policy in [InvalidUTF8Policy.fail, .replace, .skip] {
            if let r = try? CorpusReader.textFile(path, split: .train, format: format, invalidUTF8: policy) {
                for item in r.items.prefix(20) { _ = encoder.encode(item.input) }
            }
        }
    }
    _ = try? PretrainedVectors.load(path)
    return 0
}

@_cdecl("FuzzText_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzText)
}
