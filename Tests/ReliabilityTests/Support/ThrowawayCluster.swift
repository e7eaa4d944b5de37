import EventStore
import Foundation
import PQ

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL cluster of a test's own, in a temporary folder, for tests that restart the server
/// or hold a transaction open (which would hold back gap-safe readers of every other suite on the
/// shared cluster). It listens on a Unix socket of its own and on 127.0.0.1 (a free port), with
/// `fsync` off; as root the server runs as `postgres`. ``destroy()`` stops it and deletes it.
///
/// The same folder can hold a hot standby of it (``startStandby()``, made by `scripts/db-up
/// --replica`) and clusters restored from its backups (``restore(to:)``, by `scripts/restore`):
/// the scripts run on it as on the local cluster, through their environment overrides.
final class ThrowawayCluster: Sendable {
    let folder: String
    let port: Int
    let binDir: String
    let dataDir: String
    /// Whether ``destroy()`` deletes the whole folder (the primary) or only ``dataDir``.
    let ownsFolder: Bool
    var socketDir: String { folder + "/sock" }

    /// The `gigledger` database, as the superuser, over the socket. `synchronous_commit` stays on
    /// (as in production): with it off, an immediate shutdown loses commits already acknowledged,
    /// which the restart test caught when it was off. (`fsync` off only matters if the machine
    /// itself crashes.)
    var config: ConnectionConfig {
        ConnectionConfig(
            "postgresql:///gigledger?host=\(socketDir)&port=\(port)&user=postgres",
            applicationName: "gigledger-reliability", connectTimeoutSeconds: 5)
    }

