import Foundation
import Testing
import Laminar

/// `mpirun -np 2 laminar …` on this machine: runs through the built binary, skipped (with the
/// reason) when Open MPI's launcher is not installed.
enum MPIRun {
    /// `mpirun` on the PATH, if any.
    static let launcher: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/mpirun"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    static var available: Bool { launcher != nil }

    /// The launcher's flags: root is allowed (CI runs as root), more ranks than cores are
    /// allowed (2-core machines), and shared memory between the ranks of one host.
    /// `LAMINAR_MPIRUN_FLAGS` (space-separated) replaces the last two for other setups.
    static var flags: [String] {
        let custom = ProcessInfo.processInfo.environment["LAMINAR_MPIRUN_FLAGS"]?.split(separator: " ").map(String.init)
        var flags = custom ?? ["--oversubscribe", "--mca", "btl", "self,vader"]
        if getuid() == 0 { flags.insert("--allow-run-as-root", at: 0) }
        return flags
    }

    /// Starts `laminar arguments` on `ranks` ranks.
    static func start(_ ranks: Int, _ arguments: [String], stdout: Pipe, stderr: Pipe) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher!)
        process.arguments = flags + ["-np", String(ranks), CLI.binary.path] + arguments
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        return process
    }

    /// Runs `laminar arguments` on `ranks` ranks (1: a plain process, no launcher) to the end.
    static func run(_ ranks: Int, _ arguments: [String]) throws -> CLI.Result {
        guard ranks > 1 else { return try CLI.run(arguments) }
        let out = Pipe(), err = Pipe()
        let process = try start(ranks, arguments, stdout: out, stderr: err)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLI.Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                          stderr: String(decoding: e, as: UTF8.self))
    }

    /// The process ids of the ranks `launcher` started, by rank (read from their environment).
    static func ranks(of launcher: Process) -> [Int: pid_t] {
        var found: [Int: pid_t] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for name in entries {
            guard let pid = pid_t(name),
                  let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == launcher.processIdentifier,
                  let environment = FileManager.default.contents(atPath: "/proc/\(name)/environ") else { continue }
            for entry in environment.split(separator: 0) {
                let text = String(decoding: entry, as: UTF8.self)
                if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst(21)) { found[rank] = pid }
            }
        }
        return found
    }
}

/// Data-parallel training under `mpirun -np 2`: the same computation as one process, identical
/// replicas, checkpoints that move between rank counts, every rank stopping together, and a
/// dead rank ending the job.
@Suite(.serialized, .enabled(if: MPIRun.available, "mpirun (Open MPI) is not installed; skipping the data-parallel tests"))
struct DistributedTrainingTests {
    /// Real NVP (no solver: the step is deterministic) on 8 Gaussians, global batch 64.
    static let realNVP = ["train", "--data", "8gaussians", "--model", "realnvp", "--couplings", "4", "--hidden", "16-16",
                          "--batch", "64", "--lr", "3e-3", "--seed", "3", "--no-pictures"]

    static func parameters(_ run: String) throws -> [String: Tensor<Float>] {
        try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(run)/checkpoint.safetensors")).tensors
    }

    static func records(_ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// Equal up to Float summation order: the shards' gradients are summed in another order
    /// than one process sums the whole batch's (relative differences ~1e-7 per step, which
    /// Adam's normalised steps keep at that scale over a few dozen steps).
    static func expectClose(_ a: [String: Tensor<Float>], _ b: [String: Tensor<Float>], _ context: String) {
        #expect(a.keys.sorted() == b.keys.sorted(), "\(context)")
        for (name, t) in a where !name.hasPrefix("optimizer.") {
            guard let u = b[name] else { continue }
            let worst = zip(t.scalars, u.scalars).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
            #expect(worst < 2e-5, "\(context): \(name) differs by \(worst)")
        }
    }

    @Test func twoRanksComputeWhatOneProcessComputesAndStayIdentical() throws {
        let dir = try CLI.temporaryDirectory()
        let one = try MPIRun.run(1, Self.realNVP + ["--iters", "30", "--out", "\(dir)/one"])
        #expect(one.status == 0, "\(one.stderr)")
        // --replica-check 1: every rank compares its parameter checksum with rank 0's after
        // every step, and the job fails if any differs.
        let two = try MPIRun.run(2, Self.realNVP + ["--iters", "30", "--out", "\(dir)/two", "--replica-check", "1"])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stderr.contains("data parallel: 2 ranks"), "\(two.stderr)")
        // Only rank 0 prints: one start line, one checkpoint line.
        #expect(two.stderr.components(separatedBy: "laminar train:").count == 2, "\(two.stderr)")
        Self.expectClose(try Self.parameters("\(dir)/one"), try Self.parameters("\(dir)/two"), "1 vs 2 ranks")
        let (a, b) = (try Self.records("\(dir)/one"), try Self.records("\(dir)/two"))
        #expect(a.count == 30 && b.count == 30)
        for (x, y) in zip(a, b) {
            let (lx, ly) = (x["loss"] as? Double ?? .nan, y["loss"] as? Double ?? .nan)
            #expect(abs(lx - ly) < 1e-4 * max(1, abs(lx)), "iteration \(x["iteration"] ?? "?"): loss \(lx) vs \(ly)")
        }
        #expect(b.last?["ranks"] as? Int == 2 && a.last?["ranks"] == nil)
    }

