//! `spin build`: runs each component's build command, then optionally
//! `spin up`. The build itself is the `spin-build` crate; this module finds
//! the manifest and prints progress the way Spin does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use spin_build::BuildEvent;

const DEFAULT_MANIFEST: &str = "spin.toml";

/// Build the application's components by running their build commands.
#[derive(Args)]
pub struct BuildCommand {
    /// The application to build: a manifest file, or a directory containing
    /// spin.toml. Default: spin.toml in the current directory.
    #[arg(short = 'f', long = "from", alias = "file")]
    app_source: Option<PathBuf>,
    /// ID of a component to build. Repeatable; default: all components.
    #[arg(short = 'c', long = "component-id")]
    component_ids: Vec<String>,
    #[command(flatten)]
    profile: super::app_source::BuildProfile,
    /// Accepted from Spin's command lines: this build checks no deployment
    /// targets (`[application] targets` is only read by deploy tooling).
    #[arg(long = "skip-target-checks", alias = "skip-target-check")]
    _skip_target_checks: bool,
    /// Accepted from Spin's command lines: this build generates no WIT
    /// files (component `dependencies` are refused).
    #[arg(long = "skip-generate-wits", alias = "skip-generate-wit")]
    _skip_generate_wits: bool,
    /// Run the application (`spin up`) after building it (with the same
    /// `--profile`).
    #[arg(short = 'u', long = "up")]
    up: bool,
    /// Arguments for `spin up`, after `--up`.
    #[arg(requires = "up", trailing_var_arg = true, allow_hyphen_values = true)]
    up_args: Vec<String>,
}

impl BuildCommand {
    /// Runs `spin build`.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let from = self
            .app_source
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MANIFEST));
        let manifest = super::up::resolve_manifest_path(&from)?;
        // Unlike Spin (whose `--up` runs the default profile), what was
        // built is what runs.
        let (profile, add_to_up) = match self.up {
            true => self.profile.shared_with_up(&self.up_args)?,
            false => (self.profile.profile.clone(), false),
        };
        build_manifest(&manifest, &self.component_ids, profile.as_deref())?;
        if !self.up {
            return Ok(ExitCode::SUCCESS);
        }
        let mut up_args = vec!["-f".to_owned(), manifest.display().to_string()];
        if let (Some(profile), true) = (profile, add_to_up) {
            up_args.extend(["--profile".to_owned(), profile]);
        }
        up_args.extend(self.up_args);
        super::up::run_up(up_args)
    }
}

/// Loads the manifest for the build profile `profile` and builds the given
/// components (all if empty), printing progress. `spin up --build` uses
/// this too.
pub(crate) fn build_manifest(
    manifest: &Path,
    component_ids: &[String],
    profile: Option<&str>,
) -> anyhow::Result<()> {
    let app = spin_manifest::load_file_for_profile(manifest, profile)
        .with_context(|| format!("Failed to load manifest {}", manifest.display()))?;
    spin_build::build(&app, component_ids, &mut print_progress)?;
    Ok(())
}

/// Warns, as Spin does, when the application was last built for another
/// build profile than `app`'s, which is about to run or be pushed
/// (`doing`) without a build: its files may be older than their sources.
pub(crate) fn warn_if_built_for_another_profile(app: &spin_manifest::App, doing: &str) {
    let profile = app.profile.as_deref();
    if !spin_build::last_build::is_another_profile(&app.dir, profile) {
        return;
    }
    let name = |p: Option<&str>| {
        p.map_or("the default profile".to_owned(), |p| {
            format!("profile `{p}`")
        })
    };
    let flag = profile
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default();
    tracing::warn!(
        "the application was last built for {}, and {doing} {}: its components' files may be older than their sources\n\nhint: build first (`spin build{flag}`), or pass `--build`",
        name(spin_build::last_build::read(&app.dir).as_deref()),
        name(profile),
    );
}

fn print_progress(event: BuildEvent) {
    match event {
        BuildEvent::Building {
            component,
            command,
            workdir,
        } => {
            println!("Building component {component} with `{command}`");
            if let Some(dir) = workdir {
                println!("Working directory: {}", dir.display());
            }
        }
        BuildEvent::NoBuildCommand { component } => {
            println!("Component {component} has no build command; skipping it");
        }
        BuildEvent::NothingToBuild => {
            println!("None of the components have a build command.");
            println!(
                "To build a component with `spin build`, add a [component.build] table with a `command` to the manifest."
            );
        }
        BuildEvent::Finished => println!("Finished building all Spin components"),
    }
}