    /// Over TCP on 127.0.0.1 as `user` (password authentication for every role but postgres).
    func tcpURL(user: String, password: String, database: String = "gigledger") -> String {
        "postgresql://\(user):\(password)@127.0.0.1:\(port)/\(database)"
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Creates, starts and migrates a new cluster (`gigledger` database, GigLedger schema).
    static func start(_ label: String) async throws -> ThrowawayCluster {
        let binDir = try await findBinDir()
        let folder = NSTemporaryDirectory().appending("gl-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder + "/pg", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/sock", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder + "/pg")
        if getuid() == 0 {
            for path in [folder, folder + "/pg", folder + "/sock"] { try await run("/bin/chown", ["postgres", path]) }
        }
        let cluster = ThrowawayCluster(
            folder: folder, port: try freePort(), binDir: binDir, dataDir: folder + "/pg", ownsFolder: true)
        try await cluster.asOwner(
            "initdb", ["-D", cluster.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
        try await cluster.writeOwned(
            "pg_hba.conf",
            """
            local   all   all                    trust
            host    all   postgres  127.0.0.1/32 trust
            host    all   all       127.0.0.1/32 scram-sha-256

            """)
        let conf = try String(contentsOfFile: cluster.dataDir + "/postgresql.conf", encoding: .utf8)
        try await cluster.writeOwned(
            "postgresql.conf",
            conf + """

                listen_addresses = '127.0.0.1'
                port = \(cluster.port)
                unix_socket_directories = '\(cluster.socketDir)'
                fsync = off
                full_page_writes = off
                max_connections = 60
                shared_buffers = 32MB

                """)
        try await cluster.startServer()
        let admin = try await Connection.connect(cluster.config.withDatabase("postgres"))
        try await admin.execute("CREATE DATABASE gigledger")
        await admin.close()
        let connection = try await Connection.connect(cluster.config)
        _ = try await Migrator().migrate(on: connection)
        await connection.close()
        return cluster
    }

    private init(folder: String, port: Int, binDir: String, dataDir: String, ownsFolder: Bool) {
        self.folder = folder
        self.port = port
        self.binDir = binDir
        self.dataDir = dataDir
        self.ownsFolder = ownsFolder
    }

    /// A hot standby of this cluster, started by `scripts/db-up --replica` (which first lets this
    /// cluster feed one: the `local replication` line, archive_mode, and a restart for it).
    func startStandby() async throws -> ThrowawayCluster {
        let standbyPort = try Self.freePort()
        let url = try await runScript("db-up", ["--replica"], environment: ["GIGLEDGER_REPLICA_PORT": "\(standbyPort)"])
        guard url.contains("port=\(standbyPort)") else {
            throw Failure(description: "scripts/db-up --replica printed \(url), not the standby's URL")
        }
        return ThrowawayCluster(
            folder: folder, port: standbyPort, binDir: binDir, dataDir: folder + "/replica", ownsFolder: false)
    }

    /// Restores the newest backup before `time` (`scripts/restore --to`) into a cluster of its
    /// own in this folder, promoted at that moment.
    func restore(to time: String) async throws -> ThrowawayCluster {
        let restoredPort = try Self.freePort()
        let target = folder + "/restored-\(restoredPort)"
        _ = try await runScript("restore", ["--to", time, "--target-dir", target, "--port", "\(restoredPort)"])
        return ThrowawayCluster(folder: folder, port: restoredPort, binDir: binDir, dataDir: target, ownsFolder: false)
    }

    /// Runs `scripts/<name>` on this cluster as if it were the local one (its folder, port and
    /// database through the scripts' environment overrides; the URL file inside this folder) and
    /// returns what it printed on stdout, trimmed.
    @discardableResult
    func runScript(_ name: String, _ arguments: [String], environment extra: [String: String] = [:]) async throws
        -> String
    {
        var environment = ProcessInfo.processInfo.environment
        environment["GIGLEDGER_PGDATA"] = folder + "/pg"
        environment["GIGLEDGER_PGPORT"] = "\(port)"
        environment["GIGLEDGER_PGDB"] = "gigledger"
        environment["GIGLEDGER_URL_FILE"] = folder + "/database-url"
        environment["GIGLEDGER_FORCE_LOCAL"] = "1"
        environment.merge(extra) { $1 }
        let result = try await ChildProcess.run(
            Tools.repositoryRoot + "/scripts/" + name, arguments, environment: environment)
        guard result.exitCode == 0 else {
            throw Failure(
                description:
                    "scripts/\(name) \(arguments.joined(separator: " ")) failed (\(result.exitCode.map { "exit \($0)" } ?? "signal")): \(result.stderr)"
            )
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts the server (on this cluster's port and socket folder, whatever its configuration
    /// file says: a standby's is a copy of its primary's).
    func startServer() async throws {
        let log = ownsFolder ? folder + "/server.log" : dataDir + "/server.log"
        try await asOwner(
            "pg_ctl", ["-D", dataDir, "-l", log, "-w", "-t", "120", "-o", "-p \(port) -k \(socketDir)", "start"])
    }

    /// Stops the server with `mode` (`fast`: sessions are ended, a checkpoint is written;
    /// `immediate`: every process quits at once, crash recovery at the next start).
    func stopServer(mode: String) async throws {
        try await asOwner("pg_ctl", ["-D", dataDir, "-m", mode, "-w", "-t", "120", "stop"])
    }

    /// Stops the server with `mode` and starts it again.
    func restart(mode: String) async throws {
        try await stopServer(mode: mode)
        try await startServer()
    }

    /// Stops the server and deletes the folder (a standby or restored cluster: its data folder).
    /// Blocks its thread while `pg_ctl` stops the server (runs in a `defer`; an immediate stop
    /// writes no checkpoint and takes well under a second).
    func destroy() {
        let (executable, arguments) = Self.asOwner(
            binDir + "/pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"])
        _ = try? ChildProcess.spawn(executable, arguments).wait()
        try? FileManager.default.removeItem(atPath: ownsFolder ? folder : dataDir)
    }

    /// Writes a file into the data folder, owned by the server's user.
    private func writeOwned(_ name: String, _ text: String) async throws {
        let path = dataDir + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        if getuid() == 0 { try await Self.run("/bin/chown", ["postgres", path]) }
    }

    /// Runs a server binary as the cluster's owner (`postgres` when we are root), from `/`.
    private func asOwner(_ binary: String, _ arguments: [String]) async throws {
        let (executable, commandLine) = Self.asOwner(binDir + "/" + binary, arguments)
        try await Self.run(executable, commandLine)
    }

    /// The command line that runs `executable` as the cluster's owner (`postgres` when we are root).
    static func asOwner(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        getuid() == 0
            ? ("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments) : (executable, arguments)
    }

    /// Runs a program to its end; the wait happens off the cooperative pool (initdb and pg_ctl take
    /// seconds, and blocking the pool's threads stalls every other suite of the run).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(executable, arguments)
        guard result.exitCode == 0 else {
            throw Failure(
                description:
                    "\(executable) \(arguments.joined(separator: " ")) failed (\(result.exitCode.map { "exit \($0)" } ?? "signal \(result.signal ?? 0)")): \(result.stdout)\(result.stderr)"
            )
        }
        return result.stdout
    }

    static func findBinDir() async throws -> String {
        if let dir = try? await run("/usr/bin/env", ["pg_config", "--bindir"]).trimmingCharacters(
            in: .whitespacesAndNewlines),
            FileManager.default.isExecutableFile(atPath: dir + "/pg_ctl")
        {
            return dir
        }
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in candidates.sorted().reversed()
        where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/pg_ctl") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        throw Failure(
            description:
                "PostgreSQL server binaries (pg_ctl, initdb) were not found; install postgresql-15 (scripts/install-deps)."
        )
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
