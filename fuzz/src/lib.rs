//! What the fuzz targets share.

/// The import and export names at the outermost level of `component`
/// (not those of the modules and components nested in it). `component`
/// must have been validated.
pub fn outer_names(component: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.expect("the component was validated") {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    imports.push(import.expect("validated").name.name.to_string());
                }
            }
            wasmparser::Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    exports.push(export.expect("validated").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

/// Panics unless `component` is a valid component.
pub fn assert_valid(component: &[u8]) {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(component)
        .unwrap_or_else(|e| panic!("an invalid component was made: {e}"));
}
