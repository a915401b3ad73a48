import CBLAS
import Foundation
import Laminar

/// Settings shared by every case.
struct BenchSettings {
    var smoke: Bool
    var threads: Int
    var repeats: Int { smoke ? 2 : 20 }
}

// MARK: - blas: our matmul path next to raw cblas_sgemm

func blasCase(_ s: BenchSettings) -> [Measurement] {
    var rng = RandomGenerator(seed: 1)
    var out: [Measurement] = []
    for (m, k, n) in [(512, 64, 64), (512, 2, 64), (512, 512, 512)] {
        let a = Tensor<Float>.randomNormal([m, k], using: &rng)
        let b = Tensor<Float>.randomNormal([k, n], using: &rng)
        let inner = max(1, (s.smoke ? 2_000_000 : 200_000_000) / (2 * m * n * k))
        let ours = Harness.time(repeats: s.repeats) { for _ in 0..<inner { _ = Tensor.matmul(a, b) } }.map { $0 / Double(inner) }
        var c = [Float](repeating: 0, count: m * n)
        let raw = Harness.time(repeats: s.repeats) {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    for _ in 0..<inner {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                    pa.baseAddress, Int32(k), pb.baseAddress, Int32(n), 0, &c, Int32(n))
                    }
                }
            }
        }.map { $0 / Double(inner) }
        let flops = 2.0 * Double(m * n * k)
        let oursMedian = ours.sorted()[ours.count / 2], rawMedian = raw.sorted()[raw.count / 2]
        out.append(Harness.summarize("matmul \(m)x\(k)·\(k)x\(n) (Tensor.matmul)", ours,
                                     extra: ["GFLOPs": flops / oursMedian / 1e9, "overhead_vs_raw": oursMedian / rawMedian]))
        out.append(Harness.summarize("matmul \(m)x\(k)·\(k)x\(n) (raw cblas_sgemm)", raw,
                                     extra: ["GFLOPs": flops / rawMedian / 1e9]))
    }
    return out
}

// MARK: - autodiff: the FFJORD dynamics MLP

/// 2→64→64→64→2 ConcatSquashLinear tanh network on a 512×2 batch, as FFJORD's toy setting.
func toyNet(using rng: inout RandomGenerator) throws -> MLPVectorField<Float> {
    try MLPVectorField<Float>(dimension: 2, hidden: [64, 64, 64], layerType: .concatsquash, activation: "tanh", using: &rng)
}

func autodiffCase(_ s: BenchSettings) throws -> [Measurement] {
    var rng = RandomGenerator(seed: 2)
    let net = try toyNet(using: &rng)
    let z = Tensor<Float>.randomNormal([512, 2], using: &rng)
    let e = Variable(Tensor<Float>.randomNormal([512, 2], using: &rng))
    let t = Variable(Tensor<Float>(0.25))
    let forward = Harness.time(repeats: s.repeats * 5) { _ = withoutGradient { net(t, Variable(z)) } }
    let vjp = Harness.time(repeats: s.repeats * 5) {
        withGradient {
            let zv = Variable(z, requiresGradient: true)
            _ = gradients(of: [net(t, zv)], wrt: [zv], seeds: [e], createGraph: true)
        }
    }
    let double = Harness.time(repeats: s.repeats * 5) {
        withGradient {
            let zv = Variable(z, requiresGradient: true)
            let f = net(t, zv)
            let eJ = gradients(of: [f], wrt: [zv], seeds: [e], createGraph: true)[0]
            let trace = (eJ * e).sum()
            _ = gradients(of: trace, wrt: net.parameters)
        }
    }
    // The same quantities through the graph-free CNF dynamics (what the solver calls).
    let dynamics = CNFDynamics(net: net, trace: .hutchinson(noise: e.value))
    let y = [z, Tensor<Float>(zeros: [512, 1])]
    let seeds = [Tensor<Float>.randomNormal([512, 2], using: &rng), Tensor<Float>.randomNormal([512, 1], using: &rng)]
    let fusedForward = Harness.time(repeats: s.repeats * 5) { _ = dynamics.evaluate(0.25, y) }
    let fusedPullback = Harness.time(repeats: s.repeats * 5) {
        _ = dynamics.pullback(0.25, y, seeds: seeds, parameters: net.parameters)
    }
    return [
        Harness.summarize("forward (512×2, 64-64-64 concatsquash tanh)", forward),
        Harness.summarize("forward + VJP εᵀ∂f/∂z (createGraph)", vjp),
        Harness.summarize("forward + VJP + ∂(εᵀ∂f/∂z ε)/∂θ (double VJP)", double),
        Harness.summarize("fused f and εᵀ(∂f/∂z)ε (CNF dynamics, no graph)", fusedForward),
        Harness.summarize("fused adjoint pullback of [f, −div] wrt z, θ", fusedPullback),
    ]
}

