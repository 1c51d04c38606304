//! `spin <plugin> [args…]`: runs an installed plugin's executable for any
//! subcommand the CLI does not know, passing the remaining arguments and
//! Spin's plugin environment, and exits with the plugin's exit code.

use std::process::{Command, ExitCode};

use anyhow::Context;
use spin_hint::Hinted;

use super::plugins::{SPIN_COMPAT_VERSION, plugin_manager, spin_compat_version};

/// Runs the plugin named by `args[0]` with the rest of `args`.
pub fn run(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let (name, plugin_args) = args.split_first().ok_or_else(|| {
        Hinted::new(
            "no subcommand given",
            "run `spin --help` to see the commands",
        )
    })?;
    let manager = plugin_manager()?;
    if manager.installed_manifest(name)?.is_none() {
        let in_index = manager
            .catalogue()
            .iter()
            .any(|m| m.normalized_name() == name.to_lowercase());
        let install_hint = if in_index {
            format!(
                "there is a plugin with that name: install it with `spin plugins install {name}`"
            )
        } else {
            format!(
                "run `spin --help` to see the commands; if '{name}' is a plugin, install it with `spin plugins install {name}` (`spin plugins list` shows the available plugins)"
            )
        };
        return Err(Hinted::new(
            format!("'{name}' is not a known command or plugin"),
            install_hint,
        )
        .into());
    }

    let executable = manager.executable_path(name);
    if !executable.is_file() {
        return Err(Hinted::new(
            format!(
                "The executable of plugin '{name}' is missing ({})",
                executable.display()
            ),
            format!("reinstall the plugin: `spin plugins uninstall {name}`, then install it again"),
        )
        .into());
    }
    let status = Command::new(&executable)
        .args(plugin_args)
        .envs(plugin_env()?)
        .status()
        .with_context(|| format!("Cannot run plugin '{name}' ({})", executable.display()))?;
    Ok(exit_code(status))
}

/// The variables Spin sets for plugins, so they can call back into this
/// spin (`SPIN_BIN_PATH`) and check which Spin runs them.
fn plugin_env() -> anyhow::Result<Vec<(&'static str, String)>> {
    let version = spin_compat_version();
    let bin =
        std::env::current_exe().context("Cannot find the path of the running spin executable")?;
    Ok(vec![
        ("SPIN_VERSION", SPIN_COMPAT_VERSION.to_owned()),
        ("SPIN_VERSION_MAJOR", version.major.to_string()),
        ("SPIN_VERSION_MINOR", version.minor.to_string()),
        ("SPIN_VERSION_PATCH", version.patch.to_string()),
        ("SPIN_VERSION_PRE", version.pre.to_string()),
        ("SPIN_DEBUG", cfg!(debug_assertions).to_string()),
        ("SPIN_BIN_PATH", bin.display().to_string()),
    ])
}

/// The plugin's exit code; a plugin killed by a signal exits 128 + signal,
/// as a shell reports it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
    }
    ExitCode::FAILURE
}
