import Foundation

/// Parameters, optimizer state and metadata of a model in one safetensors file.
public struct Checkpoint<Scalar: TensorScalar> {
    /// All tensors by name.
    public var tensors: [String: Tensor<Scalar>]
    /// String metadata (model configuration JSON, iteration, seed, …).
    public var metadata: [String: String]

    /// Writes parameters (under their names) and optimizer state atomically.
    public static func save(
        parameters: [(String, Variable<Scalar>)], optimizerState: [(String, Tensor<Scalar>)] = [],
        metadata: [String: String], to url: URL
    ) throws {
        try SafetensorsFile.write(parameters.map { ($0.0, $0.1.value) } + optimizerState, metadata: metadata, to: url)
    }

    /// Reads a checkpoint, converting every tensor to `Scalar`.
    public static func load(from url: URL) throws -> Checkpoint {
        try Checkpoint(file: try SafetensorsFile.read(from: url))
    }

    /// A checkpoint from a parsed safetensors file, converting every tensor to `Scalar`.
    public init(file: SafetensorsFile) throws {
        var tensors: [String: Tensor<Scalar>] = [:]
        for name in file.order { tensors[name] = try file.tensor(name, as: Scalar.self) }
        self.init(tensors: tensors, metadata: file.metadata)
    }

    /// A checkpoint from tensors and metadata in memory.
    public init(tensors: [String: Tensor<Scalar>], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Assigns the stored values to `parameters`, checking names and shapes. Tensors under
    /// `optimizer.` are ignored; any other unknown tensor is an error.
    public func restore(parameters: [(String, Variable<Scalar>)]) throws {
        let known = Set(parameters.map(\.0))
        for name in tensors.keys.sorted() where !name.hasPrefix("optimizer.") && !known.contains(name) {
            throw CheckpointError.unexpectedTensor(name)
        }
        for (name, variable) in parameters {
            guard let t = tensors[name] else { throw CheckpointError.missingTensor(name) }
            guard t.shape == variable.shape else {
                throw CheckpointError.shapeMismatch(name: name, expected: variable.shape, found: t.shape)
            }
        }
        for (name, variable) in parameters { variable.assign(tensors[name]!) }
    }

    /// Tensors whose names start with `prefix`, with the prefix removed.
    public func optimizerState(prefix: String) -> [String: Tensor<Scalar>] {
        var out: [String: Tensor<Scalar>] = [:]
        for (name, t) in tensors where name.hasPrefix(prefix) { out[String(name.dropFirst(prefix.count))] = t }
        return out
    }
}
