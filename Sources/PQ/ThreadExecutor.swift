import Foundation

/// A serial executor that runs every job on one dedicated thread.
///
/// libpq calls block, and a `PGconn` must be used by one thread at a time. Each ``Connection`` is
/// an actor whose jobs run here, so its blocking calls never occupy a thread of Swift's
/// cooperative pool, and its `PGconn` never leaves this thread.
///
/// `@unchecked Sendable` is sound: the mutable state (`jobs`, `stopped`, `thread`) is only touched
/// while `condition` is locked, and the thread is the only consumer of `jobs`.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false
    private var thread: Thread?

    init(name: String) {
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.stackSize = 1 << 20
        condition.lock()
        self.thread = thread
        condition.unlock()
        thread.start()
    }

    /// `true` when called on this executor's thread.
    var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return thread === Thread.current
    }

    func checkIsolated() {
        precondition(isCurrentThread, "expected to run on a connection's own thread")
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the queued jobs and exit.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
