//! `spin py2wasm`: compile a Python app into a Spin component (the 2023
//! `py2wasm` plugin, built in).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use spin_python_toolchain::{BuildOptions, COMPONENTIZE_PY_VERSION, Outcome, Stage, build};

/// Compile a Python app into a Spin component.
#[derive(clap::Args, Debug)]
pub struct Py2wasmCommand {
    /// The app's module name: `app` for `app.py`. It must define `handle_request(request)`.
    #[arg(value_name = "APP_NAME")]
    pub app_name: String,

    /// A directory holding the app and its local modules (repeatable; searched in order).
    #[arg(
        short = 'p',
        long = "python-path",
        value_name = "PATH",
        default_value = "."
    )]
    pub python_path: Vec<PathBuf>,

    /// The component file to write.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "index.wasm"
    )]
    pub output: PathBuf,
}

impl Py2wasmCommand {
    /// Builds the component, showing a spinner while slow steps run.
    pub fn run(self) -> Result<ExitCode> {
        let options = BuildOptions::new(self.app_name, self.python_path, &self.output);
        let started = Instant::now();
        let spinner = Spinner::default();
        let outcome = build(&options, &mut |stage| spinner.show(&stage, &options));
        spinner.finish();
        match outcome? {
            Outcome::UpToDate => eprintln!("`{}` is up to date", self.output.display()),
            Outcome::Built(bytes) => eprintln!(
                "Built `{}` ({:.1} MB) in {:.1}s",
                self.output.display(),
                bytes as f64 / 1_000_000.0,
                started.elapsed().as_secs_f64()
            ),
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// A spinner on stderr that appears only once a slow step starts, so a no-op
/// build prints one line and nothing else. indicatif hides it when stderr is
/// not a terminal.
#[derive(Default)]
struct Spinner(std::cell::OnceCell<ProgressBar>);

impl Spinner {
    fn show(&self, stage: &Stage, options: &BuildOptions) {
        let message = match stage {
            Stage::InstallingToolchain => {
                format!("Installing componentize-py {COMPONENTIZE_PY_VERSION} (first use only)")
            }
            Stage::InstallingDependencies(file) => {
                format!("Installing dependencies from `{}`", file.display())
            }
            Stage::Componentizing => format!("Compiling `{}` with componentize-py", options.module),
            _ => "Working".to_owned(),
        };
        let bar = self.0.get_or_init(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        bar.set_message(message);
    }

    fn finish(&self) {
        if let Some(bar) = self.0.get() {
            bar.finish_and_clear();
        }
    }
}
