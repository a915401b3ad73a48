import Foundation
import Testing
import LaminarODE
import LaminarLatentODE

/// A latent configuration is one flat JSON object in a checkpoint: the `sde…` keys appear only
/// for a latent SDE (`sdeStep` only when set), and what is written reads back equal.
@Suite struct LatentConfigurationCodingTests {
    func encodedKeys(_ value: LatentConfiguration) throws -> (keys: Set<String>, roundTrip: LatentConfiguration) {
        let data = try JSONEncoder().encode(value)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (Set(object.keys), try JSONDecoder().decode(LatentConfiguration.self, from: data))
    }

    @Test func sdeKeysOnlyForTheLatentSDE() throws {
        let own: Set<String> = [
            "kind", "features", "latent", "hidden", "rnnHidden", "observationStd", "poisson", "method", "rtol", "atol", "gradient",
        ]
        let ode = LatentConfiguration(kind: .latentODE, poisson: true)
        let (odeKeys, odeBack) = try encodedKeys(ode)
        #expect(odeKeys == own)
        #expect(odeBack == ode)
        let sde = LatentConfiguration(kind: .latentSDE, sdeScheme: "heun", sdeStep: 0.05, sdeGradient: "adjoint")
        let (sdeKeys, sdeBack) = try encodedKeys(sde)
        #expect(sdeKeys == own.union(["sdeScheme", "sdeStep", "sdeGradient"]))
        #expect(sdeBack == sde)
        let (noStepKeys, _) = try encodedKeys(LatentConfiguration(kind: .latentSDE))
        #expect(noStepKeys == own.union(["sdeScheme", "sdeGradient"]))
    }
}
