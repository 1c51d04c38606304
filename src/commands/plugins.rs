//! `spin plugins` (alias `plugin`): install, list, update, upgrade and
//! remove plugins. The work is done by the `spin-plugins` crate; this module
//! parses flags, asks for confirmation and words the output as Spin does.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use spin_plugins::semver::Version;
use spin_plugins::{
    Compatibility, IndexSource, InstallAction, ManifestSource, PluginManager, PluginManifest,
};

/// The Spin release this CLI stands in for when checking a plugin's
/// `spinCompatibility` and when telling plugins which Spin runs them
/// (`SPIN_VERSION`). The CLI implements Spin 1.x's surface (the 2023
/// py2wasm workflow), so plugins are judged against the last 1.x release.
pub(crate) const SPIN_COMPAT_VERSION: &str = "1.5.1";

/// Environment variable naming the plugin index to use: a Git URL or a
/// local directory laid out like the spin-plugins repository.
const INDEX_ENV: &str = "SPIN_PLUGINS_INDEX";

/// Spin's data directory: `SPIN_DATA_DIR` if set, else `spin` under the
/// user's data directory. Templates and plugins live below it.
pub(crate) fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SPIN_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("spin"))
        .or_else(|| dirs::home_dir().map(|h| h.join(".spin")))
        .ok_or_else(|| {
            spin_hint::Hinted::new(
                "cannot find a data directory for templates and plugins",
                "set SPIN_DATA_DIR to a writable directory",
            )
            .into()
        })
}

/// The plugin manager for this user's plugins directory and index.
pub(crate) fn plugin_manager() -> anyhow::Result<PluginManager> {
    let index = match std::env::var(INDEX_ENV) {
        Ok(value) if !value.is_empty() => IndexSource::from_setting(&value),
        _ => IndexSource::default(),
    };
    Ok(PluginManager::new(data_dir()?.join("plugins"), index))
}

pub(crate) fn spin_compat_version() -> Version {
    Version::parse(SPIN_COMPAT_VERSION).expect("SPIN_COMPAT_VERSION is semver")
}

/// Install, list, update and remove plugins.
#[derive(Subcommand)]
pub enum PluginsCommand {
    /// Install a plugin from the plugin index, a manifest file or a manifest URL.
    Install(Install),
    /// List available or installed plugins.
    List(List),
    /// Remove an installed plugin.
    #[command(alias = "rm")]
    Uninstall(Uninstall),
    /// Fetch the latest plugin index (Spin's spin-plugins repository, or SPIN_PLUGINS_INDEX).
    Update,
    /// Upgrade one or all installed plugins to their latest compatible version.
    Upgrade(Upgrade),
}

impl PluginsCommand {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let manager = plugin_manager()?;
        match self {
            Self::Install(cmd) => cmd.run(&manager),
            Self::List(cmd) => cmd.run(&manager),
            Self::Uninstall(cmd) => cmd.run(&manager),
            Self::Update => update(&manager),
            Self::Upgrade(cmd) => cmd.run(&manager),
        }
    }
}

/// Where to get the manifest of the plugin to install.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct ManifestLocation {
    /// Name of the plugin in the plugin index.
    name: Option<String>,
    /// Path to a local plugin manifest (JSON).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// URL of a plugin manifest (https:// or file://).
    #[arg(short = 'u', long = "url")]
    url: Option<String>,
}

impl ManifestLocation {
    fn resolve(
        &self,
        manager: &PluginManager,
        version: Option<&Version>,
    ) -> anyhow::Result<(PluginManifest, ManifestSource)> {
        Ok(match (&self.name, &self.file, &self.url) {
            (Some(name), _, _) => (
                manager.lookup(name, version, &spin_compat_version())?,
                ManifestSource::Index,
            ),
            (_, Some(file), _) => {
                let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
                (
                    spin_plugins::manifest_from_file(&file)?,
                    ManifestSource::File(file),
                )
            }
            (_, _, Some(url)) => (
                spin_plugins::manifest_from_url(url)?,
                ManifestSource::Url(url.clone()),
            ),
            _ => unreachable!("clap requires one of name, --file and --url"),
        })
    }
}

/// Flags shared by `install` and `upgrade`.
#[derive(Args)]
struct InstallFlags {
    /// Install without asking for confirmation.
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// Install even if the plugin says it does not support this version of Spin.
    #[arg(long)]
    override_compatibility_check: bool,
}

/// Install a plugin.
#[derive(Args)]
// `--version` is the plugin version here, as in Spin, not spin's own.
#[command(disable_version_flag = true)]
pub struct Install {
    #[command(flatten)]
    location: ManifestLocation,
    /// Version to install from the plugin index (default: the latest compatible).
    #[arg(short = 'v', long, requires = "name")]
    version: Option<Version>,
    #[command(flatten)]
    flags: InstallFlags,
}

