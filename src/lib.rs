//! The `spin` command line: parses arguments and hands each subcommand to its module.

mod commands;
mod report;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Build and run serverless WebAssembly applications, Python first.
#[derive(Parser)]
#[command(name = "spin", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application: serve its HTTP components.
    #[command(alias = "u")]
    Up(Box<commands::up::UpCommand>),
    /// Check that the application is ready to build and run, and say how to fix what is not.
    Doctor(commands::doctor::DoctorCommand),
    /// Rebuild the application when its files change, and serve the new
    /// version without closing the listening socket.
    Watch(commands::watch::WatchCommand),
    /// Build the application's components by running their build commands.
    #[command(alias = "b")]
    Build(commands::build::BuildCommand),
    /// Create a new application from a template.
    #[command(alias = "n")]
    New(commands::new::NewCommand),
    /// Add a component to an existing application from a template.
    #[command(alias = "a")]
    Add(commands::new::AddCommand),
    /// Install, list and remove application templates.
    #[command(subcommand, alias = "template")]
    Templates(commands::templates::TemplatesCommand),
    /// Install, list, update and remove plugins.
    #[command(subcommand, alias = "plugin")]
    Plugins(commands::plugins::PluginsCommand),
    /// Push, pull and log in to OCI registries.
    #[command(subcommand)]
    Registry(commands::registry::RegistryCommand),
    /// Manifests for running apps on Kubernetes with SpinKube.
    #[command(subcommand)]
    Kube(commands::kube::KubeCommand),
    /// Compile a Python app into a Spin component (the `py2wasm` plugin).
    Py2wasm(commands::py2wasm::Py2wasmCommand),
    /// Run an installed plugin.
    #[command(external_subcommand)]
    External(Vec<String>),
}

/// Runs the command line and turns the outcome into an exit code: errors are
/// printed once, with their whole cause chain and one hint last (see
/// [`report`]), and exit with status 1.
pub fn main() -> ExitCode {
    // A failed request is an expected event for a server: capturing a
    // backtrace for every error (what `RUST_BACKTRACE=1` alone implies for
    // anyhow) costs more CPU than the request. Panics keep their backtraces.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: nothing else runs yet; no other thread reads the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(cmd) => cmd.run(),
        Command::Doctor(cmd) => cmd.run(),
        Command::Build(cmd) => cmd.run(),
        Command::Watch(cmd) => cmd.run(),
        Command::New(cmd) => cmd.run(),
        Command::Add(cmd) => cmd.run(),
        Command::Templates(cmd) => cmd.run(),
        Command::Plugins(cmd) => cmd.run(),
        Command::Registry(cmd) => cmd.run(),
        Command::Kube(cmd) => cmd.run(),
        Command::Py2wasm(cmd) => cmd.run(),
        Command::External(args) => commands::external::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprint!("{}", render_error(&err));
            ExitCode::FAILURE
        }
    }
}

/// An error as the CLI prints it (see [`report`]), with a final newline.
/// Secret variable values never reach the terminal, even when an error
/// quotes what was built from one.
pub(crate) fn render_error(err: &anyhow::Error) -> String {
    format!("{}\n", spin_runtime::secrets::redact(&report::render(err)))
}
