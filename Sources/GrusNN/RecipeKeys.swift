import GrusCore

extension GRUConfig {
    /// The recipe keys of the recurrent encoder (model.encoder.*), declared here once.
    public static let recipeKeys: [String: Field] = [
        "cell": Field.choice(RecurrentCellKind.gru, "the recurrent cell: gru, or lstm (PyTorch nn.LSTM's weights and gates) for comparison"),
        "hidden": Field.int(128, min: 1, max: 4096, "GRU units per direction"),
        "layers": Field.int(2, min: 1, max: 16, "stacked GRU layers"),
        "bidirectional": Field.bool(true, "a reverse direction beside the forward one"),
        "dropout": Field.number(0, min: 0, max: 0.95, "between GRU layers, training only"),
        "form": Field.choice(GRUForm.pytorch, "pytorch: reset gate after the recurrent product (Keras reset_after=True); cho2014: before it"),
        "recurrent_init": Field.choice(GRUConfig.RecurrentInit.uniform, "recurrent weights: uniform ±1/√H (PyTorch) or orthogonal"),
    ]
}
