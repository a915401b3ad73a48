/// Structure-unaware byte mutations in the style of libFuzzer's default mutators: bit flips,
/// random and "interesting" bytes, insertions, deletions, truncation, duplication of chunks,
/// splicing with another seed and ASCII-digit edits (for text formats and JSON headers).
public struct Mutator {
    private var state: UInt64

    /// A mutator whose SplitMix64 stream is fixed by `seed`: the same seed gives the same
    /// mutations, so a fuzz run can be replayed.
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    static let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x08, 0x0D, 0x2C, 0x2D, 0x2E, 0x30, 0x39, 0x65, 0x7B, 0x7D, 0x22]

    /// One to four mutations of `input`; `others` supplies material for splicing.
    public mutating func mutate(_ input: [UInt8], others: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            switch below(10) {
            case 0 where !bytes.isEmpty:
                let i = below(bytes.count)
                bytes[i] ^= UInt8(1) << UInt8(below(8))
            case 1 where !bytes.isEmpty:
                bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: next())
            case 2 where !bytes.isEmpty:
                bytes[below(bytes.count)] = Self.interesting[below(Self.interesting.count)]
            case 3:
                bytes.insert(UInt8(truncatingIfNeeded: next()), at: below(bytes.count + 1))
            case 4 where !bytes.isEmpty:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<Swift.min(bytes.count, start + 1 + below(16)))
            case 5:
                bytes = Array(bytes.prefix(below(bytes.count + 1)))
            case 6 where !bytes.isEmpty:
                let start = below(bytes.count)
                let chunk = bytes[start..<Swift.min(bytes.count, start + 1 + below(32))]
                bytes.insert(contentsOf: chunk, at: below(bytes.count + 1))
            case 7 where !others.isEmpty:
                let other = others[below(others.count)]
                let cut = below(bytes.count + 1)
                bytes = Array(bytes.prefix(cut)) + Array(other.suffix(Swift.max(0, other.count - below(other.count + 1))))
            case 8 where !bytes.isEmpty:
                // Overwrite a little-endian or big-endian length-like field with an extreme value.
                let i = below(bytes.count)
                let value: [UInt8] = [[0xFF, 0xFF, 0xFF, 0x7F], [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 1, 0]][below(4)]
                for (k, v) in value.enumerated() where i + k < bytes.count { bytes[i + k] = v }
            default:
                let digits = bytes.indices.filter { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
                if !digits.isEmpty { bytes[digits[below(digits.count)]] = [0x30, 0x39, 0x2D, 0x2E, 0x65, 0x6E][below(6)] }
            }
        }
        return bytes
    }
}

/// Runs `target` on `iterations` mutated inputs derived from its seeds (deterministic for a
/// given `seed`); inputs that are accepted join the corpus. Returns the executions and how
/// many inputs were accepted and rejected.
public func fuzz(_ target: FuzzTarget, iterations: Int, seed: UInt64 = 0) -> (executions: Int, accepted: Int, rejected: Int) {
    var corpus = target.seeds
    let seedCount = corpus.count
    var mutator = Mutator(seed: seed)
    var accepted = 0, rejected = 0
    for s in corpus {
        if target.run(s) == .accepted { accepted += 1 } else { rejected += 1 }
    }
    for i in 0..<iterations {
        let input = mutator.mutate(corpus[i % corpus.count], others: corpus)
        switch target.run(input) {
        case .accepted:
            accepted += 1
            if corpus.count < 64 { corpus.append(input) }
        case .rejected:
            rejected += 1
        }
    }
    return (iterations + seedCount, accepted, rejected)
}
