// libFuzzer target: the safetensors reader must reject any input with an error, never crash.
import Foundation
import FuzzSupport
import GrusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? Safetensors.decode(Data(bytes: data, count: size), path: "fuzz")
    return 0
}

@_cdecl("FuzzSafetensors_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSafetensors)
}
