//! One `spin py2wasm` build, from options to component.

use std::fs;
use std::path::{Path, PathBuf};

use crate::deps;
use crate::diagnostics::{self, Failure};
use crate::embedded::{self, GUEST_WORLD_NAME};
use crate::entry::{ENTRY_MODULE, display_prefix, write_entry_module};
use crate::error::{Error, io_error};
use crate::fingerprint::{self, InputHasher};
use crate::toolchain::{self, COMPONENTIZE_PY_VERSION, Toolchain};

/// What to build, and with what.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The app's module name, e.g. `app` for `app.py`.
    pub module: String,
    /// Directories holding the app and its local modules, searched in order.
    pub python_path: Vec<PathBuf>,
    /// The component to write.
    pub output: PathBuf,
    /// Where `requirements.txt` or `Pipfile` is looked for.
    pub project_dir: PathBuf,
    /// Where the toolchain, the unpacked SDK and installed dependencies live.
    pub cache_dir: PathBuf,
    /// The interpreter that creates the toolchain's virtual environment.
    pub python: PathBuf,
    /// An active virtual environment whose packages the app may import.
    pub virtual_env: Option<PathBuf>,
}

impl BuildOptions {
    /// Options for building `module` found on `python_path` into `output`,
    /// with the rest taken from the environment: the current directory as
    /// the project, the user's cache directory, `SPIN_PYTHON` (else
    /// `python3`) and `VIRTUAL_ENV`.
    pub fn new(
        module: impl Into<String>,
        python_path: Vec<PathBuf>,
        output: impl Into<PathBuf>,
    ) -> Self {
        Self {
            module: module.into(),
            python_path,
            output: output.into(),
            project_dir: PathBuf::from("."),
            cache_dir: default_cache_dir(),
            python: toolchain::default_python(),
            virtual_env: std::env::var_os("VIRTUAL_ENV")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// `<user cache dir>/spin/python`, e.g. `~/.cache/spin/python` on Linux.
pub fn default_cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("spin")
        .join("python")
}

/// A step that may take a while, reported so a caller can show progress.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// componentize-py is being installed (first use only).
    InstallingToolchain,
    /// The app's dependencies are being installed from this file.
    InstallingDependencies(PathBuf),
    /// componentize-py is compiling the app.
    Componentizing,
}

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The output was built from the same inputs already; nothing was done.
    UpToDate,
    /// The component was written; it is this many bytes long.
    Built(u64),
}

/// Builds the component described by `options`, unless the output already
/// matches its inputs. `progress` hears about each slow step as it starts.
pub fn build(options: &BuildOptions, progress: &mut dyn FnMut(Stage)) -> Result<Outcome, Error> {
    let inputs = Inputs::gather(options)?;
    let hash = inputs.hash(options)?;
    if fingerprint::is_current(&options.output, &hash) {
        return Ok(Outcome::UpToDate);
    }

    let Prepared {
        toolchain,
        deps_dir,
        unpacked,
    } = prepare(options, &inputs, progress)?;

    progress(Stage::Componentizing);
    let Workspace {
        work,
        entry_dir,
        project,
        mut mounts,
    } = Workspace::new(options, &unpacked)?;
    mounts.extend(
        inputs
            .python_path
            .iter()
            .map(|dir| (dir.clone(), display_prefix(dir, &project))),
    );
    mounts.extend(
        deps_dir
            .into_iter()
            .chain(inputs.site_packages)
            .map(|dir| (dir, "site-packages/".to_owned())),
    );
    write_entry_module(&entry_dir, &options.module, &mounts)?;
    let mounts: Vec<PathBuf> = mounts.into_iter().map(|(dir, _)| dir).collect();

    let staged = staging_file(&options.output)?;
    componentize(
        &toolchain,
        &unpacked.wit,
        &mounts,
        work.path(),
        staged.path(),
    )?;
    fingerprint::record(staged.path(), &hash)?;
    let bytes = staged
        .as_file()
        .metadata()
        .map_err(io_error("read", staged.path()))?
        .len();
    staged.persist(&options.output).map_err(|e| Error::Io {
        action: "write",
        path: options.output.clone(),
        source: e.error,
    })?;
    Ok(Outcome::Built(bytes))
}

