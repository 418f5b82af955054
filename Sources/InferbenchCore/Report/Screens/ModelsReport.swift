/// The `inferbench models` listing.
public enum ModelsReport {
    public static func render(_ zoo: [ZooEntry]) -> String {
        var table = TextTable(headers: ["model", "parameters (defaults)", "needs", "description"], leftAligned: [0, 1, 2, 3])
        // 100 columns: the parameter lists (up to 400 characters) and descriptions wrap.
        table.wrapWidths = [1: 34, 2: 14, 3: 30]
        for entry in zoo {
            let params = entry.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            table.rows.append([
                entry.name, params.isEmpty ? "-" : params, entry.needs.isEmpty ? "(nothing)" : entry.needs.joined(separator: ","), entry.description,
            ])
        }
        return table.render()
            + "\nParameters go after a colon: bert-base:seq=512. Your own model: path/to/file.py:build_fn,\nor a .pt2 (ExportedProgram or AOTInductor package): model.pt2[:shape=1x3x224x224].\n"
    }
}
