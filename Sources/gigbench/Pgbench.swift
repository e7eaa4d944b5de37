import Foundation
import PQ

/// The C-client baselines of the append benchmark, driven by `pgbench -M prepared` on the same
/// database in the same run: a raw INSERT (one transaction per append) and the very
/// `SELECT ledger.append(…)` call that `EventStore.append` sends. Both build the same ~300-byte
/// payload on the server from a random amount and a fresh UUID, so the JSON is parsed per call
/// (a constant would be parsed once, at prepare time).
enum Pgbench {
    /// Transactions per second reported by one `pgbench` run of `script`.
    static func run(script: String, clients: Int, seconds: Int, target: String, defines: [String] = []) throws
        -> Double
    {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gigbench-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).sql")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gigbench-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        var arguments = [
            "pgbench", "--no-vacuum", "--protocol=prepared", "--client=\(clients)", "--jobs=\(min(clients, 2))",
            "--time=\(max(1, seconds))", "--file=\(file.path)",
        ]
        for define in defines { arguments.append("--define=\(define)") }
        arguments.append(target)
        let status = try spawnAndWait(arguments, output: output.path)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).prefix { $0 != " " })
        else {
            throw BenchError("pgbench failed (exit status \(status)): \(text)")
        }
        let failed = text.split(separator: "\n").first { $0.contains("number of failed transactions") }
        if let failed, !failed.contains(": 0 ") {
            throw BenchError("pgbench reported failed transactions: \(failed)")
        }
        return tps
    }

    /// Runs `arguments` (found on PATH) with stdout and stderr into the file at `output`, and
    /// waits (blocking the calling thread: the harness does nothing else meanwhile). Spawned with an empty signal mask: pgbench ends a
    /// `--time` run on SIGALRM, which this process's threads block and a child would inherit.
    static func spawnAndWait(_ arguments: [String], output: String) throws -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGALRM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw BenchError("could not start \(arguments[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand (C macros).
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    /// The JSON of one event built on the server (parsed per call), like gigbench's `payload(_:)`.
    static let payloadSQL =
        #"('{"bidId":"' || gen_random_uuid() || '","gigId":"6f1c0e4e-7a55-4c1b-9d7e-1b2c3d4e5f60","freelancerId":"0b8f2d7c-1e3a-4b5c-8d9e-0f1a2b3c4d5e","amount":{"currency":"EUR","minorUnits":' || :amount || '},"estimatedDays":5,"note":"I have shipped three NLP pipelines like this one."}')::jsonb"#
    static let metadataSQL =
        #"('{"actor":"freelancer:' || 'bench","commandId":"' || gen_random_uuid() || '","correlationId":"' || gen_random_uuid() || '"}')::jsonb"#

    /// One multi-row INSERT of `events` rows into the plain table, one transaction.
    static func rawScript(events: Int) -> String {
        let rows = (0..<events).map { _ in
            "('bid-raw' || :client_id, 'BidPlaced', \(payloadSQL), \(metadataSQL), now())"
        }
        return "\\set amount random(45000, 45976)\n"
            + "INSERT INTO bench_raw (stream_id, event_type, data, metadata, occurred_at) VALUES "
            + rows.joined(separator: ", ") + ";\n"
    }

    /// `ledger.append` of `events` events to the client's own stream with its exact expected
    /// version (kept in `:version` by `\gset`, starting at 0 = no stream: `--define version=0`).
    static func appendScript(events: Int, tag: String) -> String {
        func array(_ element: String, _ type: String) -> String {
            "ARRAY[" + Array(repeating: element, count: events).joined(separator: ", ") + "]::\(type)[]"
        }
        return "\\set amount random(45000, 45976)\n"
            + "SELECT (ledger.append(gen_random_uuid(), ARRAY['bid-pgb\(tag)c' || :client_id]::text[], "
            + "ARRAY[:version::bigint], \(array("1", "integer")), \(array("'BidPlaced'", "text")), "
            + "\(array("1", "integer")), \(array(payloadSQL, "jsonb")), "
            + "ARRAY[" + Array(repeating: metadataSQL, count: events).joined(separator: ", ") + "], "
            + "\(array("now()", "timestamptz"))) -> 'versions' ->> 0) AS version\n"
            + "\\gset\n"
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The machine's 1-minute load average, for the record (other work shares these cores).
func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(
        separator: " ") ?? "?"
}
