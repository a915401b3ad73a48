import Foundation
import Testing
import LaminarAutodiff
import LaminarNN
import LaminarTensor
@testable import LaminarTraining

/// Least squares `y = x·w*` with batches drawn from `(seed, iteration)`; optionally a NaN loss
/// on chosen calls of `step`.
final class RegressionTask: TrainingTask {
    struct Record: TrainingRecord {
        var iteration: Int
        var loss: Double
        var lr: Double
    }

    let weight: Variable<Double>
    let checkpointMetadata: [String: String]
    let nanCalls: Set<Int>
    private(set) var calls = 0

    init(model: String = "regression", nanCalls: Set<Int> = []) {
        var rng = RandomGenerator(seed: 11)
        weight = Variable(Tensor<Double>.randomNormal([3, 1], using: &rng), requiresGradient: true)
        checkpointMetadata = ["model": model, "configuration": "{\"inputs\":3}", "data": "synthetic"]
        self.nanCalls = nanCalls
    }

    var namedParameters: [(String, Variable<Double>)] { [("weight", weight)] }

    func step(_ context: StepContext<Double>) throws -> TaskStep<Double> {
        calls += 1
        var rng = RandomGenerator(seed: context.options.seed &+ UInt64(context.iteration) &* 7919)
        let x = Tensor<Double>.randomNormal([context.options.batchSize, 3], using: &rng)
        let target = matmul(x, Tensor<Double>(shape: [3, 1], scalars: [1, -2, 0.5]))
        let shard = try context.parallel.shard(globalCount: x.shape[0])
        let (loss, grads) = withGradient { () -> (Variable<Double>, [Tensor<Double>]) in
            var loss = square(matmul(Variable(shard.rows(of: x)), weight) - Variable(shard.rows(of: target))).mean()
            if nanCalls.contains(calls) { loss = loss * Double.nan }
            return (loss, gradients(of: loss, wrt: [weight]).map(\.value))
        }
        return TaskStep(gradients: grads, shard: shard, means: [loss.value.scalar])
    }

    func record(_ s: StepSummary) -> Record { Record(iteration: s.iteration, loss: s.loss, lr: s.learningRate) }
}

@Suite struct TrainingRunTests {
    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("training-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func options(_ iterations: Int, every: Int = 4) -> TrainingOptions {
        TrainingOptions(iterations: iterations, batchSize: 16, learningRate: 0.05, weightDecay: 0, seed: 5, checkpointEvery: every)
    }

    @Test func trainingReducesTheLossAndWritesEveryFile() throws {
        let dir = try directory()
        let run = try TrainingRun(task: RegressionTask(), options: options(100), directory: dir)
        try run.start(resume: false)
        var losses: [Double] = []
        try run.train(progress: { losses.append($0.loss) })
        #expect(losses.count == 100)
        // Noise-free least squares: Adam (steps of about lr = 0.05 per weight) covers the distance
        // of ~2.5 to w* in ~50 iterations and then hovers within a few lr of it.
        #expect(losses.suffix(10).max()! < 0.05 * losses.first!)
        let metadata = try run.directory.checkpointMetadata()
        #expect(metadata["iteration"] == "100" && metadata["model"] == "regression" && metadata["data"] == "synthetic")
        let stored = try JSONDecoder().decode(TrainingOptions.self, from: Data(metadata["training"]!.utf8))
        #expect(stored == options(100))
        #expect(try MetricsLog.read(RegressionTask.Record.self, from: run.directory.metricsURL).map(\.iteration) == Array(1...100))
    }

    /// A run stopped after 10 iterations and resumed to 25 equals one run of 25, bit for bit,
    /// with the metrics of the killed attempt past the checkpoint dropped.
    @Test func resumedRunFollowsTheUninterruptedOneBitForBit() throws {
        let whole = try TrainingRun(task: RegressionTask(), options: options(25), directory: try directory())
        try whole.train()

        let dir = try directory()
        let first = try TrainingRun(task: RegressionTask(), options: options(10), directory: dir)
        try first.train()
        // A killed attempt appended lines past the checkpoint and left a temporary file.
        let handle = try FileHandle(forWritingTo: first.directory.metricsURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"iteration\":11,\"loss\":1,\"lr\":1}\n{\"iter".utf8))
        try handle.close()
        let stale = dir.appendingPathComponent(".checkpoint.safetensors.tmp-999")
        _ = FileManager.default.createFile(atPath: stale.path, contents: Data([1, 2, 3]))