// MARK: - solver: standard problems

func solverCase(_ s: BenchSettings) throws -> [Measurement] {
    let lotka: (Double, [Double]) -> [Double] = { _, y in [1.5 * y[0] - y[0] * y[1], -3 * y[1] + y[0] * y[1]] }
    let vdp: (Double, [Double]) -> [Double] = { _, y in [y[1], (1 - y[0] * y[0]) * y[1] - y[0]] }
    let kepler: (Double, [Double]) -> [Double] = { _, y in
        let r3 = pow(y[0] * y[0] + y[1] * y[1], 1.5)
        return [y[2], y[3], -y[0] / r3, -y[1] / r3]
    }
    let problems: [(String, (Double, [Double]) -> [Double], [Double], Double)] = [
        ("lotka_volterra", lotka, [1, 1], 10), ("van_der_pol", vdp, [2, 0], 20),
        ("kepler", kepler, [0.5, 0, 0, 3.0.squareRoot()], 2 * Double.pi),
    ]
    var out: [Measurement] = []
    for (name, f, y0, t1) in problems {
        let (ref, _) = try solveIVP(f, y0: y0, times: [0, t1], method: .dopri8, rtol: 1e-13, atol: 1e-13)
        for method in [Tableau.dopri5, .tsit5, .dopri8] {
            for tol in [1e-3, 1e-6, 1e-9] {
                var stats = ODEStats()
                var err = 0.0
                let samples = try Harness.time(repeats: s.repeats) {
                    let (states, st) = try solveIVP(f, y0: y0, times: [0, t1], method: method, rtol: tol, atol: tol)
                    stats = st
                    err = zip(states[1], ref[1]).map { abs($0 - $1) }.max()!
                }
                let median = samples.sorted()[samples.count / 2]
                out.append(Harness.summarize(
                    "\(name) \(method.name) tol \(tol)", samples, nfe: stats.nfe,
                    extra: ["error": err, "accepted": Double(stats.acceptedSteps), "rejected": Double(stats.rejectedSteps),
                            "us_per_step": median / Double(stats.acceptedSteps + stats.rejectedSteps) * 1e6]))
            }
        }
    }
    // Lotka–Volterra through `odeint`, prey and predators as two state components: a closure on
    // graph variables only (what gradients need), and the same with its plain right-hand side on
    // tensors (what forward-only solves of small closures use), against `solveIVP` above.
    let lotkaVariables: (Variable<Double>, [Variable<Double>]) -> [Variable<Double>] = { _, y in
        [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]]
    }
    let lotkaTensors: (Double, [Tensor<Double>]) -> [Tensor<Double>] = { _, y in
        [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]]
    }
    for (label, dynamics) in [
        ("graph closure", ClosureDynamics<Double>(lotkaVariables)),
        ("plain closure", ClosureDynamics<Double>(lotkaVariables, plain: lotkaTensors)),
    ] {
        var stats = ODEStats()
        let samples = try Harness.time(repeats: s.repeats) {
            let r = try withoutGradient {
                try odeint(dynamics, [Variable(Tensor<Double>([1])), Variable(Tensor<Double>([1]))], times: [0, 10], options: ODEOptions(rtol: 1e-6, atol: 1e-6))
            }
            stats = r.stats
        }
        out.append(Harness.summarize("lotka_volterra odeint \(label) dopri5 tol 1e-06", samples, nfe: stats.nfe))
    }
    // A 64-wide random tanh MLP vector field on a batch of 256 two-dimensional states.
    var rng = RandomGenerator(seed: 3)
    let w1 = Variable(Tensor<Float>.randomNormal([64, 2], using: &rng) * 0.7)
    let w2 = Variable(Tensor<Float>.randomNormal([2, 64], using: &rng) * (1 / 8))
    let field = ClosureDynamics<Float> { _, y in [linear(tanh(linear(y[0], weight: w1, bias: nil)), weight: w2, bias: nil)] }
    let y0 = Tensor<Float>.randomNormal([256, 2], using: &rng)
    for tol in [1e-3, 1e-6] {
        var stats = ODEStats()
        let samples = try Harness.time(repeats: s.repeats) {
            let r = try withoutGradient { try odeint(field, [Variable(y0)], times: [0, 1], options: ODEOptions(rtol: tol, atol: tol)) }
            stats = r.stats
        }
        out.append(Harness.summarize("mlp64 batch 256 dopri5 tol \(tol)", samples, nfe: stats.nfe))
    }
    return out
}

