import Foundation
import GigLedger
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`: stdin from a file (or /dev/null), stdout and
/// stderr to files, working folder `/`. (Foundation's `Process` was seen never to notice the exit
/// of `pg_ctl start`, whose server lives on; `waitpid` always does.)
struct ChildProcess: Sendable {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String

    struct Result: Sendable {
        /// The exit status, or nil when a signal ended the process.
        let exitCode: Int32?
        let signal: Int32?
        let stdout: String
        let stderr: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func spawn(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil
    ) throws -> ChildProcess {
        let base = NSTemporaryDirectory().appending("gl-child-\(getpid())-\(UUID().uuidString.prefix(12))")
        let stdinPath = base + ".in"
        let stdoutPath = base + ".out"
        let stderrPath = base + ".err"
        guard FileManager.default.createFile(atPath: stdinPath, contents: stdin ?? Data()) else {
            throw Failure(description: "could not create the child's stdin file \(stdinPath)")
        }
        defer { try? FileManager.default.removeItem(atPath: stdinPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else is inherited. NIO accepts connections without close-on-exec, so a child
        // spawned while a test's HTTP server holds a connection would keep a copy of it: a server
        // started by `pg_ctl start` then held another test's closed connection open for as long
        // as it ran (the server's close sent no FIN until the child exited).
        guard let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) == 0 else {
            throw Failure(
                description: "posix_spawn_file_actions_addclosefrom_np is unavailable (glibc 2.34 or later needed)")
        }
        // `env -C /` starts it in `/` (the postgres user cannot read root's working folder).
        let argv = (["/usr/bin/env", "-C", "/", executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // Started in `/`, a gigctl would not find the checkout's master key: it is named.
        var environment = environment ?? ProcessInfo.processInfo.environment
        if environment[MasterKey.fileVariable] == nil { environment[MasterKey.fileVariable] = MasterKey.testKeyFile }
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in env { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, env)
        guard status == 0 else { throw Failure(description: "could not start \(executable): errno \(status)") }
        return ChildProcess(pid: pid, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does
    /// not declare: looked up once in the process's own symbols.
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else {
                return nil
            }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()

    /// Waits for the exit (blocking this thread), collects the output and deletes its files.
    func wait() -> Result {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: stdoutPath)
        try? FileManager.default.removeItem(atPath: stderrPath)
        let signal = status & 0x7f
        return signal == 0
            ? Result(exitCode: (status >> 8) & 0xff, signal: nil, stdout: out, stderr: err)
            : Result(exitCode: nil, signal: signal, stdout: out, stderr: err)
    }

    /// Waits on a thread of its own, so the cooperative pool is never blocked.
    func waitInBackground() async -> Result {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.wait()) }
        }
    }

    func kill9() { _ = kill(pid, SIGKILL) }

    /// Runs to the end and returns the result.
    static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil
    ) async throws -> Result {
        try await spawn(executable, arguments, stdin: stdin, environment: environment).waitInBackground()
    }
}
