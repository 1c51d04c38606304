//! Spin application templates.
//!
//! A template is a `metadata/spin-template.toml` manifest plus `content/`
//! files rendered with `{{ parameter | filter }}` substitutions, and
//! optional `metadata/snippets/` that `spin add` appends to an existing
//! manifest. The layout and manifest format are Spin's, so templates
//! written for Spin 1.x install unchanged.
//!
//! Some templates (`http-py`, `http-empty`) are compiled into the binary, so
//! `spin new` works offline and without installing anything. More can be
//! installed from Git repositories or directories into a store directory;
//! [`TemplateManager`] manages that store. Installing from a first-party
//! repository that cannot be reached falls back to the built-in copies of
//! its templates.
//!
//! ```no_run
//! use spin_templates::{Operation, RunOptions, TemplateManager};
//!
//! let manager = TemplateManager::new("/home/me/.local/share/spin/templates");
//! let template = manager.get("http-py")?.expect("built in");
//! template.run(
//!     &RunOptions {
//!         operation: Operation::NewApplication,
//!         name: "hello-world".into(),
//!         output_path: "hello-world".into(),
//!         values: Default::default(),
//!         accept_defaults: true,
//!         no_vcs: false,
//!         allow_overwrite: false,
//!     },
//!     None,
//! )?;
//! # Ok::<(), spin_templates::Error>(())
//! ```

#![deny(missing_docs)]

mod authors;
mod builtin;
mod manifest;
mod render;
mod run;
mod source;
mod store;
mod template;

use std::path::PathBuf;

pub use render::RenderError;
pub use run::{Interaction, Operation, RunOptions, RunOutcome};
pub use source::{InstallEvent, TemplateSource};
pub use store::{InstallResults, ListResults, SkippedReason, TemplateManager};
pub use template::{Origin, Parameter, Template};

/// Everything that can go wrong with templates. Each error has a
/// [`hint`](Error::hint) saying what to do, kept out of its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No installed or built-in template has this ID.
    #[error("Template '{0}' not found")]
    NotFound(String),
    /// A template's files are unusable.
    #[error("Template {template} is invalid: {reason}")]
    InvalidTemplate {
        /// The template's ID, or its directory name if the ID is unknown.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// `git clone` failed.
    #[error("Failed to clone Git repository {url}: {message}")]
    GitClone {
        /// The repository.
        url: String,
        /// Git's error output.
        message: String,
    },
    /// The `git` program is missing.
    #[error("`git` is not installed or not on PATH")]
    GitNotFound,
    /// An install source directory that does not exist.
    #[error("Directory {} does not exist", .0.display())]
    SourceNotFound(PathBuf),
    /// A source with neither a `templates/` folder nor a template manifest.
    #[error(
        "{0} contains no templates: expected a `templates` directory with one folder per template, or a template's `metadata/spin-template.toml`"
    )]
    NoTemplates(String),
    /// `uninstall` of a template that is only built in.
    #[error("Template '{0}' is built into spin and cannot be uninstalled")]
    BuiltIn(String),
    /// `uninstall` of a template that is not installed.
    #[error("Template '{0}' is not installed")]
    NotInstalled(String),
    /// The template has no variant for this command.
    #[error("Template {template} cannot be used with `spin {command}`")]
    UnsupportedOperation {
        /// The template.
        template: String,
        /// `new` or `add`.
        command: &'static str,
    },
    /// `spin add` with a manifest path that does not exist.
    #[error(
        "Can't add a component to {}: the file does not exist", .0.display()
    )]
    ManifestNotFound(PathBuf),
    /// A component snippet for one manifest version and a manifest of another.
    #[error(
        "Template {template} makes version {template_format} manifests, but {} is version {manifest_format}", .manifest.display()
    )]
    ManifestFormatMismatch {
        /// The template.
        template: String,
        /// Manifest version of the template's own `spin.toml`.
        template_format: u32,
        /// The application's manifest.
        manifest: PathBuf,
        /// Its manifest version.
        manifest_format: u32,
    },
    /// The output directory has files and overwriting was not allowed.
    #[error(
        "Can't generate into {} as it already contains other files", .0.display()
    )]
    DirectoryNotEmpty(PathBuf),
    /// Values given with `--value`/`--values-file` that the template rejects.
    #[error(
        "Invalid value(s) for template {template}:\n{}", bullets(.problems)
    )]
    InvalidValues {
        /// One sentence per bad value.
        problems: Vec<String>,
        /// The template.
        template: String,
        /// Its parameter names.
        parameters: Vec<String>,
    },
    /// Parameters without a value, a default or a terminal to ask on.
    #[error(
        "Template {template} needs a value for {}", missing.join(", ")
    )]
    MissingValues {
        /// The template.
        template: String,
        /// Parameters that have no value.
        missing: Vec<String>,
    },
    /// A template file failed to render.
    #[error("Can't render {file} of template {template}: {error}")]
    Render {
        /// The template.
        template: String,
        /// The file, relative to the template's root.
        file: String,
        /// What went wrong.
        error: RenderError,
    },
    /// A snippet kind this crate does not apply.
    #[error("Template {template} has a '{kind}' snippet, which this version of spin cannot apply")]
    UnsupportedSnippet {
        /// The template.
        template: String,
        /// The snippet kind.
        kind: String,
    },
    /// Reading an answer from the terminal failed.
    #[error("Could not read an answer from the terminal: {0}")]
    Prompt(std::io::Error),
    /// A file or directory could not be read or written.
    #[error("{}: {error}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

impl Error {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::NotFound(_) => "run `spin templates list` to see the available templates, or `spin templates install` to add more".into(),
            Self::InvalidTemplate { .. } => "fix the template or install another version of it".into(),
            Self::GitClone { .. } => "check the URL and that this machine can reach it (`git clone` it by hand to see why not); to install from a local copy, use `spin templates install --dir PATH`".into(),
            Self::GitNotFound => "install Git, or install templates from a local directory with `spin templates install --dir PATH`".into(),
            Self::SourceNotFound(_) => "check the path given to `--dir`".into(),
            Self::NoTemplates(_) => "check the repository or directory".into(),
            Self::BuiltIn(_) => "nothing to do: built-in templates take no space and are always available".into(),
            Self::NotInstalled(_) => "run `spin templates list --verbose` to see installed templates".into(),
            Self::UnsupportedOperation { .. } => "run `spin templates list` and choose another template".into(),
            Self::ManifestNotFound(_) => "pass the application's manifest with `-f`, or create an application with `spin new`".into(),
            Self::ManifestFormatMismatch { manifest_format, .. } => format!("choose a template that makes version {manifest_format} manifests"),
            Self::DirectoryNotEmpty(_) => "choose another name or `--output` directory, or pass `--allow-overwrite`".into(),
            Self::InvalidValues { parameters, .. } => format!("the template's parameters are: {}", parameters.join(", ")),
            Self::MissingValues { missing, .. } => format!("pass {}, or run in a terminal to be asked", value_flags(missing)),
            Self::Render { .. } => "the template is broken; fix it or report it to its author".into(),
            Self::UnsupportedSnippet { .. } => "add the component to the manifest by hand, or use another template".into(),
            Self::Prompt(_) => "pass values with `--value NAME=VALUE` instead".into(),
            Self::Io { .. } => "check that the path exists and is writable".into(),
        }
    }
}

/// The message with its hint kept apart, for the CLI to print last.
impl From<&Error> for spin_hint::Hinted {
    fn from(error: &Error) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint())
    }
}

fn bullets(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("- {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn value_flags(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`--value {n}=VALUE`"))
        .collect::<Vec<_>>()
        .join(" and ")
}
