//! Spin's `spin up --cache <FILE>` (`WASMTIME_CACHE_FILE`): a wasmtime
//! cache configuration file. This host keeps compiled components in a cache
//! of its own, keyed by content; of wasmtime's settings it takes the two
//! that mean the same there, `enabled` and `directory`, and says which
//! others it leaves aside.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// What a cache configuration file says.
#[derive(Debug, PartialEq)]
pub struct CacheConfig {
    /// `enabled = false` turns the cache off (wasmtime's default: on).
    pub enabled: bool,
    /// Where compiled components are kept (`None`: the default place).
    /// A relative path is relative to the file's directory.
    pub directory: Option<PathBuf>,
    /// The `[cache]` keys read and left aside (wasmtime's cleanup and
    /// compression settings), for a warning.
    pub ignored: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    cache: Section,
}

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    directory: Option<PathBuf>,
    #[serde(flatten)]
    others: BTreeMap<String, toml::Value>,
}

impl CacheConfig {
    /// Reads the file at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the cache configuration `{}`", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses `text`, the file at `path`.
    fn parse(text: &str, path: &Path) -> Result<Self> {
        let file: File = toml::from_str(text).map_err(|err| {
            spin_hint::Hinted::new(
                format!("`{}` is not a wasmtime cache configuration: {err}", path.display()),
                "write a `[cache]` table, e.g. `[cache]` then `directory = \"/var/cache/spin\"`, or drop `--cache` (`WASMTIME_CACHE_FILE`)",
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(Self {
            enabled: file.cache.enabled.unwrap_or(true),
            directory: file.cache.directory.map(|dir| base.join(dir)),
            ignored: file.cache.others.into_keys().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CacheConfig> {
        CacheConfig::parse(text, Path::new("/etc/spin/cache.toml"))
    }

    #[test]
    fn the_directory_and_the_switch_are_taken_and_the_rest_named() {
        let config = parse(
            "[cache]\nenabled = true\ndirectory = \"compiled\"\ncleanup-interval = \"30m\"\n",
        )
        .unwrap();
        assert_eq!(
            config,
            CacheConfig {
                enabled: true,
                directory: Some("/etc/spin/compiled".into()),
                ignored: vec!["cleanup-interval".into()],
            }
        );
        assert_eq!(
            parse("[cache]\ndirectory = \"/abs\"\n").unwrap().directory,
            Some("/abs".into())
        );
        assert!(!parse("[cache]\nenabled = false\n").unwrap().enabled);
        let err = parse("directory = \"x\"\n").unwrap_err().to_string();
        assert!(
            err.contains("is not a wasmtime cache configuration"),
            "{err}"
        );
        assert!(parse("[cache]\nenabled = \"yes\"\n").is_err());
    }
}
