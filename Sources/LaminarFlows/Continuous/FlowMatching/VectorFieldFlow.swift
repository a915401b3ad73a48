import LaminarAutodiff

/// A flow that is one CNF block — one vector field integrated over `[0, T]`, data at t = 0 and
/// the base N(0, I) at t = T — and so can be trained by flow matching.
///
/// Stacked blocks and the multiscale CNF's squeeze / factor-out stages are not one field on
/// one time interval; such models throw ``FlowError/invalidConfiguration(_:)`` naming the
/// setting to change. So does a learned T: the regression does not determine T, and the
/// optimizer's weight decay would shrink it.
public protocol VectorFieldFlow<Scalar>: Flow {
    /// The vector field and the integration length T of the single block.
    func singleVectorField() throws -> (field: any CNFVectorField<Scalar>, endTime: Double)
}

extension FFJORD: VectorFieldFlow {
    /// The field and T of the model's only block; throws when it has several (`--blocks 1`) or
    /// learns T (`--no-train-time`).
    public func singleVectorField() throws -> (field: any CNFVectorField<Scalar>, endTime: Double) {
        guard blocks.count == 1 else {
            throw FlowError.invalidConfiguration(
                "flow matching trains one CNF block, this FFJORD model has \(blocks.count); use --blocks 1")
        }
        return try singleBlockField(blocks[0])
    }
}

extension MultiscaleCNF: VectorFieldFlow {
    /// The field and T of a one-scale, one-block model; throws for more blocks (`--scales 1
    /// --blocks 1`, or the U-Net model) or a learned T.
    public func singleVectorField() throws -> (field: any CNFVectorField<Scalar>, endTime: Double) {
        let blocks = allBlocks
        guard blocks.count == 1 else {
            throw FlowError.invalidConfiguration(
                "flow matching trains one CNF block; the multiscale CNF has \(blocks.count) (use --scales 1 --blocks 1, or --model unet)")
        }
        return try singleBlockField(blocks[0])
    }
}

/// The field and T of a block trained by flow matching.
func singleBlockField<S>(_ block: CNFBlock<S>) throws -> (field: any CNFVectorField<S>, endTime: Double) {
    guard !block.trainTime else {
        throw FlowError.invalidConfiguration("flow matching holds T fixed; build the model with a fixed T (--no-train-time)")
    }
    return (block.field, block.endTime)
}
