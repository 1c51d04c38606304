//! The `-f/--from` argument that names the application, shared by the
//! commands that work on one.

use clap::Args;
use std::path::PathBuf;

/// Which application a command works on.
#[derive(Args, Debug, Clone)]
pub struct AppSource {
    /// The application: a manifest file, or a directory holding `spin.toml`.
    #[arg(
        short = 'f',
        long = "from",
        aliases = ["file", "from-file"],
        default_value = "spin.toml"
    )]
    pub from: PathBuf,
}
