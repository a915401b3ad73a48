import Testing
import LaminarFlows
import LaminarODE

/// Image models refuse shapes that their squeezes (one per scale) or U-Net levels (one per
/// resolution) cannot halve, naming the scale or resolution where the odd side appears.
@Suite struct ImageConfigurationValidationTests {
    func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test func oddSidesAreNamedByScaleOrResolution() throws {
        // 12×12 → 6×6 → 3×3: the third scale's squeeze (the second halving) would need 3×3 halved.
        let multiscale = message { try MultiscaleCNFConfiguration(height: 12, width: 12, scales: 4).validate() }
        #expect(multiscale?.contains("scale 3: 3×3 cannot be squeezed") == true, "\(multiscale ?? "no error")")
        #expect(message { try MultiscaleCNFConfiguration(height: 12, width: 12, scales: 3).validate() } == nil)
        let realNVP = message { try ImageRealNVPConfiguration(height: 6, width: 4, scales: 3).validate() }
        #expect(realNVP?.contains("scale 2: 3×2 cannot be squeezed") == true, "\(realNVP ?? "no error")")
        #expect(message { try ImageRealNVPConfiguration(height: 6, width: 4, scales: 2).validate() } == nil)
        let unet = message { try UNetCNFConfiguration(height: 10, width: 10, hidden: [8, 8, 8], groups: 4).validate() }
        #expect(unet?.contains("5×5 cannot be halved for resolution 3") == true, "\(unet ?? "no error")")
        #expect(message { try UNetCNFConfiguration(height: 10, width: 10, hidden: [8, 8], groups: 4).validate() } == nil)
        var rng = RandomGenerator(seed: 0)
        let field = message {
            _ = try UNetVectorField<Float>(imageChannels: 1, height: 7, width: 8, channels: [4, 4], groups: 2, using: &rng)
        }
        #expect(field?.contains("7×8 cannot be halved for resolution 2") == true, "\(field ?? "no error")")
    }
}
