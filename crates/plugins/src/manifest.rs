//! Spin's plugin manifest: the JSON file, one per plugin version, that the
//! spin-plugins index holds and `spin plugins install --file/--url` reads.

use serde::{Deserialize, Serialize};

/// A plugin version: what it is, which Spin versions it supports and where
/// to download it for each platform. Field names are Spin's (camelCase in
/// JSON), so manifests from the spin-plugins repository parse unchanged.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PluginManifest {
    /// The plugin's name, which is also the `spin` subcommand that runs it.
    pub name: String,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The plugin's home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The plugin's version (semver).
    pub version: String,
    /// A semver requirement on the Spin version, e.g. `>=1.5`.
    pub spin_compatibility: String,
    /// SPDX license identifier.
    pub license: String,
    /// Downloads, one per platform.
    pub packages: Vec<PluginPackage>,
}

/// A plugin build for one platform: a `.tar.gz` holding the executable.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PluginPackage {
    /// Operating system.
    pub os: Os,
    /// Processor architecture.
    pub arch: Arch,
    /// Where to download the archive (`https://` or `file://`).
    pub url: String,
    /// Lower-case hex SHA-256 of the archive.
    pub sha256: String,
}

/// Operating systems plugin packages are built for.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Os {
    /// Linux.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
}

/// Processor architectures plugin packages are built for.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// 64-bit ARM.
    Aarch64,
    /// 32-bit ARM.
    Arm,
}

impl Os {
    /// The name Rust uses for this OS (`std::env::consts::OS`).
    pub fn rust_name(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Macos => "macos",
            Self::Windows => "windows",
        }
    }
}

impl Arch {
    /// The name Rust uses for this architecture (`std::env::consts::ARCH`).
    pub fn rust_name(self) -> &'static str {
        match self {
            Self::Amd64 => "x86_64",
            Self::Aarch64 => "aarch64",
            Self::Arm => "arm",
        }
    }
}

/// Whether a plugin version can run here.
#[derive(Debug, Clone, PartialEq)]
pub enum Compatibility {
    /// It supports this Spin version and has a package for this machine.
    Compatible,
    /// It needs another Spin version; holds its `spinCompatibility`.
    IncompatibleSpin(String),
    /// It has no package for this OS and architecture.
    NoPackage,
}

