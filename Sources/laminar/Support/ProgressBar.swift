import Foundation

/// A one-line live progress display on standard error: iteration, loss, NFE, rate, ETA.
/// Redraws in place on a terminal and prints a plain line every `logEvery` updates (and at
/// least once a minute) otherwise (CI logs, pipes).
final class ProgressBar {
    private let total: Int
    private let start: Date
    private let isTerminal: Bool
    private let logEvery: Int
    private let logInterval: Double
    private let unit: String
    private var lastDraw = Date.distantPast
    private var lastWidth = 0

    /// Seconds the run may train in total, and how many it had used before this process.
    private let timeBudget: Double?
    private let elapsedBefore: Double

    /// `unit` names what is counted (`it` for iterations, `images`, `points`); off a terminal a
    /// line is printed every `logEvery` updates and at least every `logInterval` seconds.
    init(
        total: Int, startIteration: Int = 0, logEvery: Int = 100, timeBudget: Double? = nil, elapsed: Double = 0,
        unit: String = "it", logInterval: Double = 60
    ) {
        self.unit = unit
        self.logInterval = logInterval
        self.total = total
        self.timeBudget = timeBudget
        self.elapsedBefore = elapsed
        self.start = Date()
        self.isTerminal = isatty(2) != 0
        self.logEvery = max(1, logEvery)
        self.startIteration = startIteration
    }

    private let startIteration: Int

    /// Updates the display for `iteration` (1-based) with named fields (rank 0 only under mpirun).
    func update(iteration: Int, fields: [(String, String)]) {
        guard DistributedRun.printsOutput else { return }
        let elapsed = Date().timeIntervalSince(start)
        let done = iteration - startIteration
        let rate = done > 0 ? Double(done) / max(elapsed, 1e-9) : 0
        var remaining = rate > 0 ? Double(total - iteration) / rate : 0
        var fraction = Double(iteration) / Double(max(total, 1))
        if let timeBudget {
            let used = elapsedBefore + elapsed
            remaining = min(remaining, max(0, timeBudget - used))
            fraction = min(1, max(fraction, used / timeBudget))
        }
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let body = fields.map { "\($0.0) \($0.1)" }.joined(separator: "  ") + (fields.isEmpty ? "" : "  ")
        let counter = timeBudget == nil ? "\(iteration)/\(total)" : "\(iteration)"
        let line = "[\(bar)] \(counter)  \(body)\(String(format: "%.2f", rate)) \(unit)/s  ETA \(formatDuration(remaining))"
        if isTerminal {
            let now = Date()
            guard now.timeIntervalSince(lastDraw) > 0.1 || iteration == total else { return }
            lastDraw = now
            let pad = max(0, lastWidth - line.count)
            FileHandle.standardError.write(Data(("\r" + line + String(repeating: " ", count: pad)).utf8))
            lastWidth = line.count
        } else if iteration % logEvery == 0 || iteration == total || iteration == startIteration + 1
                    || Date().timeIntervalSince(lastDraw) >= logInterval {
            // Logs: every `logEvery` iterations, and at least once a minute for slow runs.
            lastDraw = Date()
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Ends the live line.
    func finish() {
        if isTerminal && DistributedRun.printsOutput { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// A progress display for a long evaluation over `total` items, as the `progress` closure of the
/// library's evaluations: a bar with rate and ETA on a terminal, a line every 10 s in logs. It
/// throws ``CommandInterrupted`` once SIGINT/SIGTERM arrived (install ``SignalFlag`` first).
func stageProgress(_ label: String, total: Int, unit: String) -> (Int, Int) throws -> Void {
    note("\(label): \(total) \(unit)")
    let bar = ProgressBar(total: total, logEvery: Int.max, unit: unit, logInterval: 10)
    return { done, total in
        bar.update(iteration: done, fields: [])
        if SignalFlag.isSet {
            bar.finish()
            throw CommandInterrupted("\(label) stopped after \(done) of \(total) \(unit)")
        }
        if done >= total { bar.finish() }
    }
}

/// `1h02m`, `3m05s`, `12s`.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}

/// Writes a line to standard error (rank 0 only under mpirun).
func note(_ message: String) {
    guard DistributedRun.printsOutput else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