impl Install {
    fn run(self, manager: &PluginManager) -> anyhow::Result<ExitCode> {
        let (manifest, source) = self.location.resolve(manager, self.version.as_ref())?;
        try_install(manager, &manifest, &source, &self.flags, false)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Checks, confirms and installs one manifest. Returns whether it installed.
fn try_install(
    manager: &PluginManager,
    manifest: &PluginManifest,
    source: &ManifestSource,
    flags: &InstallFlags,
    allow_downgrade: bool,
) -> anyhow::Result<bool> {
    let name = manifest.normalized_name();
    let action = manager.check_install(
        manifest,
        &spin_compat_version(),
        flags.override_compatibility_check,
        allow_downgrade,
    )?;
    if let InstallAction::AlreadyInstalled { version } = action {
        eprintln!("Plugin '{name}' is already installed with version {version}.");
        return Ok(false);
    }
    if let Compatibility::IncompatibleSpin(requirement) =
        manifest.compatibility(&spin_compat_version())
    {
        eprintln!(
            "warning: Plugin '{name}' is not compatible with this version of Spin (supported: {requirement}, actual: {SPIN_COMPAT_VERSION}). Check overridden; installing anyway."
        );
    }
    // A built-in plugin downloads nothing, so there is nothing to confirm.
    let package = manifest.package_for_this_machine();
    if let Some(package) = package.filter(|_| !flags.yes)
        && !confirm_install(manifest, &package.url)?
    {
        println!("Plugin '{name}' will not be installed");
        return Ok(false);
    }

    manager.install(manifest, source)?;
    println!("Plugin '{name}' was installed successfully!");
    if let Some(description) = &manifest.description {
        println!("\nDescription:\n\t{description}");
    }
    if let Some(homepage) = manifest
        .homepage
        .as_deref()
        .filter(|h| h.starts_with("https://"))
    {
        println!("\nHomepage:\n\t{homepage}");
    }
    Ok(true)
}

fn confirm_install(manifest: &PluginManifest, url: &str) -> anyhow::Result<bool> {
    let name = manifest.normalized_name();
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(spin_hint::Hinted::new(
            format!(
                "Plugin '{name}' would be downloaded from {url}, and there is no terminal to confirm that on"
            ),
            "pass `--yes` to install it without confirmation",
        )
        .into());
    }
    eprintln!(
        "You are trying to install the `{name}` plugin with {} license from {url}",
        manifest.license
    );
    eprint!("Are you sure you want to continue? [Y/n] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_lowercase().as_str(),
        "" | "y" | "yes"
    ))
}

/// List plugins.
#[derive(Args)]
pub struct List {
    /// List only installed plugins.
    #[arg(long, group = "which")]
    installed: bool,
    /// List all versions of plugins in the index (the default).
    #[arg(long, group = "which")]
    all: bool,
    /// List the latest version of each plugin, and which are installed.
    #[arg(long, group = "which")]
    summary: bool,
    /// Only list plugins whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
}

/// A line of `spin plugins list`.
struct Listed {
    manifest: PluginManifest,
    installed: bool,
    /// Set when a newer version is listed but an older one is installed.
    installed_version: Option<String>,
}

impl List {
    fn run(self, manager: &PluginManager) -> anyhow::Result<ExitCode> {
        let installed = manager.installed();
        let mut listed: Vec<Listed> = if self.installed {
            installed
                .into_iter()
                .map(|manifest| Listed {
                    manifest,
                    installed: true,
                    installed_version: None,
                })
                .collect()
        } else {
            ensure_index(manager);
            let mut all: Vec<Listed> = manager
                .catalogue()
                .into_iter()
                .map(|manifest| Listed {
                    installed: installed.contains(&manifest),
                    manifest,
                    installed_version: None,
                })
                .collect();
            // Plugins installed from a file or URL are not in the index.
            let off_index: Vec<Listed> = installed
                .iter()
                .filter(|m| !all.iter().any(|l| &l.manifest == *m))
                .map(|manifest| Listed {
                    manifest: manifest.clone(),
                    installed: true,
                    installed_version: None,
                })
                .collect();
            all.extend(off_index);
            if self.summary {
                all = summarise(all, &installed);
            }
            all
        };
        if let Some(filter) = &self.filter {
            listed.retain(|l| l.manifest.name.contains(filter.as_str()));
        }
        listed.sort_by(|a, b| {
            a.manifest.name.cmp(&b.manifest.name).then_with(|| {
                match (a.manifest.semver(), b.manifest.semver()) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => a.manifest.version.cmp(&b.manifest.version),
                }
            })
        });

