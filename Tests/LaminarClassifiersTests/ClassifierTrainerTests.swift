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
            model: net, options: ClassifierTrainingOptions(epochs: epochs, batchSize: 6, learningRate: 3e-3, seed: 9, checkpointEvery: 2),
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
        #expect { try ClassifierTrainingOptions(batchSize: 0).validate() } throws: { "\($0)".contains("--batch") }
        #expect { try ClassifierTrainingOptions(timeBudget: -1).validate() } throws: { "\($0)".contains("--time-budget") }
    }
}