/// A build's scratch directory and the start of its python path.
pub(crate) struct Workspace {
    pub(crate) work: tempfile::TempDir,
    /// Where the entry module is written.
    pub(crate) entry_dir: PathBuf,
    /// The project directory, absolute.
    pub(crate) project: PathBuf,
    /// componentize-py mounts these at `/0`, `/1`, ... in this order; each
    /// is paired with the name runtime tracebacks show for it. They start
    /// with the entry module and the SDK.
    pub(crate) mounts: Vec<(PathBuf, String)>,
}

impl Workspace {
    pub(crate) fn new(
        options: &BuildOptions,
        unpacked: &embedded::Unpacked,
    ) -> Result<Self, Error> {
        let work = tempfile::tempdir().map_err(io_error("create", std::env::temp_dir()))?;
        let entry_dir = work.path().join("entry");
        let project = std::path::absolute(&options.project_dir)
            .map_err(io_error("resolve", &options.project_dir))?;
        let mounts = vec![
            (entry_dir.clone(), String::new()),
            (unpacked.sdk.clone(), "spin-sdk/".to_owned()),
        ];
        Ok(Self {
            work,
            entry_dir,
            project,
            mounts,
        })
    }
}

/// The toolchain, the app's installed dependencies and the unpacked SDK.
pub(crate) struct Prepared {
    pub(crate) toolchain: Toolchain,
    pub(crate) deps_dir: Option<PathBuf>,
    pub(crate) unpacked: embedded::Unpacked,
}

/// Installs what a build runs with, where it is missing.
pub(crate) fn prepare(
    options: &BuildOptions,
    inputs: &Inputs,
    progress: &mut dyn FnMut(Stage),
) -> Result<Prepared, Error> {
    let toolchain = match Toolchain::find(&options.cache_dir) {
        Some(toolchain) => toolchain,
        None => {
            progress(Stage::InstallingToolchain);
            Toolchain::install(&options.cache_dir, &options.python)?
        }
    };
    let deps_dir = match &inputs.declared {
        Some(declared) => {
            if !declared.dir_in(&options.cache_dir).is_dir() {
                progress(Stage::InstallingDependencies(declared.file.clone()));
            }
            Some(declared.install(&options.cache_dir, &toolchain)?)
        }
        None => None,
    };
    let unpacked = embedded::unpack(&options.cache_dir)?;
    Ok(Prepared {
        toolchain,
        deps_dir,
        unpacked,
    })
}

/// What a build reads, resolved and checked before anything runs.
pub(crate) struct Inputs {
    pub(crate) python_path: Vec<PathBuf>,
    pub(crate) declared: Option<deps::Declared>,
    pub(crate) site_packages: Option<PathBuf>,
}

impl Inputs {
    pub(crate) fn gather(options: &BuildOptions) -> Result<Self, Error> {
        validate_module_name(&options.module)?;
        let python_path = options
            .python_path
            .iter()
            .map(|path| std::path::absolute(path).map_err(io_error("resolve", path)))
            .collect::<Result<Vec<_>, _>>()?;
        let declared = deps::declared(&options.project_dir)?;
        let site_packages = options.virtual_env.as_deref().and_then(deps::site_packages);
        // Declared dependencies are not installed yet, so a module that only
        // they could provide cannot be looked for here.
        let searched: Vec<PathBuf> = python_path.iter().chain(&site_packages).cloned().collect();
        if declared.is_none()
            && !searched
                .iter()
                .any(|dir| module_exists(dir, &options.module))
        {
            return Err(Error::ModuleNotFound {
                module: options.module.clone(),
                searched,
            });
        }
        Ok(Self {
            python_path,
            declared,
            site_packages,
        })
    }

    /// Everything the component depends on. The toolchain itself enters only
    /// through its version: it is pinned, so its files cannot vary.
    fn hash(&self, options: &BuildOptions) -> Result<String, Error> {
        let mut hasher = self.hasher(options)?;
        for dir in &self.python_path {
            hasher.tree("python-path", dir)?;
        }
        Ok(hasher.finish())
    }

    /// A hasher holding every input but the app's own sources: the
    /// toolchain and SDK versions, the module and the dependencies.
    pub(crate) fn hasher(&self, options: &BuildOptions) -> Result<InputHasher, Error> {
        let mut hasher = InputHasher::new();
        hasher.value("py2wasm", env!("CARGO_PKG_VERSION").as_bytes());
        hasher.value("componentize-py", COMPONENTIZE_PY_VERSION.as_bytes());
        hasher.value("sdk", embedded::fingerprint().as_bytes());
        hasher.value("module", options.module.as_bytes());
        let key = self
            .declared
            .as_ref()
            .map(|d| d.key.as_bytes())
            .unwrap_or_default();
        hasher.value("dependencies", key);
        if let Some(site_packages) = &self.site_packages {
            hasher.tree("virtual-env", site_packages)?;
        }
        Ok(hasher)
    }
}

