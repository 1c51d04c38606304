//! Arbitrary text into `spin_runtime_config::RuntimeConfig::parse`.
//!
//! Invariants: no panic, including while rendering an error or resolving the
//! stores; every error ends with a `hint:` line.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use spin_runtime_config::RuntimeConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RuntimeConfig::parse(text, Path::new("conf/runtime-config.toml")) {
        Ok(config) => {
            let app = Path::new("/app");
            let state = config.state_dir(None, app);
            let _ = config.log_dir(None, state.as_deref());
            let _ = config.stores(state.as_deref());
        }
        Err(err) => {
            let rendered = err.to_string();
            assert!(
                rendered.contains("\nhint: "),
                "error without a hint:\n{rendered}"
            );
        }
    }
});
