//! `spin registry push/pull/login`: apps in OCI registries, in Spin's
//! artifact layout (see `spin-oci`).

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;

use spin_oci::{DownloadLimits, PushOptions, RegistryCache};

/// How large one download may be (`spin up`, `spin registry pull/push`).
#[derive(clap::Args, Debug, Clone)]
pub struct DownloadSize {
    /// The most one download may be: a layer pulled from a registry, or a
    /// component downloaded from a URL `source` (e.g. 512M, 2G).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_nonzero_size)]
    pub max_download_size: u64,
}

/// How much one archive layer may unpack to (`spin up`, `spin registry
/// pull`).
#[derive(clap::Args, Debug, Clone)]
pub struct UnpackedSize {
    /// The most one archive layer (a component's files, as Spin pushes them
    /// past 500 layers) may unpack to (e.g. 8G).
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_nonzero_size)]
    pub max_unpacked_size: u64,
}

/// A size like `512M` that is not 0 (which would refuse everything).
fn parse_nonzero_size(s: &str) -> Result<u64, String> {
    match super::up::parse_size(s)? {
        0 => Err("0 would refuse everything it bounds; give a size like 512M".to_owned()),
        size => Ok(size as u64),
    }
}

/// The limits the flags give; an archive cap not given is the default.
pub fn download_limits(download: &DownloadSize, unpacked: Option<&UnpackedSize>) -> DownloadLimits {
    let mut limits = DownloadLimits {
        max_download_bytes: download.max_download_size,
        ..DownloadLimits::default()
    };
    if let Some(unpacked) = unpacked {
        limits.max_unpacked_bytes = unpacked.max_unpacked_size;
    }
    limits
}

/// Push, pull and log in to OCI registries.
#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Push the application to a registry.
    Push(PushCommand),
    /// Pull an application from a registry into the local cache.
    Pull(PullCommand),
    /// Log in to a registry (credentials go where docker keeps them).
    Login(LoginCommand),
}

impl RegistryCommand {
    pub fn run(self) -> Result<ExitCode> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(async {
            match self {
                RegistryCommand::Push(cmd) => cmd.run().await,
                RegistryCommand::Pull(cmd) => cmd.run().await,
                RegistryCommand::Login(cmd) => cmd.run().await,
            }
        })
    }
}

/// Set (to anything) to push each component's files in one archive layer
/// however few there are, as Spin does.
const ARCHIVE_LAYERS_ENV: &str = "SPIN_OCI_ARCHIVE_LAYERS";

/// Push the application to a registry.
///
/// Each file gets a layer of its own; past 500 layers, or with
/// `SPIN_OCI_ARCHIVE_LAYERS` set, each component's files go in one archive
/// layer, as Spin pushes them.
#[derive(Parser, Debug)]
pub struct PushCommand {
    #[command(flatten)]
    pub app: super::app_source::AppSource,

    #[command(flatten)]
    pub profile: super::app_source::BuildProfile,

    /// Build the application before pushing.
    #[arg(long)]
    pub build: bool,

    /// Talk to the registry over plain HTTP and accept any certificate
    /// (for a registry on localhost).
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// The registry cache, where components downloaded from a URL `source` are kept
    /// (default: `~/.cache/spin/oci`).
    #[arg(long, env = "SPIN_REGISTRY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub download_size: DownloadSize,

    /// An annotation for the image manifest (`KEY=VALUE`; repeatable).
    #[arg(long = "annotation", value_parser = parse_annotation)]
    pub annotations: Vec<(String, String)>,

    /// Where to push: `registry/repository:tag`.
    pub reference: String,
}