        if listed.is_empty() {
            println!("No plugins found");
        }
        for line in listed {
            println!("{}", describe(&line));
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn describe(line: &Listed) -> String {
    let installed = match (&line.installed_version, line.installed) {
        (Some(version), _) => format!(" [installed version: {version}]"),
        (None, true) => " [installed]".to_owned(),
        (None, false) => String::new(),
    };
    let compat = match line.manifest.compatibility(&spin_compat_version()) {
        Compatibility::Compatible => String::new(),
        Compatibility::IncompatibleSpin(req) => format!(" [requires Spin {req}]"),
        Compatibility::NoPackage => " [incompatible]".to_owned(),
    };
    format!(
        "{} {}{installed}{compat}",
        line.manifest.name, line.manifest.version
    )
}

/// Keeps the latest version of each plugin, marking it installed if any
/// version is.
fn summarise(all: Vec<Listed>, installed: &[PluginManifest]) -> Vec<Listed> {
    let mut latest: Vec<Listed> = Vec::new();
    for line in all {
        match latest
            .iter_mut()
            .find(|l| l.manifest.name == line.manifest.name)
        {
            Some(existing) if existing.manifest.semver() < line.manifest.semver() => {
                *existing = line
            }
            Some(_) => {}
            None => latest.push(line),
        }
    }
    for line in &mut latest {
        if let Some(inst) = installed.iter().find(|m| m.name == line.manifest.name) {
            line.installed = true;
            if inst.version != line.manifest.version {
                line.installed_version = Some(inst.version.clone());
            }
        }
    }
    latest
}

/// A plugin error that is only a note or a warning (the command goes on),
/// with its hint after it.
fn with_hint(error: &spin_plugins::Error) -> String {
    crate::report::with_hint(&error.into())
}

/// Fetches the index if it has never been fetched, so a first `list`
/// shows more than the built-in plugins. Failure is only a note.
fn ensure_index(manager: &PluginManager) {
    if manager.has_index_snapshot() {
        return;
    }
    if let Err(e) = manager.update_index() {
        eprintln!("note: {}", with_hint(&e));
        eprintln!("note: listing only built-in and installed plugins.\n");
    }
}

/// Remove a plugin.
#[derive(Args)]
pub struct Uninstall {
    /// Name of the plugin.
    name: String,
}

impl Uninstall {
    fn run(self, manager: &PluginManager) -> anyhow::Result<ExitCode> {
        if manager.uninstall(&self.name)? {
            println!("Plugin {} was successfully uninstalled", self.name);
        } else {
            println!(
                "Plugin {} isn't present, so no changes were made",
                self.name
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `spin plugins update`: refresh the index. An unreachable index is a
/// warning, not a failure: the previous (or built-in) index and every
/// installed plugin keep working.
fn update(manager: &PluginManager) -> anyhow::Result<ExitCode> {
    match manager.update_index() {
        Ok(_) => {
            println!("Plugin information updated successfully");
        }
        Err(
            e @ (spin_plugins::Error::IndexUnreachable { .. } | spin_plugins::Error::GitNotFound),
        ) => {
            eprintln!("warning: {}", with_hint(&e));
            if manager.has_index_snapshot() {
                eprintln!(
                    "Keeping the previously fetched plugin index; installed plugins are unaffected."
                );
            } else {
                eprintln!(
                    "Using the built-in plugin index (py2wasm); installed plugins are unaffected."
                );
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Upgrade plugins.
#[derive(Args)]
#[command(disable_version_flag = true)]
pub struct Upgrade {
    /// Name of the plugin to upgrade.
    #[arg(conflicts_with = "all", required_unless_present_any = ["all", "file", "url"])]
    name: Option<String>,
    /// Upgrade every installed plugin.
    #[arg(short = 'a', long)]
    all: bool,
    /// Upgrade from a local plugin manifest.
    #[arg(short = 'f', long, conflicts_with_all = ["all", "url"])]
    file: Option<PathBuf>,
    /// Upgrade from a plugin manifest URL.
    #[arg(short = 'u', long, conflicts_with = "all")]
    url: Option<String>,
    /// Version to upgrade (or downgrade) to.
    #[arg(short = 'v', long, requires = "name")]
    version: Option<Version>,
    /// Allow installing an older version than the installed one.
    #[arg(short = 'd', long)]
    downgrade: bool,
    #[command(flatten)]
    flags: InstallFlags,
}

impl Upgrade {
    fn run(self, manager: &PluginManager) -> anyhow::Result<ExitCode> {
        let installed = manager.installed();
        if installed.is_empty() {
            println!("No currently installed plugins to upgrade.");
            return Ok(ExitCode::SUCCESS);
        }
        if !self.all {
            let location = ManifestLocation {
                name: self.name,
                file: self.file,
                url: self.url,
            };
            let (manifest, source) = location.resolve(manager, self.version.as_ref())?;
            try_install(manager, &manifest, &source, &self.flags, self.downgrade)?;
            return Ok(ExitCode::SUCCESS);
        }
        for current in installed {
            let name = current.normalized_name();
            let latest = match manager.lookup(&name, None, &spin_compat_version()) {
                Ok(latest) => latest,
                Err(e) => {
                    eprintln!("note: not upgrading '{name}': {}", with_hint(&e));
                    continue;
                }
            };
            if is_newer(&latest, &current) || (self.downgrade && latest != current) {
                try_install(
                    manager,
                    &latest,
                    &ManifestSource::Index,
                    &self.flags,
                    self.downgrade,
                )?;
            } else {
                eprintln!(
                    "Plugin '{name}' is already up to date (version {}).",
                    current.version
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Whether an index manifest is a newer version than the installed one.
fn is_newer(candidate: &PluginManifest, installed: &PluginManifest) -> bool {
    match (candidate.semver(), installed.semver()) {
        (Some(a), Some(b)) => a > b,
        _ => candidate.version != installed.version,
    }
}
