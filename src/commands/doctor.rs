//! `spin doctor`: checks that an application is ready to build and run,
//! and says how to fix what is not (issue 12).
//!
//! Each check prints one line marked `✓` (ok), `!` (warning), `✗`
//! (problem) or `-` (not checked), and each warning or problem a `hint:`
//! with the command to run or the line to change. The exit code is 1 when
//! there is a problem; warnings alone exit 0.

mod listen;
mod report;
mod services;
pub(crate) mod sources;
mod toolchain;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use spin_manifest::App;
use spin_runtime::capabilities::variables::{ApplicationVariables, VariableSources};
use spin_runtime::runtime_config::{LlmCompute, RuntimeConfig, Stores};

use report::{Finding, Report};
use services::Services;

/// The runtime config file name `spin doctor` looks for beside the manifest,
/// to point out that `spin up` does not read it unless told to.
const RUNTIME_CONFIG_BESIDE_MANIFEST: &str = "runtime-config.toml";

/// Check that an application is ready to build and run.
#[derive(Parser, Debug)]
#[command(name = "doctor")]
pub struct DoctorCommand {
    #[command(flatten)]
    pub app: super::app_source::AppSource,

    /// The address `spin up` will serve on; checked to be free.
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// The runtime config file `spin up` will be given; checked to parse,
    /// and its Redis key-value stores to answer.
    #[arg(long, env = "RUNTIME_CONFIG_FILE", value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,

    /// The registry cache `spin up` will be given, where components from a
    /// URL `source` are looked for (default: `~/.cache/spin/oci`).
    #[arg(long, env = "SPIN_REGISTRY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl DoctorCommand {
    /// Runs every check and prints the report.
    pub fn run(self) -> Result<ExitCode> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let report = runtime.block_on(self.diagnose());
        // A secret variable's value may have been expanded into an address.
        print!("{}", spin_runtime::secrets::redact(&report.render()));
        Ok(if report.has_problems() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }

    async fn diagnose(&self) -> Report {
        let mut report = Report::default();
        let mut services = Services::default();
        let (finding, app) = load_manifest(&self.app.from);
        report.push(finding);
        let (finding, runtime_config) = self.load_runtime_config(app.as_ref());
        report.extend(finding);
        if let Some(app) = &app {
            let (finding, variables) = resolve_variables(app, runtime_config.as_ref());
            report.extend(finding);
            // Labels are checked against the stores `spin up` would have:
            // unknown when the given runtime config does not load.
            let stores = match (&self.runtime_config_file, &runtime_config) {
                (Some(_), None) => None,
                (_, config) => Some(config.clone().unwrap_or_default().stores(None)),
            };
            for component in &app.components {
                report.push(sources::check(app, component, self.cache_dir.as_deref()));
                report.extend(stores.as_ref().and_then(|s| check_labels(s, component)));
                report.extend(services.add_grants(app, component, variables.as_ref()));
            }
            report.extend(services.add_redis_triggers(app, variables.as_ref()));
            report.extend(toolchain::check(app));
        }
        if let (Some(config), Some(path)) = (&runtime_config, &self.runtime_config_file) {
            report.extend(services.add_key_value_stores(config, path));
            services.add_model_service(config, path);
        }
        // Unknown when the given runtime config does not load (that is
        // reported already).
        let loaded = self.runtime_config_file.is_none() || runtime_config.is_some();
        if let (Some(app), true) = (&app, loaded) {
            let served = runtime_config
                .as_ref()
                .is_some_and(|c| matches!(c.llm_compute, LlmCompute::Remote(_)));
            report.extend(unserved_models(app, served));
        }
        report.push(listen::check(self.listen));
        report.extend(services.check().await);
        report
    }

    /// The runtime config given with `--runtime-config-file`; without one, a
    /// note when the app has a `runtime-config.toml` that `spin up` would
    /// not read.
    fn load_runtime_config(&self, app: Option<&App>) -> (Option<Finding>, Option<RuntimeConfig>) {
        const SUBJECT: &str = "runtime config";
        let Some(path) = &self.runtime_config_file else {
            let beside = app.map(|app| app.dir.join(RUNTIME_CONFIG_BESIDE_MANIFEST));
            let note = beside.filter(|path| path.is_file()).map(|path| {
                Finding::skipped(
                    SUBJECT,
                    format!(
                        "none given, so `spin up` will not read `{}`",
                        path.display()
                    ),
                )
                .hint(format!(
                    "to use it, run `spin up --runtime-config-file {}` (and pass the same flag to `spin doctor` to check it)",
                    path.display()
                ))
            });
            return (note, None);
        };
        match RuntimeConfig::load(path) {
            Ok(config) => (
                Some(Finding::ok(
                    SUBJECT,
                    format!("`{}` is valid", path.display()),
                )),
                Some(config),
            ),
            Err(error) => (
                Some(Finding::problem_with_diagnostic(
                    SUBJECT,
                    format!("`{}` is not valid", path.display()),
                    &error.to_string(),
                )),
                None,
            ),
        }
    }
}

