import Foundation
import Testing
import _LaminarTestSupport
@testable import LaminarFlows
import LaminarNN
import LaminarODE

/// The objective end to end: per-row times, the conversion to CNF time, training on a
/// Gaussian, checkpoints, and models it refuses.
@Suite struct FlowMatchingTests {
    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// With every row at the same time the per-row evaluation is the ordinary one, for every
    /// time conditioning of the MLP and for the convolutional field.
    @Test(arguments: ODENetLayerType.allCases) func rowTimesAgreeWithScalarTime(layerType: ODENetLayerType) throws {
        var rng = RandomGenerator(seed: 3)
        let field = try MLPVectorField<Double>(dimension: 3, hidden: [8, 8], layerType: layerType, activation: "tanh", residual: true, using: &rng)
        let z = Variable(Tensor<Double>.randomNormal([6, 3], using: &rng))
        let t = 0.37
        let scalar = field(Variable(Tensor([t]).reshaped([])), z).value
        let rows = field(rowTimes: Variable(Tensor(repeating: t, shape: [6, 1])), z).value
        #expect(maxAbsDifference(scalar, rows) < 1e-14)
    }

    @Test func convFieldRowTimesAgreeWithScalarTime() {
        var rng = RandomGenerator(seed: 4)
        let field = ConvVectorField<Double>(channels: 1, height: 4, width: 4, hidden: [4], activation: .softplus, using: &rng)
        let z = Variable(Tensor<Double>.randomNormal([3, 16], using: &rng))
        let scalar = field(Variable(Tensor([0.6]).reshaped([])), z).value
        let rows = field(rowTimes: Variable(Tensor(repeating: 0.6, shape: [3, 1])), z).value
        #expect(maxAbsDifference(scalar, rows) < 1e-14)
        // Different times per row: each row as if evaluated alone.
        let times = Tensor<Double>(shape: [3, 1], scalars: [0.1, 0.5, 0.9])
        let mixed = field(rowTimes: Variable(times), z).value
        for i in 0..<3 {
            let alone = field(Variable(Tensor([times.scalars[i]]).reshaped([])), Variable(z.value.slice(axis: 0, i..<(i + 1)))).value
            #expect(maxAbsDifference(alone, mixed.slice(axis: 0, i..<(i + 1))) < 1e-14)
        }
    }

