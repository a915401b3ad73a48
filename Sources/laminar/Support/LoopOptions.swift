import ArgumentParser
import Laminar

/// What differs between the training commands' run flags: defaults and the words of `--batch`
/// and `--resume`. Each training command names its own (`FlowLoopDefaults`, …).
protocol LoopDefaults {
    /// The command's values.
    static var values: LoopDefaultValues { get }
}

/// The defaults and words of one training command's run flags.
struct LoopDefaultValues {
    /// `--batch` when not given (on image data `train` takes 64).
    var batch: Int
    /// `--batch`'s help (what a batch holds, its default).
    var batchHelp: String
    /// `--lr` when not given.
    var learningRate: Double
    /// `--checkpoint-every` when not given.
    var checkpointEvery: Int
    /// `--out` when not given.
    var out: String
    /// What `--resume` reads from the checkpoint, and the command's own flags that may change.
    var resumeHelp: String
}

/// The training-run flags of `train`, `classify train` and `latent train`, declared and
/// validated once: the batch, the loop's learning rate and warm-up, gradient clipping, NFE
/// budget, divergence policy, time budget and checkpoint cadence (turned into the loop's
/// ``LoopSettings``), and the run directory with `--resume`.
///
/// The flags are optional so that `--resume` can tell a flag given from one left out. `--batch`
/// left out is the checkpoint's (given, the command checks it against the checkpoint). The loop
/// flags may change on resume: given, they replace the checkpoint's values; left out, they keep
/// them, except `--time-budget`, which applies to the invocation that gives it. A run stopped by
/// divergence or by the NFE budget is typically continued with `--clip`, `--on-divergence
/// restore-and-halve-lr` or a larger `--max-nfe`.
struct LoopOptions<Defaults: LoopDefaults>: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(Defaults.values.batchHelp))
    var batch: Int?

    @Option(parsing: .unconditional, help: "Adam learning rate (default \(Defaults.values.learningRate)).")
    var lr: Double?

    @Option(parsing: .unconditional, help: "Linear learning-rate warm-up over this many iterations (default 0: none).")
    var warmup: Int?

    @Option(parsing: .unconditional, help: "Clip the global gradient norm to this value (default: no clipping).")
    var clip: Double?

    @Option(name: .customLong("max-nfe"), parsing: .unconditional, help: "Stop (exit 1, checkpoint of the last completed iteration written) when one iteration needs more forward function evaluations than this.")
    var maxNFE: Int?

    @Option(name: .customLong("on-divergence"), help: "When the loss or the gradient stops being finite: stop (default; the last good checkpoint is kept) or restore-and-halve-lr (reload it, halve the learning rate, go on).")
    var onDivergence: String?

    @Option(name: .customLong("time-budget"), help: "Stop cleanly after this much training time (e.g. 90s, 60m, 2h; counted across resumes), checkpoint and evaluate.")
    var timeBudget: String?

    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Checkpoint interval in iterations (default \(Defaults.values.checkpointEvery)).")
    var checkpointEvery: Int?

    @Option(help: "Output directory (metrics.jsonl, checkpoint.safetensors, summary and pictures).")
    var out: String = Defaults.values.out

    @Flag(help: ArgumentHelp("Continue the run in --out from its checkpoint. \(Defaults.values.resumeHelp) \(resumeLoopHelp)"))
    var resume: Bool = false

    func validate() throws {
        if let onDivergence, DivergencePolicy(rawValue: onDivergence) == nil {
            throw ValidationError("--on-divergence must be \(DivergencePolicy.allCases.map(\.rawValue).joined(separator: " or ")), got '\(onDivergence)'")
        }
        if let timeBudget, parseDuration(timeBudget) == nil {
            throw ValidationError("--time-budget must be a duration such as 90s, 60m or 2h, got '\(timeBudget)'")
        }
        do { try settings(defaultBatch: 1, seed: 0, resumed: nil).trainingOptions(iterations: 1).validate() } catch {
            throw ValidationError("\(error)")
        }
        try requireWritableDirectory(out, flag: "--out")
    }

    /// A model's training options for a run of `length` (epochs, iterations) with
    /// ``settings(defaultBatch:seed:resumed:)`` at the command's default batch.
    func options<Options: ModelTrainingOptions>(_ length: Options.Length, seed: UInt64, resumed: TrainingOptions?) -> Options {
        Options(runLength: length, loop: settings(defaultBatch: Defaults.values.batch, seed: seed, resumed: resumed))
    }

    /// The loop settings: each flag as given, else the resumed run's value (`resumed`, the
    /// checkpoint's options), else the command's default; the time budget only as given.
    func settings(defaultBatch: Int, seed: UInt64, resumed: TrainingOptions?) -> LoopSettings {
        LoopSettings(
            batchSize: batch ?? resumed?.batchSize ?? defaultBatch, learningRate: lr ?? resumed?.learningRate ?? Defaults.values.learningRate,
            warmup: warmup ?? resumed?.warmup ?? 0, gradientClip: clip ?? resumed?.gradientClip, seed: seed,
            checkpointEvery: checkpointEvery ?? resumed?.checkpointEvery ?? Defaults.values.checkpointEvery,
            maxNFE: maxNFE ?? resumed?.maxNFE,
            onDivergence: onDivergence.flatMap(DivergencePolicy.init(rawValue:)) ?? resumed?.onDivergence ?? .stop,
            timeBudget: timeBudget.flatMap(parseDuration))
    }
}

/// What `--resume` says of the loop flags, in every training command's help.
let resumeLoopHelp = "--lr, --warmup, --clip, --max-nfe, --on-divergence and --checkpoint-every may change and, left out, keep the run's values; --time-budget and --threads apply to this invocation only."
