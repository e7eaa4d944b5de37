import Foundation
import PQ
import TestSupport
import Testing

@Suite("Types round-trip through PostgreSQL")
struct TypeRoundTripTests {
    func pool() async throws -> ConnectionPool { try await TestDatabase.pool(for: "pqtypes") }

    @Test func textIncludingUnicodeAndQuotes() async throws {
        let pool = try await pool()
        let values = [
            "", "plain", "O'Brien; DROP TABLE x; --", "naïve café ☕️ 日本語 👩🏽‍💻", "line\nbreak\ttab",
            String(repeating: "x", count: 100_000),
        ]
        for value in values {
            let back = try await pool.query("SELECT \(value)::text AS v").scalar(String.self)
            #expect(back == value)
        }
    }

    @Test func integersAtTheirLimits() async throws {
        let pool = try await pool()
        for value in [Int64.min, -1, 0, 1, Int64.max, 9_007_199_254_740_993] {
            #expect(try await pool.query("SELECT \(value) AS v").scalar(Int64.self) == value)
        }
        #expect(try await pool.query("SELECT \(Int32.max) AS v").scalar(Int32.self) == Int32.max)
        #expect(try await pool.query("SELECT \(Int16.min) AS v").scalar(Int16.self) == Int16.min)
        #expect(try await pool.query("SELECT '18446744073709551615'::xid8 AS v").scalar(UInt64.self) == UInt64.max)
    }

    @Test func numericIsExact() async throws {
        let pool = try await pool()
        let big = try #require(PGNumeric("123456789012345678901234567890123456789012.000000000000000001"))
        #expect(try await pool.query("SELECT \(big) AS v").scalar(PGNumeric.self) == big)
        let decimal = Decimal(string: "12345.6789")!
        #expect(try await pool.query("SELECT \(decimal) AS v").scalar(Decimal.self) == decimal)
        #expect(try await pool.query("SELECT 0.1::numeric + 0.2::numeric AS v").scalar(PGNumeric.self).text == "0.3")
        // Too many digits for Decimal: refused, not rounded.
        await #expect(throws: PQError.self) { try await pool.query("SELECT \(big) AS v").scalar(Decimal.self) }
    }

    @Test func boolDoubleUUID() async throws {
        let pool = try await pool()
        #expect(try await pool.query("SELECT \(true) AS v").scalar(Bool.self) == true)
        #expect(try await pool.query("SELECT \(false) AS v").scalar(Bool.self) == false)
        #expect(try await pool.query("SELECT \(3.25) AS v").scalar(Double.self) == 3.25)
        #expect(try await pool.query("SELECT 'Infinity'::float8 AS v").scalar(Double.self) == .infinity)
        let id = UUID()
        #expect(try await pool.query("SELECT \(id) AS v").scalar(UUID.self) == id)
    }

    @Test func byteaWithEveryByteValue() async throws {
        let pool = try await pool()
        let bytes = Data((0...255).map { UInt8($0) } + [0, 0, 255])
        #expect(try await pool.query("SELECT \(bytes) AS v").scalar(Data.self) == bytes)
        #expect(try await pool.query("SELECT \(Data()) AS v").scalar(Data.self) == Data())
    }

    @Test func jsonbAndCodable() async throws {
        struct Payload: Codable, Equatable {
            let name: String
            let skills: [String]
            let rate: Int
        }
        let pool = try await pool()
        let payload = Payload(name: "Zoë \"the\" modeller", skills: ["nlp", "edge-ai"], rate: 120_00)
        let back = try await pool.query("SELECT \(try PGJSON(encoding: payload)) AS v").scalar(PGJSON.self)
        #expect(try back.decode(Payload.self) == payload)
        #expect(
            try await pool.query("SELECT (\(try PGJSON(encoding: payload)))->>'name' AS v").scalar(String.self)
                == payload.name)
    }

    @Test func timestamptzToTheMicrosecond() async throws {
        let pool = try await pool()
        let dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_795_000_000.123456),
            Date(timeIntervalSince1970: -86_400 * 365 * 30 + 0.5), Date(timeIntervalSince1970: 4_102_444_800),
        ]
        for date in dates {
            let back = try await pool.query("SELECT \(date) AS v").scalar(Date.self)
            #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
        }
        let fixed = try await pool.query("SELECT '2026-11-27 01:02:03.5+02'::timestamptz AS v").scalar(Date.self)
        #expect(fixed.timeIntervalSince1970 == 1_795_734_123.5)
    }

    @Test func arraysAndNulls() async throws {
        let pool = try await pool()
        let texts = ["a", "b c", "with \"quotes\"", "back\\slash", "NULL", "", "{braces}", "ü,ñ"]
        #expect(try await pool.query("SELECT \(texts)::text[] AS v").scalar([String].self) == texts)
        #expect(try await pool.query("SELECT \([Int64.max, -5, 0]) AS v").scalar([Int64].self) == [Int64.max, -5, 0])
        let ids = [UUID(), UUID()]
        #expect(try await pool.query("SELECT \(ids) AS v").scalar([UUID].self) == ids)
        #expect(try await pool.query("SELECT ARRAY[1, NULL, 3]::int8[] AS v").scalar([Int64?].self) == [1, nil, 3])
        #expect(try await pool.query("SELECT '{}'::text[] AS v").scalar([String].self) == [])
        let none: String? = nil
        #expect(try await pool.query("SELECT \(none)::text AS v").scalar(String?.self) == nil)
        #expect(try await pool.query("SELECT NULL::int8 AS v").scalar(Int64?.self) == nil)
    }

    @Test func decodingErrorsNameTheColumnAndTypes() async throws {
        let pool = try await pool()
        let result = try await pool.query("SELECT 'abc'::text AS title, NULL::int8 AS budget, now() AS posted_at")
        let row = try #require(result.first)
        let nullError = #expect(throws: PQError.self) { try row.decode(Int64.self, "budget") }
        #expect(nullError?.message.contains("\"budget\"") == true)
        #expect(nullError?.message.contains("NULL") == true)
        let typeError = #expect(throws: PQError.self) { try row.decode(UUID.self, "posted_at") }
        #expect(typeError?.message.contains("\"posted_at\"") == true)
        #expect(typeError?.message.contains("timestamptz") == true)
        #expect(typeError?.message.contains("UUID") == true)
        let missing = #expect(throws: PQError.self) { try row.decode(String.self, "nope") }
        #expect(missing?.message.contains("title") == true)
    }

    @Test func interpolatedInputIsAlwaysData() async throws {
        let pool = try await pool()
        let hostile = "x'); DROP TABLE pg_class; --"
        let sql: SQL = "SELECT \(hostile)::text AS v, \(42) AS n"
        #expect(sql.text == "SELECT $1::text AS v, $2 AS n")
        #expect(sql.binds.count == 2)
        #expect(try await pool.query(sql).scalar(String.self) == hostile)
        var combined: SQL = "SELECT \(1) AS a"
        combined.append(", \(2) AS b, '$1' AS literal")
        #expect(combined.text == "SELECT $1 AS a, $2 AS b, '$1' AS literal")
        let row = try #require(try await pool.query(combined).first)
        #expect(try row.decode(Int.self, "b") == 2)
        #expect(try row.decode(String.self, "literal") == "$1")
    }

    @Test func nulCharacterIsRefusedBeforeSending() async throws {
        let pool = try await pool()
        let error = await #expect(throws: PQError.self) { try await pool.query("SELECT \("a\u{0}b")::text") }
        #expect(error?.code == .invalidParameter)
        #expect(error?.message.contains("$1") == true)
    }
}