// MARK: - cnf-toy: one FFJORD training iteration

/// FFJORD's toy setting: 8gaussians, hidden 64-64-64, batch 512, Hutchinson (Gaussian), dopri5
/// at 1e-5, adjoint, T = 0.5 learned, Adam 1e-3. Optionally writes the initial weights so that
/// the PyTorch peer starts from the same model.
func cnfToyCase(_ s: BenchSettings, weightsOut: String?) throws -> [Measurement] {
    var rng = RandomGenerator(seed: 7)
    let config = FFJORDConfiguration(dimension: 2, trace: "hutchinson-gaussian")
    let flow = try FFJORD<Float>(config, using: &rng)
    if let weightsOut {
        try Checkpoint.save(parameters: flow.namedParameters, metadata: ["configuration": try config.jsonString()],
                            to: URL(fileURLWithPath: weightsOut))
    }
    let adam = Adam(parameters: flow.parameters, learningRate: 1e-3, weightDecay: 0)
    var nfeF: [Int] = [], nfeB: [Int] = [], losses: [Double] = []
    let iterations = s.smoke ? 2 : 30
    var i = 0
    let samples = try Harness.time(repeats: iterations, warmup: 0) {
        i += 1
        var batchRNG = RandomGenerator(seed: UInt64(1000 + i))
        let x = Variable(ToyDataset.eightGaussians.sample(512, using: &batchRNG) as Tensor<Float>)
        let objective = try withGradient { try flow.trainingLoss(x, using: &batchRNG) }
        let grads = gradients(of: objective.loss, wrt: flow.parameters).map(\.value)
        adam.step(gradients: grads)
        nfeF.append(objective.nfeForward)
        nfeB.append(objective.nfeBackward)
        losses.append(objective.nll)
    }
    let meanF = nfeF.reduce(0, +) / nfeF.count, meanB = nfeB.reduce(0, +) / nfeB.count
    let bound = cnfToyBound(iteration: samples.sorted()[samples.count / 2], nfe: meanF, nfeBackward: meanB, smoke: s.smoke)
    return [Harness.summarize(
        "ffjord toy iteration (8gaussians, 512, hutchinson, dopri5 1e-5, adjoint)", samples, nfe: meanF,
        nfeBackward: meanB, extra: ["loss_first": losses.first ?? .nan, "loss_last": losses.last ?? .nan,
                                    "peak_rss_mib": Harness.peakRSS].merging(bound) { a, _ in a })]
}

// MARK: - memory: adjoint vs backprop as steps grow

