//! How `spin watch` tells each `spin up` it starts to serve Python
//! components from the edit loop's interpreter (see
//! `spin_python_toolchain::build_dev`) instead of their built files: a JSON
//! file passed with the hidden `spin up --python-dev <file>`.

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The components served from a dev interpreter, by id.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DevSpec {
    /// By component id.
    pub components: BTreeMap<String, DevComponentSpec>,
}

/// One component served from a dev interpreter.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DevComponentSpec {
    /// The interpreter component, served instead of the manifest's `source`.
    pub wasm: PathBuf,
    /// Directories mounted read-only: (host directory, guest path).
    pub mounts: Vec<(PathBuf, String)>,
}

/// The header of the start-up request that makes a dev interpreter import
/// the app without calling it (`spin_py2wasm/dev.py`).
pub const PROBE_HEADER: &str = "spin-py2wasm-dev-probe";

impl DevSpec {
    /// Reads a spec written by [`DevSpec::write`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading `{}`", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing `{}`", path.display()))
    }

    /// Writes the spec to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a spec serializes");
        std::fs::write(path, text).with_context(|| format!("writing `{}`", path.display()))
    }

    /// Points each component at its interpreter; every id must exist.
    pub fn apply(&self, app: &mut spin_manifest::App) -> Result<()> {
        for (id, spec) in &self.components {
            let component = app
                .components
                .iter_mut()
                .find(|c| &c.id == id)
                .with_context(|| {
                    format!("`--python-dev` names `{id}`, which the manifest does not define")
                })?;
            component.source.value = spin_manifest::ComponentSource::Local(spec.wasm.clone());
        }
        Ok(())
    }

    /// The read-only mounts, by component id.
    pub fn mounts(&self) -> std::collections::HashMap<String, Vec<(PathBuf, String)>> {
        self.components
            .iter()
            .map(|(id, spec)| (id.clone(), spec.mounts.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_and_refuse_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.json");
        let spec = DevSpec {
            components: [(
                "hello".to_owned(),
                DevComponentSpec {
                    wasm: "/cache/dev.wasm".into(),
                    mounts: vec![("/cache/stdlib".into(), "/python".to_owned())],
                },
            )]
            .into(),
        };
        spec.write(&path).unwrap();
        assert_eq!(DevSpec::read(&path).unwrap(), spec);
        std::fs::write(&path, r#"{"components": {}, "extra": 1}"#).unwrap();
        assert!(DevSpec::read(&path).is_err());
    }
}
