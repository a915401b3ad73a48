import Foundation
import Testing
@testable import LaminarClassifiers
import LaminarData
import LaminarNN

/// The Fréchet distance against closed forms, and on real images: the test split against the
/// training split is close, noise is far.
@Suite struct FrechetDistanceTests {
    func randomSymmetric(_ n: Int, _ rng: inout RandomGenerator, psd: Bool) -> [Double] {
        let b = (0..<(n * n)).map { _ in rng.normal() }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                a[i * n + j] = psd ? (0..<n).reduce(0) { $0 + b[i * n + $1] * b[j * n + $1] } : b[i * n + j] + b[j * n + i]
            }
        }
        return a
    }

    /// V Λ Vᵀ reproduces the matrix and V is orthonormal (to 1e-12 relative to the entries).
    @Test func eigendecompositionReconstructsTheMatrix() {
        var rng = RandomGenerator(seed: 1)
        for n in [1, 2, 5, 12] {
            let a = randomSymmetric(n, &rng, psd: false)
            let (values, vectors) = SymmetricEigen.decompose(a, n: n)
            for i in 0..<n {
                for j in 0..<n {
                    let r = (0..<n).reduce(0) { $0 + values[$1] * vectors[$1][i] * vectors[$1][j] }
                    #expect(Swift.abs(r - a[i * n + j]) < 1e-12 * 10, "n \(n)")
                    let dot = (0..<n).reduce(0) { $0 + vectors[i][$1] * vectors[j][$1] }
                    #expect(Swift.abs(dot - (i == j ? 1 : 0)) < 1e-12)
                }
            }
        }
    }

    @Test func closedForms() {
        var rng = RandomGenerator(seed: 2)
        let s = randomSymmetric(4, &rng, psd: true)
        let m = [0.5, -1, 2, 0]
        // Identical Gaussians: 0.
        #expect(FrechetDistance.distance(mean1: m, covariance1: s, mean2: m, covariance2: s) < 1e-9)
        // Equal covariances: the squared distance of the means.
        let m2 = [1.5, -1, 2, 2]
        #expect(Swift.abs(FrechetDistance.distance(mean1: m, covariance1: s, mean2: m2, covariance2: s) - 5) < 1e-9)
        // Diagonal covariances: Σ (√a − √b)².
        let a = [1.0, 4, 9], b = [4.0, 4, 1]
        func diag(_ d: [Double]) -> [Double] { (0..<9).map { $0 % 4 == 0 ? d[$0 / 4] : 0 } }
        #expect(Swift.abs(FrechetDistance.distance(mean1: [0, 0, 0], covariance1: diag(a), mean2: [0, 0, 0], covariance2: diag(b)) - 5) < 1e-9)
        // 2 × 2, not commuting: tr √M = √(tr M + 2√det M) for M = Σ₁^{½} Σ₂ Σ₁^{½}, det M = det Σ₁ det Σ₂,
        // tr M = tr(Σ₁ Σ₂).
        let c1 = [2.0, 0.7, 0.7, 1], c2 = [1.0, -0.4, -0.4, 3]
        let trM = c1[0] * c2[0] + c1[1] * c2[2] + c1[2] * c2[1] + c1[3] * c2[3]
        let detM = (c1[0] * c1[3] - c1[1] * c1[2]) * (c2[0] * c2[3] - c2[1] * c2[2])
        let expected = 3 + 4 - 2 * (trM + 2 * detM.squareRoot()).squareRoot()
        #expect(Swift.abs(FrechetDistance.distance(mean1: [0, 0], covariance1: c1, mean2: [0, 0], covariance2: c2) - expected) < 1e-9)
    }

    @Test func momentsOfFeatures() {
        let x = Tensor<Double>(shape: [4, 2], scalars: [1, 0, 3, 0, 1, 2, 3, 2])
        let (mean, cov) = FrechetDistance.moments(x)
        #expect(mean == [2, 1])
        // Unbiased: Σ (x − μ)² / (n − 1) = 4/3 on both axes, no correlation.
        #expect(Swift.abs(cov[0] - 4.0 / 3) < 1e-12 && Swift.abs(cov[3] - 4.0 / 3) < 1e-12 && Swift.abs(cov[1]) < 1e-12)
    }

    /// Real data: a ResNet classifier trained briefly on Fashion-MNIST; 1,000 test images
    /// against 1,000 training images give a distance far below that of uniform noise (the
    /// margin is a factor 10; measured values are printed).
    @Test func testSplitIsCloseToTrainingSplitAndNoiseIsFar() throws {
        guard FileManager.default.fileExists(atPath: MNISTFormat.fashionMNISTDirectory) else {
            print("skipped: Fashion-MNIST is not installed at \(MNISTFormat.fashionMNISTDirectory) (apt-get install dataset-fashion-mnist)")
            return
        }
        let splits = try MNISTFormat.load(directory: MNISTFormat.fashionMNISTDirectory)
        var rng = RandomGenerator(seed: 3)
        let net = try ImageClassifier<Float>(ClassifierConfiguration(architecture: .resnet, channels: 16, groups: 4), using: &rng)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fd-\(UUID().uuidString)")
        let trainer = try ClassifierTrainer(
            model: net, options: ClassifierTrainingOptions(epochs: 0.2, loop: LoopSettings(batchSize: 64, learningRate: 3e-3, checkpointEvery: 100_000)),
            data: splits.train.subset(0..<6_400), directory: dir, metadata: ["model": "classifier"])
        try trainer.train()
        func pixels(_ set: ImageDataset, _ n: Int) -> Tensor<Float> {
            let (x, _): (Tensor<Float>, [Int]) = imageBatch(set, indices: Array(0..<n))
            return x.reshaped([n, set.pixelsPerImage])
        }
        let test = pixels(splits.test, 1_000), train = pixels(splits.train.subset(10_000..<11_000), 1_000)
        let noise = Tensor<Float>.randomUniform([1_000, 784], using: &rng)
        let close = try SampleQuality.score(samples: test, reference: train, height: 28, width: 28, classifier: net)
        let far = try SampleQuality.score(samples: noise, reference: train, height: 28, width: 28, classifier: net)
        print("Fréchet distance test/train \(close.frechetDistance), noise/train \(far.frechetDistance)")
        #expect(close.frechetDistance * 10 < far.frechetDistance)
        // Both splits are class-balanced, so the classifier's label histograms agree (total
        // variation well below the 1/√1000 ≈ 0.03 noise per class summed over classes).
        let reference = try SampleQuality.score(samples: train, reference: test, height: 28, width: 28, classifier: net)
        let variation = zip(close.labelHistogram, reference.labelHistogram).reduce(0) { $0 + Swift.abs($1.0 - $1.1) } / 2
        #expect(variation < 0.1, "\(close.labelHistogram) vs \(reference.labelHistogram)")
    }
}
