import Foundation
import GrusCore
import GrusData
import GrusTasks
import GrusTrain
import Yams

/// Reads a recipe: YAML, `include:` chains (later files override earlier ones, key by key),
/// `--set a.b.c=value` overrides, validation against `RecipeSchema`, defaults, and checks that
/// the paths it names exist. Every problem is collected and reported with the file and key path.
public enum RecipeLoader {
    public struct Loaded {
        public var recipe: Recipe
        /// The resolved recipe (includes merged, overrides applied, defaults filled) as YAML.
        public var resolvedYAML: String
        public var file: String
    }

    public static func load(_ path: String, overrides: [String] = [],
                            fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws -> Loaded {
        try load(fromTree: try readWithIncludes(path, chain: []), name: path, overrides: overrides, fileExists: fileExists)
    }

    /// A recipe from an already parsed tree (`name` stands for the file in messages and gives the
    /// experiment's default name).
    public static func load(fromTree tree: [String: Any], name path: String, overrides: [String] = [],
                            fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws -> Loaded {
        var tree = tree
        var issues: [RecipeIssue] = []
        for o in overrides { apply(override: o, to: &tree, file: path, issues: &issues) }
        guard issues.isEmpty else { throw RecipeError(issues: issues) }
        let validated = Validator.validate(tree, RecipeSchema.root, path: "", file: path, issues: &issues) as? [String: Any] ?? [:]
        guard issues.isEmpty else { throw RecipeError(issues: issues) }
        var resolved = validated
        fillDerived(&resolved, recipeFile: path)
        let json = try JSONSerialization.data(withJSONObject: resolved, options: [.sortedKeys])
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        let recipe = try dec.decode(Recipe.self, from: json)
        checkPaths(resolved, corpus: recipe.corpus, file: path, fileExists: fileExists, issues: &issues)
        guard issues.isEmpty else { throw RecipeError(issues: issues) }
        issues = RecipeChecks.check(recipe, file: path)
        guard issues.isEmpty else { throw RecipeError(issues: issues) }
        let yaml = try Yams.dump(object: readable(resolved, RecipeSchema.root), sortKeys: true)
        return Loaded(recipe: recipe, resolvedYAML: yaml, file: path)
    }

    /// A resolved recipe (as recipe.yaml holds it) as key path → value text.
    public static func flatten(_ yaml: String, file: String = "recipe.yaml") throws -> [String: String] {
        func leaves(_ v: Any?, _ prefix: String, into out: inout [String: String]) {
            if let d = v as? [String: Any] {
                for (k, x) in d { leaves(x, prefix.isEmpty ? k : prefix + "." + k, into: &out) }
            } else if let list = v as? [Any] {
                out[prefix] = "[" + list.map { "\($0)" }.joined(separator: ", ") + "]"
            } else {
                out[prefix] = v.map { "\($0)" } ?? "null"
            }
        }
        var out: [String: String] = [:]
        leaves(try parseYAML(yaml, file: file), "", into: &out)
        return out
    }

    /// The key paths whose values differ between two resolved recipes (as recipe.yaml holds them).
    /// Keys only one of them has (options added by a later Grus) are not counted.
    public static func changedKeys(from old: String, to new: String) throws -> [String] {
        let a = try flatten(old), b = try flatten(new)
        return Set(a.keys).intersection(b.keys).filter { a[$0] != b[$0] }.sorted()
    }

    /// Recipes are short; anything longer is refused before it is parsed.
    package static let maxRecipeBytes = 1 << 20

    /// Parses one file and the files it includes.
    package static func readWithIncludes(_ path: String, chain: [String]) throws -> [String: Any] {
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        if chain.contains(full) {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "include",
                                                   message: "include cycle: " + (chain + [full]).joined(separator: " -> "))])
        }
        if let problem = specialFileProblem(path) {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "", message: problem)])
        }
        guard let data = readWholeFile(path) else {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "", message: "cannot read the recipe (no such file?)")])
        }
        guard data.count <= maxRecipeBytes else {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "", message: "is \(data.count) bytes; a recipe is at most \(maxRecipeBytes) bytes")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "", message: "the recipe is not UTF-8 text")])
        }
        let parsed: Any?
        do {
            parsed = try parseYAML(text, file: path)
        } catch let e as YamlError {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "", message: "YAML syntax error: \(yamlMessage(e))")])
        }
        if parsed == nil { return [:] }
        guard var tree = parsed as? [String: Any] else {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "", message: "a recipe is a mapping of sections (corpus:, frontend:, ...)")])
        }
        guard let include = tree.removeValue(forKey: "include") else { return tree }
        let includes: [String]
        if let s = include as? String { includes = [s] } else if let a = include as? [String] { includes = a } else {
            throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "include", message: "expected a file name or a list of them")])
        }
        var base: [String: Any] = [:]
        for inc in includes {
            let incPath = inc.hasPrefix("/") ? inc : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(inc).path
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: incPath, isDirectory: &isDir) {
                throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "include", message: "'\(inc)' does not exist (looked for \(incPath))")])
            }
            if isDir.boolValue {
                throw RecipeError(issues: [RecipeIssue(file: path, keyPath: "include", message: "'\(inc)' is a folder; include a recipe file")])
            }
            base = merge(base, try readWithIncludes(incPath, chain: chain + [full]))
        }
        return merge(base, tree)
    }

    /// YAML text → plain values (dictionaries, arrays, strings, numbers, booleans, NSNull), through
    /// Yams's node tree: only plain-text mapping keys are accepted, so input such as `[]: x`
    /// (which Yams's untyped loader cannot represent) is an error, not a crash.
    package static func parseYAML(_ text: String, file: String) throws -> Any? {
        if let found = YAMLAliasScan.find(text) {
            throw RecipeError(issues: [RecipeIssue(file: file, keyPath: "", message: "line \(found.line): '\(found.token)': YAML anchors and aliases are not supported in recipes; write the value out (or use include:), or quote it if it is text")])
        }
        guard let node = try Yams.compose(yaml: text) else { return nil }
        return try plain(node, path: "", file: file)
    }

    package static func plain(_ node: Node, path: String, file: String) throws -> Any {
        func fail(_ m: String) -> RecipeError { RecipeError(issues: [RecipeIssue(file: file, keyPath: path, message: m)]) }
        // An alias resolves to its anchored node, so refusing anchors refuses every alias before
        // a chain of them ("billion laughs") can be expanded.
        if node.anchor != nil { throw fail("YAML anchors and aliases are not supported in recipes; write the value out (or use include:)") }
        switch node {
        case .scalar:
            switch node.tag.description {
            case Tag.Name.null.rawValue: return NSNull()
            case Tag.Name.bool.rawValue: return node.bool ?? node.string ?? ""
            case Tag.Name.int.rawValue: return node.int ?? node.float ?? node.string ?? ""
            case Tag.Name.float.rawValue: return node.float ?? node.string ?? ""
            default: return node.string ?? ""
            }
        case let .sequence(seq):
            return try seq.enumerated().map { try plain($1, path: "\(path)[\($0)]", file: file) }
        case let .mapping(map):
            var out: [String: Any] = [:]
            for (k, v) in map {
                guard case .scalar = k, let key = k.string else { throw fail("mapping keys must be plain text") }
                let sub = path.isEmpty ? key : path + "." + key
                if out[key] != nil { throw RecipeError(issues: [RecipeIssue(file: file, keyPath: sub, message: "appears twice")]) }
                out[key] = try plain(v, path: sub, file: file)
            }
            return out
        default:
            throw fail("YAML aliases are not supported in recipes; write the value out")
        }
    }

    /// Whole-number doubles written as integers ("max_seconds: 0", not "0e+0"), and named
    /// numbers by their names ("sample_rate: native").
    package static func readable(_ v: Any, _ field: Field?) -> Any {
        if case let .int(_, _, names)? = field?.type, let i = v as? Int, let name = names.first(where: { $0.value == i })?.key { return name }
        switch v {
        case let d as [String: Any]:
            var fields: [String: Field] = [:]
            if case let .section(f)? = field?.type { fields = f }
            return Dictionary(uniqueKeysWithValues: d.map { ($0.key, readable($0.value, fields[$0.key])) })
        case let a as [Any]: return a.map { readable($0, nil) }
        case let x as Double where x == x.rounded() && abs(x) < 1e15: return Int(x)
        default: return v
        }
    }

    package static func yamlMessage(_ e: YamlError) -> String {
        let s = "\(e)"
        return s.split(separator: "\n").first.map(String.init) ?? s
    }

    /// Deep merge: sections merge key by key, anything else in `top` replaces `base`.
    package static func merge(_ base: [String: Any], _ top: [String: Any]) -> [String: Any] {
        var out = base
        for (k, v) in top {
            if let b = out[k] as? [String: Any], let t = v as? [String: Any] { out[k] = merge(b, t) } else { out[k] = v }
        }
        return out
    }

    /// `a.b.c=value`: the key path must exist in the schema; the value is read as YAML (so
    /// `true`, `3`, `0.1` and `[0.9, 1.1]` keep their types).
    package static func apply(override: String, to tree: inout [String: Any], file: String, issues: inout [RecipeIssue]) {
        guard let eq = override.firstIndex(of: "=") else {
            issues.append(RecipeIssue(file: file, keyPath: override, message: "--set needs key.path=value"))
            return
        }
        let keyPath = String(override[..<eq]).trimmingCharacters(in: .whitespaces)
        let raw = String(override[override.index(after: eq)...])
        let keys = keyPath.split(separator: ".").map(String.init)
        var field = RecipeSchema.root
        for (i, k) in keys.enumerated() {
            guard case let .section(fields) = field.type, let next = fields[k] else {
                let known: [String]
                if case let .section(f) = field.type { known = Array(f.keys) } else { known = [] }
                issues.append(RecipeIssue(file: "--set", keyPath: keys[0...i].joined(separator: "."),
                                          message: "unknown key" + Validator.suggestion(k, known)))
                return
            }
            field = next
        }
        if case .section = field.type {
            issues.append(RecipeIssue(file: "--set", keyPath: keyPath, message: "is a section; set one of its keys"))
            return
        }
        let value: Any
        if case .string = field.type { value = raw } else if case .path = field.type { value = raw } else {
            value = (try? parseYAML(raw, file: "--set")).flatMap { $0 } ?? raw
        }
        setValue(value, at: keys, in: &tree)
    }

    package static func setValue(_ v: Any, at keys: [String], in tree: inout [String: Any]) {
        if keys.count == 1 { tree[keys[0]] = v; return }
        var sub = tree[keys[0]] as? [String: Any] ?? [:]
        setValue(v, at: Array(keys.dropFirst()), in: &sub)
        tree[keys[0]] = sub
    }

    /// Defaults that depend on other values: the experiment name and folder.
    package static func fillDerived(_ tree: inout [String: Any], recipeFile: String) {
        var exp = tree["experiment"] as? [String: Any] ?? [:]
        if (exp["name"] as? String ?? "").isEmpty {
            exp["name"] = URL(fileURLWithPath: recipeFile).deletingPathExtension().lastPathComponent
        }
        if (exp["out"] as? String ?? "").isEmpty { exp["out"] = "experiments/\(exp["name"]!)" }
        tree["experiment"] = exp
    }

    /// Paths the run will read must exist (a generated corpus is made by the prepare stage).
    package static func checkPaths(_ tree: [String: Any], corpus: CorpusSettings, file: String, fileExists: (String) -> Bool,
                                   issues: inout [RecipeIssue]) {
        func sec(_ d: [String: Any]?, _ k: String) -> [String: Any]? { d?[k] as? [String: Any] }
        for p in CorpusFormats.named(corpus.format)?.missingPaths(corpus, fileExists: fileExists) ?? [] {
            issues.append(RecipeIssue(file: file, keyPath: p.key, message: p.message))
        }
        if let from = sec(tree, "model")?["init_from"] as? String, !from.isEmpty, !fileExists(from) {
            issues.append(RecipeIssue(file: file, keyPath: "model.init_from",
                                      message: "'\(from)' does not exist; give the folder of a finished `grus run`"))
        }
        let text = sec(sec(tree, "frontend"), "text")
        if let v = text?["pretrained_vectors"] as? String, !v.isEmpty, !fileExists(v) {
            issues.append(RecipeIssue(file: file, keyPath: "frontend.text.pretrained_vectors", message: "'\(v)' does not exist"))
        }
        let augment = sec(sec(sec(tree, "frontend"), "audio"), "augment")
        if augment?["noise"] as? String == "folder" {
            let f = augment?["noise_folder"] as? String ?? ""
            if f.isEmpty || !fileExists(f) {
                issues.append(RecipeIssue(file: file, keyPath: "frontend.audio.augment.noise_folder",
                                          message: f.isEmpty ? "is required when noise is 'folder'" : "'\(f)' does not exist"))
            }
        }
    }
}
