import Foundation
import Testing
import Laminar

/// `laminar train` killed with SIGKILL at random moments (checkpoints are written every
/// iteration, so many kills land inside a checkpoint write) and resumed until it completes:
/// every surviving checkpoint is complete, and the final parameters are bit-identical to an
/// uninterrupted run with the same seed.
@Suite(.serialized) struct CrashSafetyTests {
    /// Number of kills; `LAMINAR_KILLS` raises it for longer local runs.
    static let kills = Int(ProcessInfo.processInfo.environment["LAMINAR_KILLS"] ?? "") ?? 8

    @Test func sigkillAtRandomMomentsThenResumeIsBitIdentical() throws {
        let dir = try CLI.temporaryDirectory()
        let iterations = 40 + 40 * Self.kills  // long enough that every kill lands while training runs
        let common = ["train", "--data", "8gaussians", "--iters", String(iterations), "--checkpoint-every", "1", "--seed", "9"]
            + CLI.small
        let straight = try CLI.run(common + ["--out", "\(dir)/straight"])
        #expect(straight.status == 0, "\(straight.stderr)")

        let run = "\(dir)/killed"
        let checkpoint = "\(run)/checkpoint.safetensors"
        var rng = SystemRandomNumberGenerator()
        var killed = 0
        var attempts = 0
        while attempts < 10 * Self.kills + 20 {
            attempts += 1
            let resume = FileManager.default.fileExists(atPath: checkpoint)
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = common + ["--out", run] + (resume ? ["--resume"] : [])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if killed < Self.kills {
                usleep(UInt32.random(in: 30_000...250_000, using: &rng))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    killed += 1
                }
            }
            process.waitUntilExit()
            if process.terminationReason == .exit && process.terminationStatus == 0 { break }
            // Whatever the moment of the kill, the checkpoint on disk is complete.
            if FileManager.default.fileExists(atPath: checkpoint) {
                #expect(throws: Never.self) { _ = try Checkpoint<Float>.load(from: URL(fileURLWithPath: checkpoint)) }
            }
        }
        #expect(killed == Self.kills)
        let a = try Checkpoint<Float>.load(from: URL(fileURLWithPath: checkpoint))
        let b = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(dir)/straight/checkpoint.safetensors"))
        #expect(a.metadata["iteration"] == String(iterations))
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted())
        for (name, t) in a.tensors { #expect(t == b.tensors[name], "\(name) differs after \(killed) kills") }
        // The metrics file has exactly one line per iteration.
        let lines = try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == iterations)
        // … and the same losses as the uninterrupted run (wall-clock fields differ).
        let reference = try String(contentsOfFile: "\(dir)/straight/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        func losses(_ lines: [Substring]) throws -> [Double] {
            try lines.map { (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["loss"] as? Double ?? .nan }
        }
        #expect(try losses(lines) == losses(reference))
    }

    /// SIGTERM (like SIGINT) stops after the current iteration with a checkpoint, and the run
    /// resumes from it.
    @Test func sigtermWritesACheckpointAndStops() throws {
        let dir = try CLI.temporaryDirectory()
        let arguments = ["train", "--data", "8gaussians", "--iters", "100000", "--checkpoint-every", "100000", "--out", dir] + CLI.small
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        usleep(1_500_000)
        kill(process.processIdentifier, SIGTERM)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(message.contains("interrupted at iteration") && message.contains("--resume"), "\(message)")
        let checkpoint = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(dir)/checkpoint.safetensors"))
        let stopped = Int(checkpoint.metadata["iteration"] ?? "") ?? 0
        #expect(stopped > 0)
        let resumed = try CLI.run(["train", "--data", "8gaussians", "--iters", String(stopped + 2), "--out", dir, "--resume"] + CLI.small)
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }
}
