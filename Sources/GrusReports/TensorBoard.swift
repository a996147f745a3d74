import Foundation
import GrusCore
import GrusRecipes
import GrusTasks
import GrusTrain
import SwiftProtobuf

/// TensorBoard scalars in tb/events.out.tfevents.0.grus, made from train-log.csv after every
/// epoch (so a resumed run's file holds exactly the epochs its log holds): per epoch, at its
/// global step, train/loss, train/lr, train/sequences_per_second and dev/<metric>. The file
/// is TFRecord framing of Event protobufs: for each record, its length (UInt64 LE), the masked
/// CRC-32C of those 8 bytes, the bytes, and their masked CRC-32C. Rewritten whole (temporary
/// file, then rename), like the log it comes from.
package enum TensorBoard {
    package static let fileName = "events.out.tfevents.0.grus"

    /// The events for a train-log.csv text; `start` is the wall time of the run's start.
    static func events(fromLog csv: String, start: Double) -> [Tensorboard_Event] {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let stepCol = header.firstIndex(of: "step") else { return [] }
        var first = Tensorboard_Event()
        first.wallTime = start
        first.fileVersion = "brain.Event:2"
        var out = [first]
        for row in lines.dropFirst() where row.count == header.count {
            var e = Tensorboard_Event()
            e.step = Int64(row[stepCol]) ?? 0
            e.wallTime = start + (header.firstIndex(of: "seconds").flatMap { Double(row[$0]) } ?? 0)
            var summary = Tensorboard_Summary()
            for (c, name) in header.enumerated() where !["epoch", "step", "seconds"].contains(name) {
                guard let v = Double(row[c]), v.isFinite else { continue }
                var value = Tensorboard_Summary.Value()
                value.tag = name.hasPrefix("dev_") ? "dev/" + name.dropFirst(4) : "train/" + name
                value.simpleValue = Float(v)
                summary.value.append(value)
            }
            e.summary = summary
            out.append(e)
        }
        return out
    }

    /// TFRecord framing of serialised events.
    static func records(_ events: [Tensorboard_Event]) throws -> Data {
        var out = Data()
        for e in events {
            let payload = try e.serializedData()
            var length = UInt64(payload.count).littleEndian
            let header = withUnsafeBytes(of: &length) { Data($0) }
            out += header
            out += le32(CRC32C.masked(header))
            out += payload
            out += le32(CRC32C.masked(payload))
        }
        return out
    }

    package static func le32(_ v: UInt32) -> Data { var x = v.littleEndian; return withUnsafeBytes(of: &x) { Data($0) } }

    package static func write(log csv: String, start: Double, to folder: URL) throws {
        let dir = folder.appendingPathComponent("tb")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try AtomicFile.write(try records(events(fromLog: csv, start: start)), to: dir.appendingPathComponent(fileName))
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord files check their records.
package enum CRC32C {
    package static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    package static func checksum(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TFRecord's mask: rotate right by 15 bits and add a constant.
    package static func masked(_ data: Data) -> UInt32 {
        let c = checksum(data)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
