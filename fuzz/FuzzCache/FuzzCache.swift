// libFuzzer target: a feature cache entry (features.json, features.bin) with any contents is
// used only when it is whole and consistent, and is otherwise reported as damaged; never a crash.
// The checksum is set to match the fuzzed index, so the checks behind it are reached too.
import Foundation
import FuzzSupport
import GrusData
import GrusExperiment

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCache(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let dir = URL(fileURLWithPath: NSTemporaryDirectory() + "grus-fuzz-cache-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    // features.json, then a 0x00 byte, then features.bin.
    let cut = bytes.firstIndex(of: 0) ?? bytes.endIndex
    let json = Data(bytes[bytes.startIndex..<cut]), bin = cut < bytes.endIndex ? Data(bytes[(cut + 1)...]) : Data()
    let cache = FeatureCache(folder: dir, key: "k")
    FileManager.default.createFile(atPath: cache.binURL.path, contents: bin)
    guard var index = try? JSONDecoder().decode(FeatureCache.Index.self, from: json) else { return 0 }
    index.key = "k"
    index.format = FeatureCache.format
    index.checksum = try? cache.checksum(index)
    guard let encoded = try? JSONEncoder().encode(index) else { return 0 }
    FileManager.default.createFile(atPath: cache.indexURL.path, contents: encoded)
    let items = index.origins.prefix(1000).map { Item(input: $0, label: "a", split: .train, origin: $0) }
    if let set = cache.load(items) {
        for e in set.examples.prefix(50) where e.stored != nil { _ = try? e.audioFeatures(set.store) }
    }
    return 0
}

@_cdecl("FuzzCache_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzCache)
}
