/// Elementwise nonlinearities, selectable by name on the command line.
public enum Activation: String, CaseIterable, Sendable, Codable {
    case tanh, softplus, elu, swish, relu, sigmoid, identity

    /// Parses a name (`tanh`, `softplus`, `elu`, `swish`, `relu`, `sigmoid`, `identity`).
    public init?(name: String) { self.init(rawValue: name.lowercased()) }

    /// All accepted names.
    public static var allNames: [String] { allCases.map(\.rawValue) }

    /// Applies the nonlinearity elementwise (differentiable, also twice: see the functions of
    /// `LaminarAutodiff` each case calls).
    public func callAsFunction<S>(_ x: Variable<S>) -> Variable<S> {
        switch self {
        case .tanh: return LaminarAutodiff.tanh(x)
        case .softplus: return LaminarAutodiff.softplus(x)
        case .elu: return LaminarAutodiff.elu(x)
        case .swish: return LaminarAutodiff.swish(x)
        case .relu: return LaminarAutodiff.relu(x)
        case .sigmoid: return LaminarAutodiff.sigmoid(x)
        case .identity: return x
        }
    }
}

/// A malformed hidden-dimension string.
public struct HiddenDimsError: Error, CustomStringConvertible, Equatable {
    /// The text that failed to parse.
    public let input: String
    /// What was wrong, with an example of a valid list.
    public var description: String {
        "'\(input)' is not a list of positive widths separated by '-', e.g. 64-64-64"
    }
}

/// Parses hidden widths written like `64-64-64`.
public func parseHiddenDims(_ text: String) throws -> [Int] {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    var widths: [Int] = []
    for p in parts {
        guard let w = Int(p), w > 0, w <= 1 << 16 else {
            throw HiddenDimsError(input: text)
        }
        widths.append(w)
    }
    guard !widths.isEmpty else { throw HiddenDimsError(input: text) }
    return widths
}
