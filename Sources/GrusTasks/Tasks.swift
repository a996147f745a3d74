/// The registered tasks. The first is the default, and the task of model folders written before
/// model.json named one.
public enum Tasks {
    public static let all: [any TrainableTask.Type] = [ClassifyTask.self, TagTask.self, JointTask.self, TranscribeTask.self]

    public static var names: [String] { all.map { $0.name } }
    public static var summary: String { all.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ") }
    public static var devMetrics: [String] {
        var seen: [String] = []
        for t in all { for m in t.devMetrics where !seen.contains(m) { seen.append(m) } }
        return seen
    }
    /// The task of a model.json that names none.
    public static var unnamed: String { all[0].name }

    public static func named(_ name: String) -> (any TrainableTask.Type)? { all.first { $0.name == name } }

    /// The names of the tasks whose models read a head setting ("tag or joint").
    public static func reading(_ part: HeadOptions.Part) -> [String] { all.filter { $0.info.reads.contains(part) }.map { $0.name } }
}