    /// FFJORD with Hutchinson's estimator: each rank must use its rows of the global batch's
    /// noise for the estimates to match one process. The adaptive solver picks its steps from
    /// the error of the whole state it integrates, a shard here, so the two runs agree to the
    /// solver tolerance rather than to the last bit.
    @Test func hutchinsonCNFOnTwoRanksMatchesOneProcessToSolverTolerance() throws {
        let dir = try CLI.temporaryDirectory()
        let common = ["train", "--data", "2spirals", "--hidden", "8-8", "--trace", "hutchinson", "--rtol", "1e-6", "--atol", "1e-6",
                      "--batch", "32", "--iters", "5", "--seed", "5", "--no-pictures"]
        let one = try MPIRun.run(1, common + ["--out", "\(dir)/one"])
        let two = try MPIRun.run(2, common + ["--out", "\(dir)/two", "--replica-check", "1"])
        #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
        let (a, b) = (try Self.records("\(dir)/one"), try Self.records("\(dir)/two"))
        #expect(a.count == 5 && b.count == 5)
        for (x, y) in zip(a, b) {
            let (lx, ly) = (x["loss"] as? Double ?? .nan, y["loss"] as? Double ?? .nan)
            #expect(abs(lx - ly) < 1e-4, "iteration \(x["iteration"] ?? "?"): loss \(lx) vs \(ly)")
        }
    }

    /// 1 → 2 and 2 → 1 ranks across a resume continue the same run as an uninterrupted one.
    @Test func checkpointsResumeUnderAnotherNumberOfRanks() throws {
        let dir = try CLI.temporaryDirectory()
        let straight = try MPIRun.run(1, Self.realNVP + ["--iters", "20", "--out", "\(dir)/straight"])
        #expect(straight.status == 0, "\(straight.stderr)")
        for (first, second) in [(1, 2), (2, 1)] {
            let run = "\(dir)/\(first)-\(second)"
            let a = try MPIRun.run(first, Self.realNVP + ["--iters", "10", "--out", run])
            #expect(a.status == 0, "\(a.stderr)")
            let b = try MPIRun.run(second, Self.realNVP + ["--iters", "20", "--out", run, "--resume"])
            #expect(b.status == 0, "\(b.stderr)")
            #expect(b.stderr.contains("resuming at iteration 10"), "\(b.stderr)")
            #expect(try Self.records(run).count == 20)
            Self.expectClose(try Self.parameters("\(dir)/straight"), try Self.parameters(run), "\(first) → \(second) ranks")
        }
    }

