//! `spin kube scaffold`: a SpinKube `SpinApp` manifest for an app in a
//! registry (what the spin-kube plugin prints), rendered by `spin-kube`.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use spin_kube::{DEFAULT_EXECUTOR, DEFAULT_REPLICAS, ScaffoldOptions};

/// Manifests for running apps on Kubernetes with SpinKube.
#[derive(Subcommand, Debug)]
pub enum KubeCommand {
    /// Print a `SpinApp` manifest (and a `Secret` for the runtime config).
    Scaffold(ScaffoldCommand),
}

impl KubeCommand {
    pub fn run(self) -> Result<ExitCode> {
        match self {
            KubeCommand::Scaffold(cmd) => cmd.run(),
        }
    }
}

/// Print a `SpinApp` manifest for an app pushed with `spin registry push`.
#[derive(Parser, Debug)]
pub struct ScaffoldCommand {
    /// The app's image reference, e.g. `ghcr.io/me/hello:v1`.
    #[arg(short = 'f', long = "from", value_name = "REFERENCE")]
    pub from: String,

    /// The `SpinApp`'s name (default: from the image's repository name).
    #[arg(long)]
    pub name: Option<String>,

    /// How many replicas to run.
    #[arg(short = 'r', long, default_value_t = DEFAULT_REPLICAS, conflicts_with = "autoscaling")]
    pub replicas: u32,

    /// Leave the replica count to an autoscaler (HPA or KEDA) instead.
    #[arg(long = "enable-autoscaling", id = "autoscaling")]
    pub enable_autoscaling: bool,

    /// The `SpinAppExecutor` to run the app with.
    #[arg(long, default_value = DEFAULT_EXECUTOR)]
    pub executor: String,

    /// An application variable (`name=value`; repeatable).
    #[arg(short = 'v', long = "variable", value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,

    /// A runtime config file; it goes into a `Secret` the app loads.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,

    /// A secret for pulling the image from a private registry (repeatable).
    #[arg(short = 's', long = "image-pull-secret", value_name = "NAME")]
    pub image_pull_secrets: Vec<String>,

    /// Write the manifest to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl ScaffoldCommand {
    fn run(self) -> Result<ExitCode> {
        let runtime_config = match &self.runtime_config_file {
            Some(path) => {
                // Checked here, so a typo fails now rather than in the pod.
                spin_runtime::runtime_config::RuntimeConfig::load(path)?;
                Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading `{}`", path.display()))?,
                )
            }
            None => None,
        };
        let options = ScaffoldOptions {
            image: self.from,
            name: self.name,
            replicas: (!self.enable_autoscaling).then_some(self.replicas),
            enable_autoscaling: self.enable_autoscaling,
            executor: self.executor,
            variables: self.variables,
            runtime_config,
            image_pull_secrets: self.image_pull_secrets,
        };
        let yaml = spin_kube::scaffold(&options).map_err(|e| match e.hint() {
            Some(hint) => anyhow::Error::new(spin_hint::Hinted::new(e.to_string(), hint)),
            None => anyhow::Error::new(e),
        })?;
        match &self.out {
            Some(path) => {
                std::fs::write(path, &yaml)
                    .with_context(|| format!("writing `{}`", path.display()))?;
                eprintln!("SpinApp manifest written to `{}`", path.display());
            }
            None => print!("{yaml}"),
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn parse_variable(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected name=value, got `{s}`"))
}
