/// Shape bookkeeping of a 2-D convolution (square stride and zero padding).
public struct ConvGeometry: Sendable, Equatable {
    public var channels, height, width: Int
    public var kernelHeight, kernelWidth: Int
    public var stride, padding: Int

    public init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the column matrix: C·kh·kw.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the column matrix: Ho·Wo.
    public var outputPixels: Int { outputHeight * outputWidth }
}

func applyIm2col<S: TensorScalar>(_ image: UnsafePointer<S>, _ columns: UnsafeMutablePointer<S>, _ g: ConvGeometry) {
    let ho = g.outputHeight, wo = g.outputWidth
    var row = 0
    for c in 0..<g.channels {
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let out = columns + row * ho * wo
                for oy in 0..<ho {
                    let y = oy * g.stride + ki - g.padding
                    if y < 0 || y >= g.height {
                        for ox in 0..<wo { out[oy * wo + ox] = 0 }
                        continue
                    }
                    let src = image + (c * g.height + y) * g.width
                    for ox in 0..<wo {
                        let x = ox * g.stride + kj - g.padding
                        out[oy * wo + ox] = (x >= 0 && x < g.width) ? src[x] : 0
                    }
                }
                row += 1
            }
        }
    }
}

func applyCol2im<S: TensorScalar>(_ columns: UnsafePointer<S>, _ image: UnsafeMutablePointer<S>, _ g: ConvGeometry) {
    let ho = g.outputHeight, wo = g.outputWidth
    var row = 0
    for c in 0..<g.channels {
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let col = columns + row * ho * wo
                for oy in 0..<ho {
                    let y = oy * g.stride + ki - g.padding
                    if y < 0 || y >= g.height { continue }
                    let dst = image + (c * g.height + y) * g.width
                    for ox in 0..<wo {
                        let x = ox * g.stride + kj - g.padding
                        if x >= 0 && x < g.width { dst[x] += col[oy * wo + ox] }
                    }
                }
                row += 1
            }
        }
    }
}