impl PushCommand {
    async fn run(self) -> Result<ExitCode> {
        let manifest_path = super::up::resolve_manifest_path(&self.app.from)?;
        if self.build {
            super::build::build_manifest(&manifest_path, &[], self.profile.name())?;
        }
        let mut app = spin_manifest::load_file_for_profile(&manifest_path, self.profile.name())?;
        let limits = download_limits(&self.download_size, None);
        spin_oci::remote_source::resolve(&mut app, self.cache_dir.as_deref(), limits).await?;
        app.check_sources()?;
        if !self.build {
            super::build::warn_if_built_for_another_profile(&app, "this pushes");
        }
        let options = PushOptions {
            insecure: self.insecure,
            annotations: self.annotations.into_iter().collect::<BTreeMap<_, _>>(),
            progress: std::io::stderr().is_terminal(),
            // Spin's switch, honoured the same way: set to anything.
            archive_layers: std::env::var_os(ARCHIVE_LAYERS_ENV).is_some(),
        };
        eprintln!("Pushing app to the registry...");
        let outcome = spin_oci::push(&app, &self.reference, &options).await?;
        eprintln!(
            "Uploaded {} of {} blobs ({}); the registry had the other {}.",
            outcome.uploaded,
            outcome.uploaded + outcome.skipped,
            human_bytes(outcome.uploaded_bytes),
            outcome.skipped
        );
        if outcome.archive_layers > 0 {
            eprintln!(
                "The files went in {} archive layer(s), one per component, as Spin packs them {}.",
                outcome.archive_layers,
                if options.archive_layers {
                    format!("when {ARCHIVE_LAYERS_ENV} is set")
                } else {
                    format!("past {} layers", spin_oci::push::MAX_LAYERS)
                }
            );
        }
        println!("Pushed with digest {}", outcome.digest);
        Ok(ExitCode::SUCCESS)
    }
}

/// Pull an application from a registry into the local cache.
#[derive(Parser, Debug)]
pub struct PullCommand {
    /// Talk to the registry over plain HTTP and accept any certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// The registry cache (default: `~/.cache/spin/oci`).
    #[arg(long, env = "SPIN_REGISTRY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub download_size: DownloadSize,

    #[command(flatten)]
    pub unpacked_size: UnpackedSize,

    /// What to pull: `registry/repository:tag` or `...@sha256:<digest>`.
    pub reference: String,
}

impl PullCommand {
    async fn run(self) -> Result<ExitCode> {
        let cache = RegistryCache::user(self.cache_dir.as_deref())?;
        let progress = std::io::stderr().is_terminal();
        let limits = download_limits(&self.download_size, Some(&self.unpacked_size));
        let pulled =
            spin_oci::pull(&self.reference, self.insecure, &cache, progress, limits).await?;
        eprintln!(
            "Downloaded {} blobs; {} were already in the cache.",
            pulled.downloaded, pulled.cached
        );
        println!("Pulled {}@{}", pulled.reference, pulled.digest);
        Ok(ExitCode::SUCCESS)
    }
}

/// Log in to a registry.
#[derive(Parser, Debug)]
pub struct LoginCommand {
    /// The user name.
    #[arg(short = 'u', long)]
    pub username: String,

    /// Read the password from standard input (the only way to give it:
    /// a password on the command line would land in the shell's history).
    #[arg(long)]
    pub password_stdin: bool,

    /// Talk to the registry over plain HTTP and accept any certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// The registry, e.g. `ghcr.io` or `localhost:5000`.
    pub server: String,
}

impl LoginCommand {
    async fn run(self) -> Result<ExitCode> {
        if !self.password_stdin {
            return Err(spin_hint::Hinted::new(
                "no password given",
                "pipe it in: `echo \"$TOKEN\" | spin registry login -u <user> --password-stdin <server>`",
            )
            .into());
        }
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("reading the password from standard input")?;
        let password = password.trim_end_matches(['\n', '\r']);
        let stored =
            spin_oci::auth::login(&self.server, &self.username, password, self.insecure).await?;
        eprintln!("Credentials stored in `{}`.", stored.display());
        println!("Login succeeded");
        Ok(ExitCode::SUCCESS)
    }
}

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
