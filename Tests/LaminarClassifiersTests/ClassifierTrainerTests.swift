import Foundation
import Testing
@testable import LaminarClassifiers
import LaminarData

/// The classifier's training task on the shared loop: an interrupted and resumed run equals the
/// uninterrupted one bit for bit, and the options name their flags.
@Suite struct ClassifierTrainerTests {
    /// 24 tiny 8×8 images in two classes (bright top or bright bottom half).
    static let data: ImageDataset = {
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<24 {
            labels.append(UInt8(i % 2))
            for r in 0..<8 { for c in 0..<8 { pixels.append((r < 4) == (i % 2 == 0) ? UInt8(180 + c) : UInt8(10 + i % 5)) } }
        }
        return ImageDataset(images: pixels, labels: labels, count: 24, height: 8, width: 8)
    }()

    func trainer(_ directory: URL, epochs: Double) throws -> ClassifierTrainer {
        var rng = RandomGenerator(seed: 4)
        let net = try ImageClassifier<Float>(ClassifierConfiguration(architecture: .resnet, channels: 4, groups: 2), using: &rng)
        return try ClassifierTrainer(
            model: net, options: ClassifierTrainingOptions(epochs: epochs, loop: LoopSettings(batchSize: 6, learningRate: 3e-3, seed: 9, checkpointEvery: 2)),
            data: Self.data, directory: directory, metadata: ["model": "classifier", "configuration": "{}", "data": "tiny"])
    }

    func directory() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("classifier-\(UUID().uuidString)") }

    @Test func resumedRunEqualsTheUninterruptedOneBitForBit() throws {
        let whole = try trainer(directory(), epochs: 2)  // 4 batches per epoch: 8 iterations
        try whole.train()
        #expect(whole.iteration == 8)

        let dir = directory()
        let first = try trainer(dir, epochs: 2)
        try first.start(resume: false)
        #expect(throws: TrainingError.interrupted(iteration: 3)) { try first.train(shouldStop: { first.iteration == 3 }) }
        let second = try trainer(dir, epochs: 2)
        try second.start(resume: true)
        #expect(second.iteration == 3)
        try second.train()
        for (a, b) in zip(whole.model.parameters, second.model.parameters) { #expect(a.value == b.value) }
        let records = try ClassifierRecord.read(from: second.metricsURL)
        #expect(records.map(\.iteration) == Array(1...8) && records.last!.epoch == 2)
    }

    @Test func optionsNameTheirFlags() {
        #expect { try ClassifierTrainingOptions(epochs: 0).validate() } throws: { "\($0)".contains("--epochs") }
        #expect { try ClassifierTrainingOptions(loop: LoopSettings(batchSize: 0)).validate() } throws: { "\($0)".contains("--batch") }
        for (setting, flag) in [
            (LoopSettings(batchSize: 8, timeBudget: -1), "--time-budget"), (LoopSettings(batchSize: 8, gradientClip: 0), "--clip"),
            (LoopSettings(batchSize: 8, warmup: -1), "--warmup"), (LoopSettings(batchSize: 8, maxNFE: 0), "--max-nfe"),
        ] {
            #expect { try ClassifierTrainingOptions(loop: setting).validate() } throws: { "\($0)".contains(flag) }
        }
    }

    /// Warm-up, clipping, NFE budget and divergence policy reach the loop (and so the checkpoint).
    @Test func loopSettingsReachTheLoop() {
        var options = ClassifierTrainingOptions(epochs: 2, loop: LoopSettings(batchSize: 6, seed: 9))
        (options.warmup, options.gradientClip, options.maxNFE, options.onDivergence) = (5, 1.5, 300, .restoreAndHalveLR)
        let loop = options.trainingOptions(trainingImages: 24)
        #expect(loop.iterations == 8 && loop.batchSize == 6 && loop.seed == 9 && loop.weightDecay == 0)
        #expect(loop.warmup == 5 && loop.gradientClip == 1.5 && loop.maxNFE == 300 && loop.onDivergence == .restoreAndHalveLR)
        #expect(loop.loop == options.loop)
    }

    /// The options are one flat JSON object: what the options wrote before the loop settings
    /// were shared reads back with the new settings at their defaults, and the new keys appear
    /// only when set.
    @Test func optionsKeepTheirFlatFormat() throws {
        let old = #"{"batchSize":128,"checkpointEvery":100,"epochs":1,"learningRate":0.001,"seed":0}"#
        let decoded = try JSONDecoder().decode(ClassifierTrainingOptions.self, from: Data(old.utf8))
        #expect(decoded == ClassifierTrainingOptions())
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(ClassifierTrainingOptions()), as: UTF8.self)
            == #"{"batchSize":128,"checkpointEvery":100,"epochs":1,"learningRate":0.001,"onDivergence":"stop","seed":0,"warmup":0}"#)
        var clipped = ClassifierTrainingOptions(epochs: 0.5)
        (clipped.gradientClip, clipped.maxNFE, clipped.timeBudget) = (2, 50, 60)
        #expect(try JSONDecoder().decode(ClassifierTrainingOptions.self, from: encoder.encode(clipped)) == clipped)
    }
}