/// A temporary file beside `output`, renamed over it once the build has
/// succeeded, so a failed build leaves the previous component in place.
pub(crate) fn staging_file(output: &Path) -> Result<tempfile::NamedTempFile, Error> {
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
    tempfile::Builder::new()
        .prefix(".py2wasm-")
        .suffix(".wasm")
        .tempfile_in(&dir)
        .map_err(io_error("create a file in", &dir))
}

/// Runs componentize-py on the entry module with `mounts` as the python path,
/// writing the component to `output`.
pub(crate) fn componentize(
    toolchain: &Toolchain,
    wit: &Path,
    mounts: &[PathBuf],
    work: &Path,
    output: &Path,
) -> Result<(), Error> {
    // componentize-py adds `$VIRTUAL_ENV`'s packages (or, failing that, the
    // system's) to the path by itself. An empty environment keeps it from
    // picking up anything but the mounts.
    let no_venv = work.join("no-venv");
    let empty_site = no_venv.join("lib").join("site-packages");
    fs::create_dir_all(&empty_site).map_err(io_error("create", &empty_site))?;

    let mut command = toolchain.componentize_py();
    command
        .arg("--quiet")
        .arg("--wit-path")
        .arg(wit)
        .args(["--world", GUEST_WORLD_NAME, "componentize", ENTRY_MODULE])
        .arg("--output")
        .arg(output)
        .env("VIRTUAL_ENV", &no_venv)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME");
    for mount in mounts {
        command.arg("--python-path").arg(mount);
    }
    let result = toolchain::run(&mut command, &toolchain.python())?;
    if result.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&result.stderr);
    Err(match diagnostics::interpret(&stderr, mounts) {
        Failure::Python(failure) => Error::Python(failure),
        Failure::Other(output) => Error::ComponentizeFailed {
            version: COMPONENTIZE_PY_VERSION,
            output,
            toolchain: toolchain.dir().to_owned(),
        },
    })
}

/// Accepts dotted Python identifiers (ASCII), e.g. `app` or `pkg.app`, but
/// not `app.py`: that is a file name given where the module name belongs.
fn validate_module_name(module: &str) -> Result<(), Error> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
    };
    if module.split('.').all(identifier) && !module.ends_with(".py") {
        Ok(())
    } else {
        Err(Error::InvalidModuleName {
            module: module.to_owned(),
        })
    }
}

/// Whether `dir` holds `module` as a file, a package or a namespace package.
fn module_exists(dir: &Path, module: &str) -> bool {
    let base = module
        .split('.')
        .fold(dir.to_owned(), |path, part| path.join(part));
    base.with_extension("py").is_file() || base.is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_are_dotted_identifiers() {
        for good in ["app", "_private", "pkg.app", "app2"] {
            assert!(validate_module_name(good).is_ok(), "{good}");
        }
        for bad in ["", "app.py", "2app", "my-app", "pkg..app", "a b"] {
            assert!(
                matches!(
                    validate_module_name(bad),
                    Err(Error::InvalidModuleName { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn modules_are_found_as_files_and_packages() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("app.py"), "").unwrap();
        fs::create_dir_all(dir.path().join("pkg/sub")).unwrap();
        assert!(module_exists(dir.path(), "app"));
        assert!(module_exists(dir.path(), "pkg"));
        assert!(module_exists(dir.path(), "pkg.sub"));
        assert!(!module_exists(dir.path(), "other"));
    }

    #[test]
    fn missing_module_is_reported_before_any_tool_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = BuildOptions::new(
            "app",
            vec![dir.path().to_owned()],
            dir.path().join("app.wasm"),
        );
        options.project_dir = dir.path().to_owned();
        options.cache_dir = dir.path().join("cache");
        options.virtual_env = None;
        let mut stages = Vec::new();
        let error = build(&options, &mut |stage| stages.push(stage)).unwrap_err();
        assert!(matches!(error, Error::ModuleNotFound { .. }), "{error}");
        assert!(stages.is_empty());
        assert!(!options.cache_dir.exists());
    }
}