func memoryCase(_ s: BenchSettings, gradient: String, steps: Int) throws -> [Measurement] {
    // Runs in a child process per configuration so that peak RSS is per configuration.
    var rng = RandomGenerator(seed: 5)
    let net = try toyNet(using: &rng)
    let dyn = ClosureDynamics<Float>(parameters: net.parameters) { t, y in [net(t, y[0])] }
    let y0 = Variable(Tensor<Float>.randomNormal([512, 2], using: &rng), requiresGradient: true)
    let options = ODEOptions(method: .rk4, stepSize: 1.0 / Double(steps))
    let before = Harness.peakRSS
    let samples = try Harness.time(repeats: 1, warmup: 0) {
        try withGradient {
            let r = try odeint(dyn, [y0], times: [0, 1], options: options, gradient: GradientMethod(name: gradient)!)
            _ = gradients(of: square(r.final[0]).sum(), wrt: net.parameters)
        }
    }
    return [Harness.summarize("\(gradient) rk4 \(steps) steps", samples,
                              extra: ["peak_rss_mib": Harness.peakRSS, "rss_before_mib": before])]
}

// MARK: - classify: ODE-Net / RK-Net / ResNet images per second

/// Training (forward + backward + Adam) and inference images/s of the three classifiers of the
/// Neural ODE paper's Table 1 at 64 channels, batch 128 of 28×28 images.
func classifyCase(_ s: BenchSettings) throws -> [Measurement] {
    let batch = s.smoke ? 4 : 128
    let channels = s.smoke ? 4 : 64
    var rng = RandomGenerator(seed: 17)
    let x = Tensor<Float>.randomUniform([batch, 1, 28, 28], low: 0, high: 1, using: &rng)
    let labels = (0..<batch).map { $0 % 10 }
    var out: [Measurement] = []
    // LAMINAR_BENCH_CLASSIFIERS=resnet (comma-separated) measures a subset, e.g. under perf.
    let chosen = ProcessInfo.processInfo.environment["LAMINAR_BENCH_CLASSIFIERS"]?.split(separator: ",").map(String.init)
    for architecture in [ClassifierArchitecture.odenet, .rknet, .resnet]
    where chosen?.contains(architecture.rawValue) ?? true {
        let config = ClassifierConfiguration(architecture: architecture, channels: channels, solve: SolveSettings(rtol: 1e-3, atol: 1e-3, gradient: .adjoint), rkSteps: 4)
        let net = try ImageClassifier<Float>(config, using: &rng)
        let adam = Adam(parameters: net.parameters, learningRate: 1e-3)
        var nfeF = 0, nfeB = 0
        let train = try Harness.time(repeats: s.smoke ? 1 : 4, warmup: s.smoke ? 0 : 1) {
            try withGradient {
                let o = try net.forward(Variable(x))
                let g = gradients(of: crossEntropy(o.logits, labels: labels), wrt: net.parameters).map(\.value)
                adam.step(gradients: g)
                (nfeF, nfeB) = (o.nfe, o.backward?.nfe ?? 0)
            }
        }
        var nfeInference = 0
        let infer = try Harness.time(repeats: s.smoke ? 1 : 4, warmup: s.smoke ? 0 : 1) {
            try withoutGradient { nfeInference = try net.forward(Variable(x)).nfe }
        }
        let params = Double(net.parameters.reduce(0) { $0 + $1.count })
        var t = Harness.summarize("\(architecture.rawValue) training step (batch \(batch), \(channels) channels)", train, nfe: nfeF, nfeBackward: nfeB)
        t.extra = ["images_per_second": Double(batch) / t.median, "parameters": params, "peak_rss_mib": Harness.peakRSS]
        var i = Harness.summarize("\(architecture.rawValue) inference (batch \(batch), \(channels) channels)", infer, nfe: nfeInference)
        i.extra = ["images_per_second": Double(batch) / i.median]
        out += [t, i]
    }
    return out
}