/// Loads the manifest from `-f` (a file, or a directory holding
/// `spin.toml`). The checks that need the app are skipped when it does not
/// load.
fn load_manifest(from: &Path) -> (Finding, Option<App>) {
    const SUBJECT: &str = "manifest";
    let path = if from.is_dir() {
        from.join("spin.toml")
    } else {
        from.to_owned()
    };
    if !path.exists() {
        let finding = Finding::problem(
            SUBJECT,
            format!("no application manifest at `{}`", path.display()),
        )
        .hint(
            "run `spin doctor` in the directory holding `spin.toml`, or pass `-f <path to spin.toml or its directory>`; `spin new http-py <name>` creates a new application",
        );
        return (finding, None);
    }
    match spin_manifest::load_file(&path) {
        Ok(app) => (
            Finding::ok(
                SUBJECT,
                format!("`{}` loads ({})", path.display(), app_summary(&app)),
            ),
            Some(app),
        ),
        Err(error) => (
            Finding::problem_with_diagnostic(
                SUBJECT,
                format!(
                    "`{}` does not load; the checks that need it are skipped",
                    path.display()
                ),
                &error.to_string(),
            ),
            None,
        ),
    }
}

/// `2 components, 3 triggers`.
fn app_summary(app: &App) -> String {
    let count = |n: usize, word: &str| match n {
        1 => format!("1 {word}"),
        n => format!("{n} {word}s"),
    };
    format!(
        "{}, {}",
        count(app.components.len(), "component"),
        count(
            app.http_triggers.len() + app.redis_triggers.len(),
            "trigger"
        )
    )
}

/// Resolves the app's variables as `spin up` would (without `--variable`
/// flags): a required variable without a value stops `spin up`.
fn resolve_variables(
    app: &App,
    runtime_config: Option<&RuntimeConfig>,
) -> (Option<Finding>, Option<ApplicationVariables>) {
    const SUBJECT: &str = "variables";
    let providers = runtime_config
        .map(|c| c.variables_providers.as_slice())
        .unwrap_or_default();
    let sources = match VariableSources::from_environment(Vec::new(), &app.dir, providers) {
        Ok(sources) => sources,
        Err(error) => {
            let finding = Finding::problem_from(SUBJECT, crate::report::flatten(&error));
            return (Some(finding), None);
        }
    };
    match ApplicationVariables::resolve(app, &sources) {
        Ok(variables) => {
            let finding = match app.variables.len() {
                0 => None,
                1 => Some(Finding::ok(SUBJECT, "the variable has a value")),
                n => Some(Finding::ok(
                    SUBJECT,
                    format!("all {n} variables have values"),
                )),
            };
            (finding, Some(variables))
        }
        Err(error) => (
            Some(Finding::problem_from(
                SUBJECT,
                crate::report::flatten(&error),
            )),
            None,
        ),
    }
}

/// The key-value stores and SQLite databases a component names exist.
fn check_labels(stores: &Stores, component: &spin_manifest::Component) -> Option<Finding> {
    let mut error = spin_hint::Hinted::from(&stores.check(component).err()?);
    let subject = format!("component `{}`", component.id);
    // The line already names the component.
    if let Some(rest) = error.message.strip_prefix(&format!("{subject} ")) {
        error.message = rest.to_owned();
    }
    Some(Finding::problem_from(subject, error))
}

/// A warning for each component a trigger runs whose manifest lists
/// `ai_models` when no model service is `served`: `spin up` runs no models
/// itself, so each of its language model calls would fail.
fn unserved_models(app: &App, served: bool) -> Vec<Finding> {
    if served {
        return Vec::new();
    }
    let triggered = |id: &str| {
        app.http_triggers
            .iter()
            .any(|t| t.component.as_deref() == Some(id))
            || app.redis_triggers.iter().any(|t| t.component == id)
    };
    app.components
        .iter()
        .filter(|c| !c.ai_models.is_empty() && triggered(&c.id))
        .map(|c| {
            Finding::warning(
                format!("component `{}`", c.id),
                format!(
                    "lists `ai_models` ({}), and no model service is configured: its language model calls will fail",
                    c.ai_models.join(", ")
                ),
            )
            .hint("give `--runtime-config-file` a file with `[llm_compute]`: `type = \"remote_http\"`, `url` and `auth_token` (`api_type = \"open_ai\"` for an OpenAI-compatible service)")
        })
        .collect()
}
