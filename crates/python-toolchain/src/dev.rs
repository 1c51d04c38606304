//! The Python edit loop of `spin watch`: a component that holds the
//! interpreter and the SDK, pre-initialised, but not the app, which each
//! instance imports from sources the host mounts (`sdk/spin_py2wasm/dev.py`).
//!
//! It is built once per set of dependencies and cached, so an edit to the
//! app's Python files costs a copy of those files and a restart from the
//! already compiled component, instead of a componentize-py run (seconds)
//! and a compile of a new 30 MB component (seconds more).

use std::fs;
use std::path::{Path, PathBuf};

use crate::componentize::{
    BuildOptions, Inputs, Prepared, Stage, Workspace, componentize, prepare, staging_file,
};
use crate::entry::{display_prefix, write_dev_entry_module};
use crate::error::{Error, io_error};
use crate::toolchain::COMPONENTIZE_PY_VERSION;

/// Changes whenever what a dev component expects of its mounts does.
const DEV_LAYOUT_VERSION: &str = "1";

/// The most Python files one snapshot of an app's sources may hold.
pub const MAX_SOURCE_FILES: usize = 10_000;

/// The most bytes one snapshot of an app's sources may hold.
pub const MAX_SOURCE_BYTES: u64 = 256 << 20;

/// A dev component and what it must find mounted when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevComponent {
    /// The component file (in the cache).
    pub wasm: PathBuf,
    /// The directories to mount read-only, by guest path.
    pub mounts: Vec<DevMount>,
}

/// One read-only mount of a dev component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevMount {
    /// Where the guest finds it, e.g. `/2`.
    pub guest: String,
    /// What is mounted there.
    pub source: DevSource,
}

/// What a dev mount holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevSource {
    /// The Python files of the build's `python_path[index]`, as copied by
    /// [`snapshot_sources`] at each edit.
    Sources(usize),
    /// This directory, as it is (the standard library, installed
    /// dependencies).
    Dir(PathBuf),
}

/// Builds the dev component for `options` (its `output` is ignored), unless
/// the cache holds one for the same SDK, toolchain, module, dependencies and
/// number of python-path entries. The app's sources are not an input.
pub fn build_dev(
    options: &BuildOptions,
    progress: &mut dyn FnMut(Stage),
) -> Result<DevComponent, Error> {
    let inputs = Inputs::gather(options)?;
    let dev_dir = options.cache_dir.join("dev");
    let wasm = dev_dir.join(format!("{}.wasm", &key(options, &inputs)?[..32]));
    let stdlib = dev_dir.join(format!("stdlib-{COMPONENTIZE_PY_VERSION}"));
    let Prepared {
        toolchain,
        deps_dir,
        unpacked,
    } = prepare(options, &inputs, progress)?;

    // componentize-py mounts the python path at `/0`, `/1`, ... in order:
    // the entry module, the SDK, one empty stand-in per app directory (the
    // app is mounted there when the component runs), the dependencies, and
    // last, when the standard library has not been exported yet, where to
    // export it.
    let mut runtime = vec![DevMount {
        guest: "/python".to_owned(),
        source: DevSource::Dir(stdlib.clone()),
    }];
    let base = 2;
    for index in 0..inputs.python_path.len() {
        runtime.push(DevMount {
            guest: format!("/{}", base + index),
            source: DevSource::Sources(index),
        });
    }
    let installed: Vec<PathBuf> = deps_dir.into_iter().chain(inputs.site_packages).collect();
    for (offset, dir) in installed.iter().enumerate() {
        runtime.push(DevMount {
            guest: format!("/{}", base + inputs.python_path.len() + offset),
            source: DevSource::Dir(dir.clone()),
        });
    }
    if wasm.is_file() && stdlib.join(".complete").is_file() {
        return Ok(DevComponent {
            wasm,
            mounts: runtime,
        });
    }

    progress(Stage::Componentizing);
    fs::create_dir_all(&dev_dir).map_err(io_error("create", &dev_dir))?;
    let Workspace {
        work,
        entry_dir,
        project,
        mut mounts,
    } = Workspace::new(options, &unpacked)?;
    for (index, dir) in inputs.python_path.iter().enumerate() {
        let stand_in = work.path().join("app").join(index.to_string());
        fs::create_dir_all(&stand_in).map_err(io_error("create", &stand_in))?;
        mounts.push((stand_in, display_prefix(dir, &project)));
    }
    mounts.extend(
        installed
            .iter()
            .map(|dir| (dir.clone(), "site-packages/".to_owned())),
    );
    let export = if stdlib.join(".complete").is_file() {
        None
    } else {
        let staging =
            tempfile::tempdir_in(&dev_dir).map_err(io_error("create a directory in", &dev_dir))?;
        let guest = format!("/{}", mounts.len());
        mounts.push((staging.path().to_owned(), "python/".to_owned()));
        Some((staging, guest))
    };
    write_dev_entry_module(
        &entry_dir,
        &options.module,
        &mounts,
        export.as_ref().map(|(_, guest)| guest.as_str()),
    )?;
    let dirs: Vec<PathBuf> = mounts.into_iter().map(|(dir, _)| dir).collect();
    let staged = staging_file(&wasm)?;
    componentize(&toolchain, &unpacked.wit, &dirs, work.path(), staged.path())?;
    if let Some((staging, _)) = export {
        let staged_stdlib = staging.keep();
        // Another build may have exported the same library meanwhile.
        if fs::rename(&staged_stdlib, &stdlib).is_err() {
            let _ = fs::remove_dir_all(&staged_stdlib);
        }
    }
    staged.persist(&wasm).map_err(|e| Error::Io {
        action: "write",
        path: wasm.clone(),
        source: e.error,
    })?;
    Ok(DevComponent {
        wasm,
        mounts: runtime,
    })
}

