extension Variable {
    /// Same elements, new shape (one extent may be −1).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let inputShape = shape
        let v = value.reshaped(newShape)
        if v.shape == inputShape { return self }
        return Variable.record("reshape", v, [self]) { g, _, _ in [g.reshaped(inputShape)] }
    }

    /// Axes permuted (`result.shape[i] == shape[permutation[i]]`).
    public func transposed(_ permutation: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Variable.record("transpose", value.transposed(permutation), [self]) { g, _, _ in
            [g.transposed(inverse)]
        }
    }

    /// Matrix transpose.
    public func transposed() -> Variable { transposed([1, 0]) }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let inputShape = shape
        let ax = normalizeAxis(axis, rank: rank)
        return Variable.record("slice", value.slice(axis: ax, range), [self]) { g, _, _ in
            [g.placed(into: inputShape, axis: ax, at: range.lowerBound)]
        }
    }

    /// Zeros of `fullShape` with this variable at `start` along `axis`.
    public func placed(into fullShape: [Int], axis: Int, at start: Int) -> Variable {
        let ax = normalizeAxis(axis, rank: rank)
        let extent = shape[ax]
        return Variable.record("place", value.placed(into: fullShape, axis: ax, at: start), [self]) { g, _, _ in
            [g.slice(axis: ax, start..<(start + extent))]
        }
    }

    /// Concatenation along `axis`.
    public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenate: no variables")
        let ax = normalizeAxis(axis, rank: parts[0].rank)
        var offsets: [Int] = []
        var start = 0
        for p in parts {
            offsets.append(start)
            start += p.shape[ax]
        }
        let value = Tensor.concatenate(parts.map(\.value), axis: ax)
        return record("concatenate", value, parts) { g, _, needs in
            parts.indices.map { i in
                needs[i] ? g.slice(axis: ax, offsets[i]..<(offsets[i] + parts[i].shape[ax])) : nil
            }
        }
    }

    /// Inserts an axis of extent 1.
    public func unsqueezed(at axis: Int) -> Variable {
        reshaped(value.unsqueezed(at: axis).shape)
    }

    /// Removes axes of extent 1 (or only `axis`).
    public func squeezed(at axis: Int? = nil) -> Variable {
        reshaped(value.squeezed(at: axis).shape)
    }
}
