import Foundation
import LaminarAutodiff

/// Sample quality of an image model as numbers: the Fréchet distance between the model's
/// samples and reference images in the feature space of a trained classifier (its
/// penultimate layer), and the classifier's label histogram of the samples (mode coverage).
public struct SampleQuality: Codable, Sendable {
    /// d² of ``FrechetDistance`` between sample and reference features.
    public var frechetDistance: Double
    /// Fraction of the samples the classifier assigns to each class.
    public var labelHistogram: [Double]
    /// Classes that received at least 1 % of the samples.
    public var coveredClasses: Int
    /// Number of sample images scored.
    public var samples: Int
    /// Number of reference images the sample features are compared with.
    public var referenceImages: Int

    /// Scores `samples` against `reference`, both images `[n, C·H·W]` of intensities in [0, 1]
    /// of shape `(height, width)`, in batches of `batchSize`.
    public static func score(
        samples: Tensor<Float>, reference: Tensor<Float>, height: Int, width: Int,
        classifier: ImageClassifier<Float>, batchSize: Int = 500
    ) throws -> SampleQuality {
        let channels = classifier.configuration.inputChannels
        guard samples.rank == 2, reference.rank == 2, samples.shape[1] == channels * height * width,
              reference.shape[1] == samples.shape[1] else {
            throw ClassifierError.shapeMismatch(expected: "rows of \(channels)×\(height)×\(width) pixels", found: samples.shape)
        }
        guard samples.shape[0] >= 2, reference.shape[0] >= 2 else {
            throw ClassifierError.invalidConfiguration("the Fréchet distance needs at least 2 samples and 2 reference images")
        }
        func features(_ images: Tensor<Float>) throws -> (Tensor<Float>, [Int]) {
            var parts: [Tensor<Float>] = []
            var labels: [Int] = []
            var start = 0
            let n = images.shape[0]
            while start < n {
                let m = Swift.min(batchSize, n - start)
                let batch = images.slice(axis: 0, start..<(start + m)).reshaped([m, channels, height, width])
                let f = try classifier.penultimateFeatures(batch)
                parts.append(f)
                let logits = withoutGradient { classifier.head(Variable(f)).value }
                let k = logits.shape[1]
                let values = logits.scalars
                for i in 0..<m {
                    let row = values[(i * k)..<(i * k + k)]
                    labels.append(row.indices.max { row[$0] < row[$1] }! - i * k)
                }
                start += m
            }
            return (Tensor.concatenate(parts, axis: 0), labels)
        }
        let (sampleFeatures, labels) = try features(samples)
        let (referenceFeatures, _) = try features(reference)
        var histogram = [Double](repeating: 0, count: classifier.configuration.classes)
        for l in labels { histogram[l] += 1 / Double(labels.count) }
        return SampleQuality(
            frechetDistance: FrechetDistance.distance(sampleFeatures, referenceFeatures), labelHistogram: histogram,
            coveredClasses: histogram.filter { $0 >= 0.01 }.count, samples: samples.shape[0],
            referenceImages: reference.shape[0])
    }
}