        let second = try TrainingRun(task: RegressionTask(), options: options(25), directory: dir)
        try second.start(resume: true)
        #expect(second.iteration == 10)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        try second.train()
        #expect(second.task.weight.value == whole.task.weight.value)
        let records = try RegressionTask.Record.read(from: second.directory.metricsURL)
        #expect(records.map(\.iteration) == Array(1...25))
    }

    @Test func freshRunRefusesAnExistingRunAndResumeNeedsACheckpoint() throws {
        let dir = try directory()
        #expect(throws: TrainingError.self) { try TrainingRun(task: RegressionTask(), options: options(2), directory: dir).start(resume: true) }
        let run = try TrainingRun(task: RegressionTask(), options: options(2), directory: dir)
        try run.train()
        #expect { try TrainingRun(task: RegressionTask(), options: options(4), directory: dir).start(resume: false) } throws: { error in
            "\(error)".contains("already holds a run") && "\(error)".contains("--resume")
        }
        #expect { try TrainingRun(task: RegressionTask(model: "other"), options: options(4), directory: dir).start(resume: true) } throws: { error in
            "\(error)".contains("different model (regression)")
        }
    }

    @Test func stopRequestWritesACheckpointAndThrows() throws {
        let dir = try directory()
        let run = try TrainingRun(task: RegressionTask(), options: options(50, every: 100), directory: dir)
        var seen = 0
        #expect(throws: TrainingError.interrupted(iteration: 7)) {
            try run.train(shouldStop: { seen >= 7 }) { _ in seen += 1 }
        }
        #expect(try run.directory.checkpointMetadata()["iteration"] == "7")
    }

    @Test func timeBudgetStopsCleanlyAndCountsAcrossResumes() throws {
        let dir = try directory()
        var o = options(100_000_000, every: 1_000_000)
        o.timeBudget = 0.2
        let run = try TrainingRun(task: RegressionTask(), options: o, directory: dir)
        try run.train()
        #expect(run.stoppedAtTimeBudget && run.elapsedSeconds >= 0.2 && run.iteration < o.iterations)
        let resumed = try TrainingRun(task: RegressionTask(), options: o, directory: dir)
        try resumed.start(resume: true)
        #expect(resumed.elapsedSeconds >= 0.2)
        try resumed.train()
        #expect(resumed.stoppedAtTimeBudget && resumed.iteration == run.iteration)  // the budget was already spent
    }

    @Test func nonFiniteLossStopsOrRestoresWithHalfTheLearningRate() throws {
        let stopping = try TrainingRun(task: RegressionTask(nanCalls: [6]), options: options(10), directory: try directory())
        #expect(throws: TrainingError.diverged(iteration: 6, cause: "the loss is nan")) { try stopping.train() }
        #expect(try stopping.directory.checkpointMetadata()["iteration"] == "4")

        var o = options(10)
        o.onDivergence = .restoreAndHalveLR
        let restoring = try TrainingRun(task: RegressionTask(nanCalls: [6]), options: o, directory: try directory())
        var lastRate = 0.0
        try restoring.train(progress: { lastRate = $0.lr })
        #expect(restoring.iteration == 10 && lastRate == 0.025 && restoring.learningRateScale == 0.5)
        #expect(try MetricsLog.read(RegressionTask.Record.self, from: restoring.directory.metricsURL).map(\.iteration) == Array(1...10))
    }

    @Test func warmUpRisesLinearly() throws {
        var o = options(10)
        o.warmup = 4
        let run = try TrainingRun(task: RegressionTask(), options: o, directory: try directory())
        #expect([1, 2, 4, 8].map { run.learningRate(at: $0) } == [0.0125, 0.025, 0.05, 0.05])
    }

    @Test func optionsOutOfRangeNameTheFlag() {
        #expect { try TrainingOptions(iterations: 0).validate() } throws: { "\($0)".contains("--iters") }
        #expect { try TrainingOptions(learningRate: -1).validate() } throws: { "\($0)".contains("--lr") }
        #expect { try TrainingOptions(timeBudget: 0).validate() } throws: { "\($0)".contains("--time-budget") }
    }

    /// The loop settings of a model's options become the loop's options and back; the stored
    /// options of a checkpoint without the later keys read with their defaults.
    @Test func loopSettingsRoundTripThroughTheLoopsOptions() throws {
        let settings = LoopSettings(
            batchSize: 32, learningRate: 2e-3, warmup: 7, gradientClip: 1, seed: 3, checkpointEvery: 9, maxNFE: 400,
            onDivergence: .restoreAndHalveLR, timeBudget: 120)
        let options = settings.trainingOptions(iterations: 50, weightDecay: 1e-5)
        #expect(options == TrainingOptions(
            iterations: 50, batchSize: 32, learningRate: 2e-3, weightDecay: 1e-5, warmup: 7, gradientClip: 1, seed: 3,
            checkpointEvery: 9, maxNFE: 400, onDivergence: .restoreAndHalveLR, timeBudget: 120))
        #expect(options.loop == settings)
        let stored = #"{"batchSize":32,"checkpointEvery":9,"learningRate":0.002,"seed":3}"#
        #expect(try JSONDecoder().decode(LoopSettings.self, from: Data(stored.utf8))
            == LoopSettings(batchSize: 32, learningRate: 2e-3, seed: 3, checkpointEvery: 9))
    }
}

/// A model's trainer needs only its run: the lifecycle comes from ``ModelTrainer``.
final class RegressionTrainer: ModelTrainer {
    let run: TrainingRun<RegressionTask>
    init(directory: URL, iterations: Int) throws {
        run = try TrainingRun(
            task: RegressionTask(),
            options: TrainingOptions(iterations: iterations, batchSize: 8, learningRate: 0.05, weightDecay: 0, checkpointEvery: 3),
            directory: directory)
    }
}

@Suite struct ModelTrainerTests {
    @Test func aTrainerExposesItsRunsLifecycle() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("model-trainer-\(UUID().uuidString)")
        let first = try RegressionTrainer(directory: dir, iterations: 4)
        try first.start(resume: false)
        var seen: [Int] = []
        try first.train(progress: { seen.append($0.iteration) })
        #expect(seen == [1, 2, 3, 4] && first.iteration == 4 && !first.stoppedAtTimeBudget)
        #expect(first.directory == dir && FileManager.default.fileExists(atPath: first.checkpointURL.path))
        let second = try RegressionTrainer(directory: dir, iterations: 6)
        try second.start(resume: true)
        #expect(second.iteration == 4)
        try second.train()
        #expect(try RegressionTask.Record.read(from: second.metricsURL).map(\.iteration) == Array(1...6))
    }
}
