import Foundation
import Synchronization

/// SIGINT/SIGTERM handling. Every command stops on an interrupt with a one-line message and
/// exit code 1: commands that can stop cleanly (training writes a checkpoint, long evaluations
/// stop between batches) call ``install()`` and poll ``isSet``; until then ``installImmediate()``
/// (set by `main`) stops the process at once.
enum SignalFlag {
    static let flag = Atomic<Bool>(false)

    static var isSet: Bool { flag.load(ordering: .relaxed) }

    /// The signals are unblocked first: a parent may have spawned us with them masked, and the
    /// handlers would then never run.
    private static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    /// Handlers that set the flag (a second signal exits at once with 130).
    static func install() {
        unblock()
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if SignalFlag.flag.exchange(true, ordering: .relaxed) {
                    _exit(130)
                }
            }
        }
    }

    /// Handlers that say "interrupted" on standard error and exit with 1 (only async-signal-safe
    /// calls: `write`, `_exit`).
    static func installImmediate() {
        unblock()
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                let message: StaticString = "interrupted: stopped by a signal before finishing; files it was writing may be incomplete\n"
                _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
                _exit(1)
            }
        }
    }
}
