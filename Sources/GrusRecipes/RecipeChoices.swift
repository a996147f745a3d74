// The recipe's choices that belong to no module below it. Choices that belong to a module are
// that module's own enums (GRUForm, Pooling.Kind, FeatureKind, CMVNMode, OptimizerKind, ...);
// the schema lists the cases of each, so a recipe, `grus check` and `grus recipe-keys` always
// offer exactly what the code handles.

/// Additive noise for augmentation.
public enum NoiseKind: String, Codable, Sendable, CaseIterable { case none, white, pink, folder }