/// Checks a plugin name (case-insensitively). The name becomes
/// `<plugins>/<name>/` and `<plugins>/manifests/<name>.json`, so it must be
/// one plain path segment: ASCII letters, digits, `-` and `_`, starting with
/// a letter or digit, as in `cloud`, `js2wasm` or `trigger-sqs`.
pub fn check_name(name: &str) -> Result<(), crate::Error> {
    let invalid = |reason: String| crate::Error::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let Some(first) = name.chars().next() else {
        return Err(invalid("it is empty".into()));
    };
    if !first.is_ascii_alphanumeric() {
        return Err(invalid(format!(
            "it must start with a letter or digit, not `{first}`"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(invalid(format!(
            "`{}` is not allowed in a plugin name",
            bad.escape_default()
        )));
    }
    Ok(())
}

impl PluginManifest {
    /// Checks the manifest's `name` with [`check_name`].
    pub fn check_name(&self) -> Result<(), crate::Error> {
        check_name(&self.name)
    }

    /// Plugin names are case-insensitive; Spin stores them lower-cased.
    pub fn normalized_name(&self) -> String {
        self.name.to_lowercase()
    }

    /// The version as semver, if it is valid semver.
    pub fn semver(&self) -> Option<semver::Version> {
        semver::Version::parse(&self.version).ok()
    }

    /// The package for the running OS and architecture.
    pub fn package_for_this_machine(&self) -> Option<&PluginPackage> {
        self.packages.iter().find(|p| {
            p.os.rust_name() == std::env::consts::OS && p.arch.rust_name() == std::env::consts::ARCH
        })
    }

    /// Checks `spinCompatibility` against `spin_version` and that there is a
    /// package for this machine. Built-in plugins are always compatible.
    pub fn compatibility(&self, spin_version: &semver::Version) -> Compatibility {
        if crate::builtin::is_built_in(&self.name) {
            return Compatibility::Compatible;
        }
        if self.package_for_this_machine().is_none() {
            return Compatibility::NoPackage;
        }
        let supported = semver::VersionReq::parse(&self.spin_compatibility)
            .is_ok_and(|req| req.matches(spin_version));
        // As in Spin, a pre-release Spin runs any plugin: otherwise every
        // plugin would look incompatible with it.
        if supported || !spin_version.pre.is_empty() {
            Compatibility::Compatible
        } else {
            Compatibility::IncompatibleSpin(self.spin_compatibility.clone())
        }
    }

    /// Compares versions by semver, falling back to text.
    pub(crate) fn version_cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.semver(), other.semver()) {
            (Some(a), Some(b)) => a.cmp_precedence(&b),
            _ => self.version.cmp(&other.version),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A manifest with one package for this machine.
    pub(crate) fn manifest(name: &str, version: &str, compat: &str) -> PluginManifest {
        serde_json::from_value(serde_json::json!({
            "name": name,
            "description": "A test plugin",
            "version": version,
            "spinCompatibility": compat,
            "license": "Apache-2.0",
            "packages": [{
                "os": os_name(),
                "arch": arch_name(),
                "url": "file:///nowhere.tar.gz",
                "sha256": "00"
            }]
        }))
        .unwrap()
    }

    fn os_name() -> &'static str {
        match std::env::consts::OS {
            "macos" => "macos",
            "windows" => "windows",
            _ => "linux",
        }
    }

    fn arch_name() -> &'static str {
        match std::env::consts::ARCH {
            "aarch64" => "aarch64",
            "arm" => "arm",
            _ => "amd64",
        }
    }

    #[test]
    fn parses_spin_plugin_manifests() {
        let json = r#"{
            "name": "Cloud",
            "description": "Fermyon Cloud plugin",
            "homepage": "https://github.com/fermyon/cloud-plugin",
            "version": "0.9.0",
            "spinCompatibility": ">=2.0",
            "license": "Apache-2.0",
            "packages": [
                {"os": "linux", "arch": "amd64", "url": "https://example.com/a.tar.gz", "sha256": "ab"},
                {"os": "macos", "arch": "aarch64", "url": "https://example.com/b.tar.gz", "sha256": "cd"}
            ]
        }"#;
        let m: PluginManifest = serde_json::from_str(json).unwrap();
        assert_eq!(m.normalized_name(), "cloud");
        assert_eq!(m.packages[1].os, Os::Macos);
        assert_eq!(m.packages[1].arch, Arch::Aarch64);
        let round_trip: PluginManifest =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(round_trip, m);
    }

    #[test]
    fn plugin_names_are_single_path_segments() {
        for good in ["cloud", "js2wasm", "trigger-sqs", "Cloud_GPU", "2fa"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "..", ".", "../../x", "a/b", "-x", ".hidden", "a b", "a\\b", "x\0",
        ] {
            assert!(
                matches!(check_name(bad), Err(crate::Error::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn compatibility_checks_spin_version_and_platform() {
        let v = |s| semver::Version::parse(s).unwrap();
        let m = manifest("p", "1.0.0", ">=1.2, <2.0");
        assert_eq!(m.compatibility(&v("1.5.1")), Compatibility::Compatible);
        assert_eq!(
            m.compatibility(&v("2.0.0")),
            Compatibility::IncompatibleSpin(">=1.2, <2.0".into())
        );
        assert_eq!(m.compatibility(&v("2.1.0-pre0")), Compatibility::Compatible);

        let mut elsewhere = m.clone();
        elsewhere.packages.clear();
        assert_eq!(
            elsewhere.compatibility(&v("1.5.1")),
            Compatibility::NoPackage
        );
    }
}
