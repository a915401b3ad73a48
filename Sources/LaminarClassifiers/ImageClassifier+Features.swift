import LaminarAutodiff

extension ImageClassifier {
    /// The penultimate layer ([n, channels]): the globally pooled `ReLU(GN(features))` that the
    /// linear head maps to logits. What ``SampleQuality`` compares images in.
    /// - Parameter x: images `[n, C, H, W]` with pixel intensities in [0, 1].
    public func penultimateFeatures(_ x: Tensor<Scalar>) throws -> Tensor<Scalar> {
        guard x.rank == 4, x.shape[1] == configuration.inputChannels, x.shape[2] >= 8, x.shape[3] >= 8 else {
            throw ClassifierError.shapeMismatch(
                expected: "[n, \(configuration.inputChannels), H, W] with H, W ≥ 8", found: x.shape)
        }
        return try withoutGradient {
            let (h, _, _) = try featureBlock(stem(Variable(x)), options: nil)
            return headNorm(h, then: .relu).mean(axes: [2, 3]).value
        }
    }
}
