import GrusCore
import GrusNN
import GrusTasks

extension TrainingOptions {
    /// The recipe's training section, declared here once (the loss keys by the tasks, `LossOptions`).
    public static let recipeKeys: [String: Field] = ownKeys.merging(LossOptions.recipeKeys) { a, _ in a }

    static let ownKeys: [String: Field] = [
        "epochs": Field.int(20, min: 1, max: 100_000, "passes over the training split (raised to reach min_steps, lowered to max_steps)"),
        "min_steps": Field.int(0, min: 0, max: 10_000_000, "the run takes at least this many optimiser steps: on a small corpus the epochs rise to reach it (0 = training.epochs as given)"),
        "max_steps": Field.int(0, min: 0, max: 10_000_000, "the run takes at most this many optimiser steps: on a large corpus the epochs fall to it (0 = no ceiling)"),
        "batch_size": Field.int(32, min: 1, max: 65536, "sequences per optimiser step"),
        "optimizer": Field.choice(OptimizerKind.adam, "adam, adamw (decoupled weight decay) or sgd"),
        "lr": Field.number(0.001, min: 0, exclusive: true, "learning rate"),
        "momentum": Field.number(0.9, min: 0, max: 0.9999, "SGD momentum"),
        "weight_decay": Field.number(0, min: 0, "L2 penalty (decoupled for adamw)"),
        "clip_norm": Field.number(5, min: 0, "global gradient-norm limit (0 = off)"),
        "word_dropout": Field.number(0, min: 0, max: 0.9, "text: each training token becomes <unk> with this probability (its characters stay), so the model learns what to do with unseen words"),
        "lazy_embedding_updates": Field.bool(false, "update only the embedding rows each batch uses (as PyTorch's SparseAdam); much faster with large vocabularies"),
        "schedule": .section([
            "type": Field.choice(ScheduleKind.constant, "learning rate after warm-up: constant, step decay, cosine to min_lr, or reduce on plateau"),
            "warmup_steps": Field.int(0, min: 0, "linear warm-up, in optimiser steps"),
            "warmup_epochs": Field.number(0, min: 0, "linear warm-up, in epochs (instead of warmup_steps)"),
            "warmup_fraction": Field.number(0, min: 0, max: 0.5, "linear warm-up, as a share of the run's steps (instead of warmup_steps)"),
            "max_warmup_fraction": Field.number(0.1, min: 0, max: 0.5, "warm-up never takes more than this share of the run's steps (0 = no cap)"),
            "step_epochs": Field.int(10, min: 1, "step: epochs between decays"),
            "gamma": Field.number(0.5, min: 0, max: 1, exclusive: true, "step/plateau: decay factor"),
            "patience": Field.int(2, min: 0, "plateau: epochs without improvement before decaying"),
            "min_lr": Field.number(0, min: 0, "cosine/plateau: the floor"),
        ]),
        "early_stopping": .section([
            "metric": Field(.choice([""] + Tasks.devMetrics), default: "", "dev metric that picks the best checkpoint ('' = the task's own: \(Tasks.all.map { "\($0.name) \($0.devMetrics[0])" }.joined(separator: ", ")))"),
            "patience": Field.int(0, min: 0, "epochs without improvement before stopping, warm-up epochs not counted (0 = never)"),
            "patience_steps": Field.int(0, min: 0, max: 10_000_000, "patience of at least this many optimiser steps: on a small corpus the patience in epochs rises to reach it (0 = patience as given)"),
            "min_delta": Field.number(0, min: 0, "a dev score must rise by more than this to count as better; within it, the lower dev loss decides"),
        ]),
        "bucket": Field.bool(true, "batch utterances of similar length"),
        "threads": Field.int(0, min: 0, max: 256, "threads for features, training, evaluation (0 = all cores)"),
        "log_every": Field.int(50, min: 1, "steps between log lines without a terminal"),
        "average_last": Field.int(0, min: 0, max: 1000, "the final model is the mean of the weights after each of the last N epochs run, instead of the best dev epoch's (0 = the best dev epoch)"),
        "freeze": Field(.list(Field.choices(FrozenPart.self)), default: ["encoder", "char_encoder"], "with model.init_from: the transferred parts kept fixed for the first freeze_epochs, so a new head learns before they move"),
        "freeze_epochs": Field.int(0, min: 0, max: 100_000, "epochs at the start that train only what freeze leaves out (0 = none; training.epochs = the whole run, e.g. a new head on a fixed encoder)"),
        "on_nan": Field.choice(NaNPolicy.stop, "a NaN/Inf loss stops the run, or skips the batch and halves the learning rate"),
    ]
}
