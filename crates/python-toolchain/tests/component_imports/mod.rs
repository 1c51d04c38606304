//! What a built component imports, and whether Spin provides it. Shared by
//! this crate's tests and the repository's `tests/py2wasm.rs`.

use std::path::Path;

/// The component's top-level import names.
pub fn imports(component: &Path) -> Vec<String> {
    let bytes = std::fs::read(component).unwrap();
    let mut names = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        match payload.unwrap() {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(reader) if depth == 0 => {
                names.extend(
                    reader
                        .into_iter()
                        .map(|import| import.unwrap().name.name.to_owned()),
                );
            }
            _ => {}
        }
    }
    names
}

/// Whether Spin (2.x and later) provides the interface `name`: WASI 0.2 and
/// `fermyon:spin@2.0.0`.
pub fn spin_provides(name: &str) -> bool {
    let (package, version) = name.rsplit_once('@').unwrap_or((name, ""));
    (package.starts_with("wasi:") && version.starts_with("0.2."))
        || (package.starts_with("fermyon:spin/") && version == "2.0.0")
}