/// Image density models: one training step at batch 64 on 28×28 images (Fashion-MNIST when
/// installed, else uniform noise images), for the multiscale CNF (Hutchinson, dopri5 1e-3,
/// adjoint, RNODE 0.01/0.01, 32-32 channels), the MLP CNF (512-512) and Real NVP (32-32).
/// Batches are prepared before the timed steps; NFE are means over the timed steps, and
/// `seconds_per_evaluation` the median over steps of seconds ÷ (forward + backward NFE), which
/// `peers/density_compare.py` sets beside `peers/images_torch.py`'s.
func imagesCase(_ s: BenchSettings) throws -> [Measurement] {
    let side = s.smoke ? 8 : 28
    let batch = s.smoke ? 4 : 64
    let data: ImageDataset
    var source = "uniform noise"
    if !s.smoke, let splits = try? MNISTFormat.load(directory: MNISTFormat.fashionMNISTDirectory) {
        data = splits.train.subset(0..<1_000)
        source = "Fashion-MNIST"
    } else {
        var rng = RandomGenerator(seed: 3)
        let count = 256
        data = ImageDataset(
            images: (0..<(count * side * side)).map { _ in UInt8(rng.uniform() * 255) },
            labels: [UInt8](repeating: 0, count: count), count: count, height: side, width: side)
    }
    let images = BatchSource<Float>.images(data, ImagePreprocessing())
    let specs: [(String, ModelSpec)] = [
        ("multiscale CNF", .multiscaleCNF(MultiscaleCNFConfiguration(
            height: side, width: side, hidden: s.smoke ? [4] : [32, 32], solve: SolveSettings(rtol: 1e-3, atol: 1e-3), kineticWeight: 0.01,
            jacobianWeight: 0.01))),
        ("MLP CNF", .ffjord(FFJORDConfiguration(
            dimension: side * side, hidden: s.smoke ? [16] : [512, 512], activation: "softplus", timeLength: 1,
            trace: "hutchinson-rademacher", solve: SolveSettings(rtol: 1e-3, atol: 1e-3)))),
        ("Real NVP", .imageRealNVP(ImageRealNVPConfiguration(height: side, width: side, hidden: s.smoke ? [4] : [32, 32]))),
    ]
    let (repeats, warmup) = s.smoke ? (1, 0) : (3, 1)
    let batches = (1...(repeats + warmup)).map { images.batchWithLogDeterminant(iteration: $0, size: batch, seed: 1) }
    var out: [Measurement] = []
    // LAMINAR_BENCH_IMAGES="Real NVP" (comma-separated model names) measures a subset.
    let chosen = ProcessInfo.processInfo.environment["LAMINAR_BENCH_IMAGES"]?.split(separator: ",").map(String.init)
    for (name, spec) in specs where chosen?.contains(name) ?? true {
        var rng = RandomGenerator(seed: 1)
        let flow: AnyFlow<Float> = try spec.build(using: &rng)
        let adam = Adam(parameters: flow.parameters, learningRate: 1e-3)
        var steps: [(nfe: Int, nfeBackward: Int, bitsPerDimension: Double)] = []
        let times = try Harness.time(repeats: repeats, warmup: warmup) {
            let (x, logDeterminant) = batches[steps.count]
            try withGradient {
                let objective = try flow.trainingLoss(Variable(x), using: &rng)
                let g = gradients(of: objective.loss, wrt: flow.parameters).map(\.value)
                adam.step(gradients: g)
                steps.append((objective.nfeForward, objective.nfeBackward, ImagePreprocessing.bitsPerDimension(
                    logProbability: -objective.nll, logDeterminant: logDeterminant, dimension: side * side)))
            }
        }
        let timed = steps.suffix(repeats)
        let perEvaluation = zip(times, timed).map { $0 / Double(max(1, $1.nfe + $1.nfeBackward)) }.sorted()
        var m = Harness.summarize(
            "\(name) training step (batch \(batch), \(side)×\(side) \(source))", times,
            nfe: roundedMean(timed.map(\.nfe)), nfeBackward: roundedMean(timed.map(\.nfeBackward)))
        m.extra = ["parameters": Double(flow.parameterCount), "peak_rss_mib": Harness.peakRSS,
                   "bits_per_dim_initial": steps[0].bitsPerDimension, "bits_per_dim_last": steps[steps.count - 1].bitsPerDimension]
        if timed.contains(where: { $0.nfe > 0 }) { m.extra["seconds_per_evaluation"] = perEvaluation[perEvaluation.count / 2] }
        out.append(m)
    }
    return out
}

/// The mean of `values`, rounded to the nearest integer (0 when empty).
private func roundedMean(_ values: [Int]) -> Int {
    values.isEmpty ? 0 : Int((Double(values.reduce(0, +)) / Double(values.count)).rounded())
}
