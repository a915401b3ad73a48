import Foundation
import Testing
import Laminar

/// The training-loop flags (`--lr`, `--warmup`, `--clip`, `--max-nfe`, `--on-divergence`,
/// `--time-budget`, `--checkpoint-every`) are one option group: the same spelling, validation and
/// messages in `train`, `classify train` and `latent train`; stored in the checkpoint, kept on a
/// bare `--resume` and replaced by a flag given again.
@Suite(.serialized) struct TrainingLoopFlagTests {
    /// The loop's options a run directory's checkpoint holds.
    func storedOptions(_ run: String) throws -> TrainingOptions {
        let metadata = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(run)/checkpoint.safetensors")).metadata
        return try JSONDecoder().decode(TrainingOptions.self, from: Data(try #require(metadata["training"]).utf8))
    }

    func metricsLines(_ run: String) throws -> Int {
        try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count
    }

    @Test func badValuesExitWithTwoAndNameTheFlagInEveryTrainingCommand() throws {
        let dir = try CLI.temporaryDirectory()
        let commands = [["train"], ["classify", "train"], ["latent", "train"]]
        let cases: [([String], String)] = [
            (["--on-divergence", "retry"], "--on-divergence must be stop or restore-and-halve-lr, got 'retry'"),
            (["--clip", "0"], "--clip must be > 0, got 0.0"),
            (["--warmup", "-2"], "--warmup must be ≥ 0, got -2"),
            (["--max-nfe", "0"], "--max-nfe must be ≥ 1, got 0"),
            (["--time-budget", "soon"], "--time-budget must be a duration"),
            (["--checkpoint-every", "0"], "--checkpoint-every must be ≥ 1, got 0"),
            (["--lr", "-1"], "--lr must be > 0, got -1.0"),
        ]
        for command in commands {
            for (flags, message) in cases {
                let r = try CLI.run(command + flags + ["--out", "\(dir)/run"])
                let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
                #expect(r.status == 2 && first.contains(message), "\(command + flags): \(r.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/run"))
    }

    @Test func theLoopFlagsShareOneHelpText() throws {
        var texts: [String] = []
        for command in [["train"], ["classify", "train"], ["latent", "train"]] {
            let help = try CLI.run(command + ["--help"])
            #expect(help.status == 0)
            let section = try #require(help.stdout.components(separatedBy: "TRAINING RUN:").dropFirst().first, "\(command)")
            for flag in ["--batch", "--lr", "--warmup", "--clip", "--max-nfe", "--on-divergence", "--time-budget", "--checkpoint-every", "--out", "--resume"] {
                #expect(section.contains(flag), "\(command): \(flag)")
            }
            // The flags without a per-command default read the same everywhere.
            let from = try #require(section.range(of: "--clip")), to = try #require(section.range(of: "--time-budget"))
            texts.append(String(section[from.lowerBound..<to.upperBound]))
        }
        #expect(Set(texts).count == 1, "\(texts)")
    }

    /// `latent train`: the flags reach the checkpoint, a bare resume keeps them, a flag given
    /// again replaces its value, and a small `--max-nfe` stops the run with a checkpoint of the
    /// last completed iteration and says why.
    @Test func latentRunsStoreKeepAndReplaceTheLoopFlags() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/latent"
        let first = try CLI.run([
            "latent", "train", "--series", "8", "--points", "6", "--test-series", "2", "--batch", "4", "--iters", "2",
            "--rtol", "1e-3", "--atol", "1e-3", "--clip", "0.5", "--warmup", "3", "--on-divergence", "restore-and-halve-lr",
            "--max-nfe", "100000", "--lr", "5e-3", "--checkpoint-every", "1", "--out", run,
        ])
        #expect(first.status == 0, "\(first.stderr)")
        let stored = try storedOptions(run)
        #expect(stored.gradientClip == 0.5 && stored.warmup == 3 && stored.onDivergence == .restoreAndHalveLR)
        #expect(stored.maxNFE == 100_000 && stored.learningRate == 5e-3 && stored.checkpointEvery == 1)

        let bare = try CLI.run(["latent", "train", "--out", run, "--iters", "3", "--resume"])
        #expect(bare.status == 0 && bare.stderr.contains("resuming at iteration 2"), "\(bare.stderr)")
        var kept = stored
        kept.iterations = 3
        #expect(try storedOptions(run) == kept)

        let replaced = try CLI.run(["latent", "train", "--out", run, "--iters", "4", "--clip", "2", "--resume"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try storedOptions(run).gradientClip == 2 && storedOptions(run).warmup == 3)

        let budget = try CLI.run(["latent", "train", "--out", run, "--iters", "6", "--max-nfe", "1", "--resume"])
        #expect(budget.status == 1 && budget.stderr.contains("above --max-nfe 1"), "\(budget.stderr)")
        #expect(budget.stderr.contains("checkpoint written at iteration 4"), "\(budget.stderr)")
        #expect(try metricsLines(run) == 4)
        let larger = try CLI.run(["latent", "train", "--out", run, "--iters", "5", "--max-nfe", "100000", "--resume"])
        #expect(larger.status == 0 && larger.stderr.contains("resuming at iteration 4"), "\(larger.stderr)")
        #expect(try metricsLines(run) == 5)
    }

    /// `classify train`: the same, on a few 8×8 images.
    @Test func classifierRunsStoreKeepAndReplaceTheLoopFlags() throws {
        let dir = try CLI.temporaryDirectory()
        let images = try CLI.tinyImages(in: dir)
        let run = "\(dir)/classify"
        let common = ["classify", "train", "--data", images, "--channels", "2", "--batch", "8", "--rtol", "1e-2", "--atol", "1e-2"]
        let first = try CLI.run(common + [
            "--epochs", "0.5", "--clip", "1", "--warmup", "4", "--on-divergence", "restore-and-halve-lr",
            "--checkpoint-every", "1", "--out", run,
        ])
        #expect(first.status == 0 && first.stdout.contains("test accuracy:"), "\(first.stderr)")
        let stored = try storedOptions(run)
        #expect(stored.gradientClip == 1 && stored.warmup == 4 && stored.onDivergence == .restoreAndHalveLR && stored.maxNFE == nil)
        let done = stored.iterations
        #expect(try metricsLines(run) == done)

        let budget = try CLI.run(["classify", "train", "--out", run, "--epochs", "1", "--max-nfe", "2", "--resume"])
        #expect(budget.status == 1 && budget.stderr.contains("above --max-nfe 2"), "\(budget.stderr)")
        #expect(budget.stderr.contains("checkpoint written at iteration \(done)"), "\(budget.stderr)")
        let afterStop = try storedOptions(run)
        #expect(afterStop.maxNFE == 2 && afterStop.gradientClip == 1 && afterStop.warmup == 4)

        let resumed = try CLI.run(["classify", "train", "--out", run, "--epochs", "1", "--max-nfe", "10000", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("resuming at iteration \(done)"), "\(resumed.stderr)")
        let last = try storedOptions(run)
        #expect(last.maxNFE == 10_000 && last.gradientClip == 1 && last.warmup == 4 && last.onDivergence == .restoreAndHalveLR)
        #expect(try metricsLines(run) == last.iterations && last.iterations > done)
    }
}
