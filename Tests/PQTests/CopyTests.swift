import Foundation
import PQ
import TestSupport
import Testing

@Suite("COPY streaming")
struct CopyTests {
    /// FNV-1a over a byte stream, so both sides hash without holding the data.
    struct Checksum {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
    }

    @Test func oneMillionRowsInAndOutWithTheSameChecksum() async throws {
        let pool = try await TestDatabase.pool(for: "pqcopy")
        let rowCount = 1_000_000
        try await pool.withConnection { (conn: Connection) async throws in
            try await conn.execute("CREATE TABLE copy_rows (id bigint PRIMARY KEY, label text NOT NULL, amount bigint)")
            var sent = Checksum()
            let copied = try await conn.copyIn("COPY copy_rows (id, label, amount) FROM STDIN") { writer in
                var chunk = [UInt8]()
                chunk.reserveCapacity(64 * 1024)
                for i in 1...rowCount {
                    let amount = i % 7 == 0 ? "\\N" : String(i * 37 % 100_003)
                    chunk.append(contentsOf: "\(i)\tgig-\(i)-ünïcode ✓\t\(amount)\n".utf8)
                    if chunk.count >= 60 * 1024 || i == rowCount {
                        chunk.withUnsafeBytes { sent.add($0) }
                        try writer.write(chunk)
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
            }
            #expect(copied == rowCount)
            var received = Checksum()
            var lines = 0
            let out = try await conn.copyOut("COPY (SELECT id, label, amount FROM copy_rows ORDER BY id) TO STDOUT") {
                row in
                received.add(row)
                lines += 1
            }
            #expect(out == rowCount)
            #expect(lines == rowCount)
            #expect(received.value == sent.value)
        }
    }

    @Test func failingProducerAbortsTheCopy() async throws {
        struct Stop: Error {}
        let pool = try await TestDatabase.pool(for: "pqcopy")
        try await pool.withConnection { (conn: Connection) async throws in
            try await conn.execute("CREATE TABLE copy_abort (v int)")
            await #expect(throws: (any Error).self) {
                try await conn.copyIn("COPY copy_abort FROM STDIN") { writer in
                    try writer.write("1\n2\n")
                    throw Stop()
                }
            }
            #expect(try await conn.query("SELECT count(*) FROM copy_abort").scalar(Int.self) == 0)
            #expect(await conn.isIdle)
        }
    }
}
