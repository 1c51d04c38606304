//! Text from the seed page ("Building Spin Components in Python").

/// The page's first `spin.toml` (v1), as `spin new http-py` writes it minus
/// the template's `watch` line.
pub const SEED_MANIFEST: &str = r#"spin_version = "1"
authors = ["Fermyon Engineering <engineering@fermyon.com>"]
description = ""
name = "hello-world"
trigger = { type = "http", base = "/" }
version = "0.1.0"

[[component]]
id = "hello-world"
source = "app.wasm"
[component.trigger]
route = "/..."
[component.build]
command = "spin py2wasm app -o app.wasm"
"#;
