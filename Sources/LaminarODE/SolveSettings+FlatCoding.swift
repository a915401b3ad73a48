extension SolveSettings {
    /// Encodes a model configuration that stores these settings as flat keys of its own JSON
    /// object (the checkpoint format of every model): each stored property of `configuration`
    /// that `Keys` names, except those in `omitting` and nil optionals, then the settings.
    ///
    /// Properties are found by reflection, so adding a stored property and its coding key is
    /// all a configuration needs; `configuration`'s own `encode(to:)` is one call to this.
    public func encode<Keys: CodingKey>(
        flatWith configuration: Any, keyedBy keys: Keys.Type, omitting: Set<String> = [], to encoder: any Encoder
    ) throws {
        var container = encoder.container(keyedBy: keys)
        for child in Mirror(reflecting: configuration).children {
            guard let label = child.label, !omitting.contains(label), let key = Keys(stringValue: label) else { continue }
            var value = child.value
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                guard let wrapped = mirror.children.first?.value else { continue }
                value = wrapped
            }
            guard let encodable = value as? any Encodable else {
                throw EncodingError.invalidValue(
                    value, EncodingError.Context(codingPath: encoder.codingPath + [key], debugDescription: "\(label) is not Encodable"))
            }
            try container.encode(encodable, forKey: key)
        }
        try encode(to: encoder)
    }
}
