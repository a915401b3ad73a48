import Foundation
import Synchronization

/// Set by SIGINT/SIGTERM; training polls it between iterations, writes a checkpoint and stops.
enum SignalFlag {
    static let flag = Atomic<Bool>(false)

    static var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Installs the handlers (a second signal exits at once). The signals are also unblocked:
    /// a parent may have spawned us with them masked, and the handlers would then never run.
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in
                if SignalFlag.flag.exchange(true, ordering: .relaxed) {
                    _exit(130)
                }
            }
        }
    }
}
