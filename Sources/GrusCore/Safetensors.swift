import Foundation

/// Reads and writes the safetensors format: an 8-byte little-endian header length N,
/// N bytes of JSON header (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}`),
/// then the raw little-endian tensor bytes. Grus stores Float32 (`F32`) tensors.
///
/// Loading enforces the format's rules before touching any tensor bytes: a header-size cap,
/// a JSON object header, known dtypes, shape × dtype size = byte length, offsets inside the
/// data buffer, no overlaps and no gaps.
public enum Safetensors {
    /// Header size limit, as in the reference implementation (100 MB).
    public static let maxHeaderBytes = 100_000_000

    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]

    /// Serialises named tensors (written in name order) and string metadata.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.data.withUnsafeBufferPointer { buf in
                // Float32 is little-endian on every platform Grus runs on.
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                               count: buf.count * 4))
            }
        }
        return out
    }

    public static func save(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }

    public static func load(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw GrusError.io(path: url.path, message: "cannot read the weights file (\(error.localizedDescription))")
        }
        return try decode(data, path: url.path)
    }

    public static func decode(_ data: Data, path: String = "<memory>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func bad(_ message: String) -> GrusError {
            .format(path: path, message: "not a valid safetensors file: \(message)")
        }
        guard data.count >= 8 else { throw bad("file is \(data.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderBytes) else { throw bad("header length \(n) exceeds the \(maxHeaderBytes)-byte limit") }
        guard n >= 2, UInt64(data.count - 8) >= n else {
            throw bad("header length \(n) does not fit in a file of \(data.count) bytes (truncated?)")
        }
        let headerLength = Int(n)
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + headerLength))
        guard headerBytes.first == UInt8(ascii: "{") else { throw bad("header does not start with '{'") }
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let bufferLength = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ is not an object of strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw bad("__metadata__ key '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw bad("entry '\(name)' is not an object") }
            guard let dtype = info["dtype"] as? String, let size = dtypeSizes[dtype] else {
                throw bad("tensor '\(name)' has an unknown or missing dtype")
            }
            guard let shapeAny = info["shape"] as? [Any], let shape = intArray(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("tensor '\(name)' has a missing or invalid shape")
            }
            guard let offAny = info["data_offsets"] as? [Any], let offs = intArray(offAny), offs.count == 2 else {
                throw bad("tensor '\(name)' has missing or invalid data_offsets")
            }
            let (begin, end) = (offs[0], offs[1])
            guard begin >= 0, end >= begin, end <= bufferLength else {
                throw bad("tensor '\(name)' offsets [\(begin), \(end)] lie outside the \(bufferLength)-byte data buffer")
            }
            var elements = 1
            for d in shape {
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("tensor '\(name)' shape \(shape) overflows") }
                elements = m
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, bytes == end - begin else {
                throw bad("tensor '\(name)': shape \(shape) × \(dtype) needs \(elements * size) bytes, offsets give \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        // Offsets must tile the buffer: sorted, no overlaps, no gaps, ending at its end.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for e in entries {
            guard e.begin == cursor else {
                throw bad(e.begin < cursor ? "tensor '\(e.name)' overlaps the previous tensor" : "gap before tensor '\(e.name)'")
            }
            cursor = e.end
        }
        guard cursor == bufferLength else { throw bad("data buffer is \(bufferLength) bytes but tensors cover \(cursor)") }

        var tensors: [String: Tensor] = [:]
        for e in entries {
            guard e.dtype == "F32" else {
                throw bad("tensor '\(e.name)' is \(e.dtype); Grus reads F32 weights only")
            }
            let count = (e.end - e.begin) / 4
            var values = [Float](repeating: 0, count: count)
            _ = values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst, from: (data.startIndex + dataStart + e.begin)..<(data.startIndex + dataStart + e.end))
            }
            tensors[e.name] = Tensor(shape: e.shape, data: values)
        }
        return (tensors, metadata)
    }

    private static func intArray(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in a {
            guard let n = v as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), d >= 0, d < 9.0e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }
}