    /// The per-row form's gradients in t and z against central differences (Double).
    @Test func rowTimeGradientsMatchFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 5)
        let field = try MLPVectorField<Double>(dimension: 2, hidden: [6], layerType: .concatsquash, activation: "softplus", using: &rng)
        let t = Tensor<Double>.randomUniform([4, 1], using: &rng)
        let z = Tensor<Double>.randomNormal([4, 2], using: &rng)
        let result = checkGradient({ xs in field(rowTimes: xs[0], xs[1]) }, at: [t, z])
        #expect(result.maxError < 1e-7, "\(result)")
    }

    /// The regression target is the path's velocity in CNF time t = T(1 − u): a central
    /// difference of the path along t reproduces it.
    @Test(arguments: PathScheduler.allCases) func targetIsThePathVelocityInCNFTime(scheduler: PathScheduler) throws {
        let objective = try FlowMatching<Double>(FlowMatchingConfiguration(path: ProbabilityPath(scheduler: scheduler, sigmaMin: 0.01)))
        var rng = RandomGenerator(seed: 6)
        let data = Tensor<Double>.randomNormal([8, 2], using: &rng)
        let T = 0.7
        var replay = RandomGenerator(seed: 11)
        let batch = try objective.regressionBatch(data: data, endTime: T, using: &replay)
        // Replay the draws: the noise first, then the times.
        replay = RandomGenerator(seed: 11)
        let noise = Tensor<Double>.randomNormal([8, 2], using: &replay)
        let path = objective.configuration.path
        for i in 0..<8 {
            let t = batch.times.scalars[i]
            let u = 1 - t / T
            let h = 1e-6
            func point(_ t: Double) -> [Double] {
                path.interpolate(noise: noise.slice(axis: 0, i..<(i + 1)), data: data.slice(axis: 0, i..<(i + 1)),
                                 times: [1 - t / T]).point.scalars
            }
            #expect(maxError(point(t), batch.points.slice(axis: 0, i..<(i + 1)).scalars) < 1e-14)
            guard u > 1e-5, u < path.maximumTime - 1e-5 else { continue }
            let fd = zip(point(t + h), point(t - h)).map { ($0 - $1) / (2 * h) }
            #expect(maxError(fd, batch.targets.slice(axis: 0, i..<(i + 1)).scalars) < 1e-6 * Swift.max(1, fd.map(Swift.abs).max()!))
        }
    }

    func gaussianPoints(_ n: Int, seed: UInt64) -> Tensor<Float> {
        // N(μ, Σ) with μ = (1, −0.5), Σ = L Lᵀ, L = [[1, 0], [0.6, 0.663325]] (Σ = [[1, 0.6], [0.6, 0.8]]).
        var rng = RandomGenerator(seed: seed)
        let e = Tensor<Double>.randomNormal([n, 2], using: &rng).scalars
        var out = [Float]()
        for i in 0..<n {
            out.append(Float(1 + e[2 * i]))
            out.append(Float(-0.5 + 0.6 * e[2 * i] + 0.663_324_958_071_080 * e[2 * i + 1]))
        }
        return Tensor(shape: [n, 2], scalars: out)
    }

    /// A CNF trained by flow matching on a correlated Gaussian recovers its mean and
    /// covariance (from samples) and its entropy (the exact-trace NLL of fresh points is
    /// ½ log det(2πeΣ) = 2.4274 nats up to 0.05). Tolerances: 4,000 samples give standard errors
    /// ≈ 0.016 on the mean and ≈ 0.02 on the covariance; the rest is the fit after 1,500 steps
    /// of batch 256 (800 steps of 128 left the mean 0.1 off).
    @Test(arguments: [CouplingKind.independent, .ot]) func recoversAGaussian(coupling: CouplingKind) throws {
        var rng = RandomGenerator(seed: 1)
        let model = try FFJORD<Float>(FFJORDConfiguration(
            dimension: 2, hidden: [32, 32], activation: "softplus", timeLength: 1, trainTime: false, solve: SolveSettings(rtol: 1e-5, atol: 1e-5)), using: &rng)
        let objective = try FlowMatching<Float>(FlowMatchingConfiguration(coupling: coupling))
        let trainer = try FlowTrainer(
            flow: model, options: TrainingOptions(iterations: 1_500, batchSize: 256, learningRate: 3e-3, weightDecay: 0, checkpointEvery: 10_000),
            source: .points(gaussianPoints(8_192, seed: 2)), directory: try directory(), metadata: ["model": "ffjord"], objective: objective)
        try trainer.train()
        let samples = try model.sampleTransport(Tensor<Float>.randomNormal([4_000, 2], using: &rng)).0.scalars.map(Double.init)
        let n = Double(4_000)
        let mx = stride(from: 0, to: samples.count, by: 2).map { samples[$0] }.reduce(0, +) / n
        let my = stride(from: 1, to: samples.count, by: 2).map { samples[$0] }.reduce(0, +) / n
        var (sxx, sxy, syy) = (0.0, 0.0, 0.0)
        for i in stride(from: 0, to: samples.count, by: 2) {
            let (a, b) = (samples[i] - mx, samples[i + 1] - my)
            sxx += a * a / n
            sxy += a * b / n
            syy += b * b / n
        }
        #expect(Swift.abs(mx - 1) < 0.08 && Swift.abs(my + 0.5) < 0.08, "mean (\(mx), \(my))")
        #expect(Swift.abs(sxx - 1) < 0.12 && Swift.abs(sxy - 0.6) < 0.1 && Swift.abs(syy - 0.8) < 0.1, "cov \(sxx) \(sxy) \(syy)")
        let nll = try Evaluation.negativeLogLikelihood(model, points: gaussianPoints(4_000, seed: 3)).nll
        let entropy = 0.5 * log(pow(2 * Double.pi * M_E, 2) * (1 * 0.8 - 0.36))
        print("\(coupling): mean (\(mx), \(my)), covariance (\(sxx), \(sxy), \(syy)), NLL \(nll) against \(entropy)")
        #expect(Swift.abs(nll - entropy) < 0.05, "NLL \(nll), entropy \(entropy)")
    }

    /// A flow-matching run writes an ordinary CNF checkpoint: it reloads through `ModelStore`
    /// with identical log-densities and records the objective for `--resume`.
    @Test func checkpointRoundTrip() throws {
        let dir = try directory()
        let spec = ModelSpec.ffjord(FFJORDConfiguration(dimension: 2, hidden: [8, 8], trainTime: false, solve: SolveSettings(rtol: 1e-4, atol: 1e-4)))
        let objective = try FlowMatching<Float>(FlowMatchingConfiguration(path: ProbabilityPath(scheduler: .cosine), coupling: .sinkhorn))
        let options = TrainingOptions(iterations: 20, batchSize: 64, checkpointEvery: 10)
        let session = try TrainingSession(spec: spec, options: options, source: .toy(.eightGaussians), dataName: "8gaussians",
                                          directory: dir, resume: false, objective: objective)
        try session.trainer.train()
        let (loaded, _, metadata) = try ModelStore.load(from: session.trainer.checkpointURL)
        #expect(metadata["objective"] == (try objective.configuration.jsonString()))
        var rng = RandomGenerator(seed: 1)
        let x = Variable(Tensor<Float>.randomNormal([16, 2], using: &rng))
        let a = try withoutGradient { try session.flow.logProbability(x).value }
        let b = try withoutGradient { try loaded.logProbability(x).value }
        #expect(a == b)
        // Resuming the run with the other objective is refused.
        #expect(throws: TrainingError.self) {
            _ = try TrainingSession(spec: spec, options: options, source: .toy(.eightGaussians), dataName: "8gaussians",
                                    directory: dir, resume: true)
        }
        // The metrics file has the loss and no likelihood.
        let line = try String(contentsOf: session.trainer.metricsURL, encoding: .utf8).split(separator: "\n").first!
        #expect(!line.contains("\"nll\"") && line.contains("\"loss\""))
    }

    /// Reflow trains on a teacher's (noise, sample) pairs: with a teacher that is the identity
    /// map after training nothing (T fixed, a zero field), the data are the noise itself.
    @Test func reflowUsesTheTeachersPairs() throws {
        var rng = RandomGenerator(seed: 2)
        let teacher = try FFJORD<Double>(FFJORDConfiguration(dimension: 2, hidden: [4], trainTime: false, solve: SolveSettings(rtol: 1e-8, atol: 1e-8)), using: &rng)
        for p in teacher.parameters { p.assign(Tensor(zeros: p.shape)) }
        let objective = try FlowMatching<Double>(FlowMatchingConfiguration(coupling: .reflow, teacher: "teacher"), teacher: teacher)
        let batch = try objective.regressionBatch(data: Tensor(zeros: [5, 2]), endTime: 1, using: &rng)
        // x_u = u·x₀ + (1 − (1 − σ_min)u)·x₀ and the target −(x₁ − (1 − σ_min)x₀) = −σ_min·x₀.
        for i in 0..<5 {
            let u = 1 - batch.times.scalars[i]
            let factor = u + 1 - (1 - 1e-4) * u
            for j in 0..<2 {
                let x0 = batch.points.scalars[2 * i + j] / factor
                #expect(Swift.abs(batch.targets.scalars[2 * i + j] + 1e-4 * x0) < 1e-12)
            }
        }
        #expect(batch.teacherNFE > 0)
    }

    @Test func refusesModelsWithoutASingleField() throws {
        var rng = RandomGenerator(seed: 3)
        let objective = try FlowMatching<Float>(FlowMatchingConfiguration())
        let x = Variable(Tensor<Float>.randomNormal([4, 2], using: &rng))
        let stacked = try FFJORD<Float>(FFJORDConfiguration(dimension: 2, hidden: [4], blocks: 2, trainTime: false), using: &rng)
        let learnedT = try FFJORD<Float>(FFJORDConfiguration(dimension: 2, hidden: [4]), using: &rng)
        let nvp = try RealNVP<Float>(RealNVPConfiguration(dimension: 2, couplings: 2, hidden: [4]), using: &rng)
        for (flow, phrase) in [(stacked as any Flow<Float>, "--blocks 1"), (learnedT, "--no-train-time"), (nvp, "--objective likelihood")] {
            do {
                _ = try objective.loss(of: AnyFlow(flow), batch: x, using: &rng)
                Issue.record("\(type(of: flow)) was accepted")
            } catch {
                #expect("\(error)".contains(phrase), "\(error)")
            }
        }
        #expect(throws: FlowError.self) { try FlowMatching<Float>(FlowMatchingConfiguration(coupling: .reflow)) }
    }
}