/// What a dev component depends on: everything a build does except the
/// app's own sources.
fn key(options: &BuildOptions, inputs: &Inputs) -> Result<String, Error> {
    let mut hasher = inputs.hasher(options)?;
    hasher.value("dev-layout", DEV_LAYOUT_VERSION.as_bytes());
    for dir in &inputs.python_path {
        hasher.value("python-path", dir.as_os_str().as_encoded_bytes());
    }
    Ok(hasher.finish())
}

/// Whether the directory `dir` is one whose files are not the app's own
/// sources: hidden (`.git`, `.spin`, `.venv`), bytecode caches, installed
/// packages, build output, or a virtual environment by any name. `spin
/// watch` neither watches nor copies what is below it.
pub fn holds_no_app_sources(dir: &Path) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.starts_with('.')
        || matches!(
            name.as_ref(),
            "__pycache__" | "node_modules" | "target" | "site-packages"
        )
        || dir.join("pyvenv.cfg").is_file()
}

/// Copies the Python files of each of `python_path` into `dest/<index>`,
/// so that a running version keeps reading the sources it started with
/// while the next edit is made. Directories that [hold no app
/// sources](holds_no_app_sources) are skipped, and so are symbolic links:
/// a snapshot holds only files that are inside the python path.
/// Returns the copies' directories, in order.
pub fn snapshot_sources(python_path: &[PathBuf], dest: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut budget = Budget::default();
    python_path
        .iter()
        .enumerate()
        .map(|(index, dir)| {
            let target = dest.join(index.to_string());
            fs::create_dir_all(&target).map_err(io_error("create", &target))?;
            copy_python_files(dir, &target, &mut budget)?;
            Ok(target)
        })
        .collect()
}

#[derive(Default)]
struct Budget {
    files: usize,
    bytes: u64,
}

fn copy_python_files(from: &Path, to: &Path, budget: &mut Budget) -> Result<(), Error> {
    let Ok(entries) = fs::read_dir(from) else {
        // A python-path entry that does not exist holds nothing, as in a build.
        return Ok(());
    };
    for entry in entries {
        let entry = entry.map_err(io_error("read", from))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type().map_err(io_error("read", &path))?;
        if kind.is_dir() {
            if holds_no_app_sources(&path) {
                continue;
            }
            copy_python_files(&path, &to.join(&*name), budget)?;
        } else if kind.is_file() && name.ends_with(".py") {
            let size = entry.metadata().map_err(io_error("read", &path))?.len();
            budget.files += 1;
            budget.bytes += size;
            if budget.files > MAX_SOURCE_FILES || budget.bytes > MAX_SOURCE_BYTES {
                return Err(Error::Io {
                    action: "copy",
                    path: path.clone(),
                    source: std::io::Error::other(format!(
                        "the app's python path holds more than {MAX_SOURCE_FILES} Python files or {} MB; pass only the app's own directories with `-p`",
                        MAX_SOURCE_BYTES >> 20
                    )),
                });
            }
            fs::create_dir_all(to).map_err(io_error("create", to))?;
            let target = to.join(&*name);
            fs::copy(&path, &target).map_err(io_error("copy", &path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_hold_python_files_only_and_skip_environments() {
        let app = tempfile::tempdir().unwrap();
        let root = app.path();
        for (path, text) in [
            ("app.py", "x = 1"),
            ("pkg/mod.py", "y = 2"),
            ("pkg/data.json", "{}"),
            (".venv/lib/site.py", ""),
            ("env/pyvenv.cfg", ""),
            ("env/lib/x.py", ""),
            ("__pycache__/app.cpython-312.pyc", ""),
            ("node_modules/a.py", ""),
        ] {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let dest = tempfile::tempdir().unwrap();
        let copies =
            snapshot_sources(&[root.to_owned(), root.join("missing")], dest.path()).unwrap();
        assert_eq!(copies, [dest.path().join("0"), dest.path().join("1")]);
        let mut found: Vec<String> = walk(&copies[0])
            .into_iter()
            .map(|p| {
                p.strip_prefix(&copies[0])
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        found.sort();
        assert_eq!(found, ["app.py", "pkg/mod.py"]);
        assert_eq!(
            fs::read_to_string(copies[0].join("app.py")).unwrap(),
            "x = 1"
        );
        assert!(walk(&copies[1]).is_empty());
    }

    #[test]
    fn snapshots_do_not_follow_symbolic_links() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.py"), "token = 1").unwrap();
        let app = tempfile::tempdir().unwrap();
        fs::write(app.path().join("app.py"), "").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.py"), app.path().join("link.py"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), app.path().join("linked_dir")).unwrap();
        let dest = tempfile::tempdir().unwrap();
        let copies = snapshot_sources(&[app.path().to_owned()], dest.path()).unwrap();
        assert_eq!(walk(&copies[0]), [copies[0].join("app.py")]);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }
}