    /// SIGTERM to one rank stops both at the same iteration with a checkpoint; a time budget
    /// does the same; both runs resume.
    @Test func aSignalOrATimeBudgetStopsEveryRankAtTheSameIteration() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/signal"
        let out = Pipe(), err = Pipe()
        let job = try MPIRun.start(2, Self.realNVP + ["--iters", "1000000", "--checkpoint-every", "1000000", "--out", run],
                                   stdout: out, stderr: err)
        #expect(waitFor(seconds: 60) { (try? Self.records(run).count) ?? 0 >= 3 })
        let ranks = MPIRun.ranks(of: job)
        #expect(ranks.count == 2, "rank processes: \(ranks)")
        if let rank1 = ranks[1] { kill(rank1, SIGTERM) }
        let e = err.fileHandleForReading.readDataToEndOfFile()
        job.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self)
        #expect(job.terminationStatus == 1, "\(stderr)")
        #expect(stderr.contains("interrupted at iteration"), "\(stderr)")
        let stopped = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(run)/checkpoint.safetensors"))
        #expect(Int(stopped.metadata["iteration"] ?? "") == (try Self.records(run).count))

        let budget = "\(dir)/budget"
        let timed = try MPIRun.run(2, Self.realNVP + ["--iters", "1000000", "--time-budget", "2s", "--out", budget])
        #expect(timed.status == 0 && timed.stderr.contains("time budget reached"), "\(timed.stderr)")
        let reached = try Self.records(budget).count
        let resumed = try MPIRun.run(2, Self.realNVP + ["--iters", String(reached + 3), "--out", budget, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Self.records(budget).count == reached + 3)
    }

    /// SIGKILL of rank 1 mid-run: the job ends non-zero within a bounded time and the message
    /// names the rank.
    @Test func aKilledRankEndsTheJobWithAMessageNamingIt() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/run"
        let out = Pipe(), err = Pipe()
        let job = try MPIRun.start(2, Self.realNVP + ["--iters", "1000000", "--out", run], stdout: out, stderr: err)
        #expect(waitFor(seconds: 60) { (try? Self.records(run).count) ?? 0 >= 3 })
        let ranks = MPIRun.ranks(of: job)
        guard let rank1 = ranks[1] else {
            job.terminate()
            Issue.record("rank 1 not found among the launcher's children: \(ranks)")
            return
        }
        let killed = Date()
        kill(rank1, SIGKILL)
        let ended = waitFor(seconds: 60) { !job.isRunning }
        let seconds = Date().timeIntervalSince(killed)
        if !ended { kill(job.processIdentifier, SIGKILL) }
        job.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(ended, "the job still ran \(seconds) s after rank 1 was killed")
        #expect(job.terminationStatus != 0)
        #expect(stderr.contains("rank 1"), "\(stderr)")
    }

    /// `classify train` and `latent train` run under two ranks; rank 0 writes the files.
    @Test func classifierAndLatentTrainersRunOnTwoRanks() throws {
        let dir = try CLI.temporaryDirectory()
        let data = "\(dir)/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<24 {
            let label = UInt8(i % 2)
            labels.append(label)
            for r in 0..<28 { for _ in 0..<28 { pixels.append((r < 14) == (label == 0) ? 200 : 10) } }
        }
        try Data(IDXFile(shape: [24, 28, 28], bytes: pixels).serialized()).write(to: URL(fileURLWithPath: "\(data)/t10k-images-idx3-ubyte"))
        try Data(IDXFile(shape: [24], bytes: labels).serialized()).write(to: URL(fileURLWithPath: "\(data)/t10k-labels-idx1-ubyte"))
        let classify = try MPIRun.run(2, ["classify", "train", "--data", data, "--channels", "4", "--batch", "8", "--tol", "1e-2",
                                          "--epochs", "1", "--replica-check", "1", "--out", "\(dir)/classify"])
        #expect(classify.status == 0 && classify.stdout.contains("test accuracy:"), "\(classify.stderr)")
        #expect(classify.stdout.components(separatedBy: "test accuracy:").count == 2)  // rank 0 only
        let c = try Self.records("\(dir)/classify")
        #expect(c.count == 2 && c.allSatisfy { $0["ranks"] as? Int == 2 && $0["nfe_forward_mean"] is Double })

        let latent = try MPIRun.run(2, ["latent", "train", "--series", "12", "--points", "10", "--test-series", "4", "--batch", "6",
                                        "--rtol", "1e-3", "--atol", "1e-3", "--iters", "3", "--replica-check", "1", "--out", "\(dir)/latent"])
        #expect(latent.status == 0 && latent.stdout.contains("extrapolation RMSE:"), "\(latent.stderr)")
        #expect(try Self.records("\(dir)/latent").count == 3)
    }

    /// `compare` deals its models out over the ranks; the gathered table equals one process's.
    @Test func compareOnTwoRanksGathersTheSameTable() throws {
        let dir = try CLI.temporaryDirectory()
        let common = ["compare", "--targets", "u1", "--depths", "1,2", "--widths", "1", "--iters", "3", "--batch", "32",
                      "--evaluation-samples", "100", "--resolution", "16", "--rtol", "1e-3", "--atol", "1e-3"]
        let one = try MPIRun.run(1, common + ["--out", "\(dir)/one"])
        let two = try MPIRun.run(2, common + ["--out", "\(dir)/two"])
        #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
        #expect(two.stderr.contains("(rank 1)"), "\(two.stderr)")
        func rows(_ run: String) throws -> [[String: Any]] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/results.json"))) as? [[String: Any]] ?? []
        }
        let (a, b) = (try rows("\(dir)/one"), try rows("\(dir)/two"))
        #expect(a.count == 3 && b.count == 3)
        for (x, y) in zip(a, b) {
            #expect(x["model"] as? String == y["model"] as? String && x["size"] as? Int == y["size"] as? Int)
            #expect(x["loss"] as? Double == y["loss"] as? Double, "\(x) vs \(y)")  // each model trains alone: identical
        }
        #expect(try PNG.read("\(dir)/two/panels.png").width == (try PNG.read("\(dir)/one/panels.png").width))
    }

    @Test func aBatchSmallerThanTheJobIsARuntimeError() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try MPIRun.run(2, ["train", "--data", "8gaussians", "--model", "realnvp", "--batch", "1", "--iters", "2",
                                   "--no-pictures", "--out", dir])
        #expect(r.status == 1 && r.stderr.contains("cannot be split over 2 ranks"), "\(r.stderr)")
    }
}

/// Polls `condition` every 50 ms for at most `seconds`.
func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
