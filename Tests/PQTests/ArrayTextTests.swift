import Testing

@testable import PQ

/// Array columns arrive in PostgreSQL's text form, `{a,"b c",NULL}`; read in one pass over the
/// string's bytes.
@Suite("Arrays read from PostgreSQL's text form")
struct ArrayTextTests {
    @Test func everyElementShapeReadsBack() throws {
        #expect(try PGArrayText.decode("{}") == [])
        #expect(try PGArrayText.decode("{a}") == ["a"])
        #expect(try PGArrayText.decode("{1,-20,300}") == ["1", "-20", "300"])
        #expect(try PGArrayText.decode("{a,NULL,\"NULL\",\"\"}") == ["a", nil, "NULL", ""])
        #expect(try PGArrayText.decode("{\"b c\",\"x,y\",\"{z}\"}") == ["b c", "x,y", "{z}"])
        #expect(try PGArrayText.decode("{\"say \\\"hi\\\"\",\"back\\\\slash\"}") == ["say \"hi\"", "back\\slash"])
        #expect(try PGArrayText.decode("{ü,\"ñ é\"}") == ["ü", "ñ é"])
        let long = String(repeating: "skill-", count: 20)
        #expect(try PGArrayText.decode("{\(long),\(long)}") == [long, long])
    }

    @Test func malformedLiteralsAreRefused() {
        for text in ["", "{", "}", "a,b", "{{1,2},{3,4}}", "{\"open}", "{\"a\"b}", "{\"a\\\"}"] {
            #expect(throws: PGDecodingFailure.self, "\(text)") { try PGArrayText.decode(text) }
        }
    }
}
