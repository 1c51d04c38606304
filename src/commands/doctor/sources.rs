//! Component sources: the Wasm file exists, and was built after the files
//! it is built from last changed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use spin_manifest::{App, Component, ComponentSource};

use super::report::Finding;

/// The files a Python build reads when the manifest lists no `watch`
/// globs: the app's modules and its declared dependencies (what `spin
/// py2wasm` hashes to decide whether to rebuild).
const PYTHON_WATCH: &[&str] = &["**/*.py", "requirements.txt", "Pipfile"];

/// How deep watched files are looked for below the component's directory.
const MAX_DEPTH: usize = 16;

/// Checks one component's source; one from a URL is looked for in the
/// registry cache at `cache_dir` (the user's by default).
pub fn check(app: &App, component: &Component, cache_dir: Option<&Path>) -> Finding {
    let subject = format!("component `{}`", component.id);
    let path = match &component.source.value {
        ComponentSource::Local(path) => path,
        ComponentSource::Remote { url, digest } => {
            // Where `spin up` keeps it.
            let blob =
                spin_oci::RegistryCache::user(cache_dir).and_then(|cache| cache.blob_path(digest));
            return match blob {
                Err(e) => Finding::problem(subject, format!("source from `{url}`: {e:#}")).hint(
                    "a digest is `sha256:` and the 64 lowercase hex digits of the file's SHA-256",
                ),
                Ok(blob) if blob.is_file() => Finding::ok(
                    subject,
                    format!("source from `{url}` is in the registry cache"),
                ),
                Ok(_) => Finding::skipped(
                    subject,
                    format!("source from `{url}` is not downloaded yet; `spin up` downloads it"),
                ),
            };
        }
    };
    let full = app.dir.join(path);
    let Some(built) = modified(&full) else {
        return missing(app, component, path, subject);
    };
    if !spin_runtime::component_cache::is_wasm_file(&full) {
        return Finding::problem(
            subject,
            format!("source `{}` is not a WebAssembly file", path.display()),
        )
        .hint(build_hint(app, component));
    }
    let watched = watched_files(app, component, &full);
    match stale_by(built, &watched) {
        None => Finding::ok(
            subject,
            match watched.len() {
                0 => format!("source `{}` exists", path.display()),
                n => format!(
                    "source `{}` is newer than its {n} watched file{}",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                ),
            },
        ),
        Some(stale) => {
            let newest = shown(&stale.newest, &app.dir);
            let others = match stale.count {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            Finding::warning(
                subject,
                format!(
                    "stale: `{newest}`{others} changed after `{}` was built",
                    path.display()
                ),
            )
            .hint(build_hint(app, component))
        }
    }
}

/// A source file that does not exist.
fn missing(app: &App, component: &Component, path: &Path, subject: String) -> Finding {
    let message = format!("source `{}` does not exist", path.display());
    let hint = match &component.build {
        Some(_) => build_hint(app, component),
        None => format!(
            "the component has no build command: fix `source` at {}:{} (it is relative to the manifest's directory), or add a `[component.{}.build]` table with the `command` that produces it",
            file_name(&app.path),
            component.source.location.line,
            component.id
        ),
    };
    Finding::problem(subject, message).hint(hint)
}

/// `run `spin build``, naming the component when there are several and the
/// command it runs.
fn build_hint(app: &App, component: &Component) -> String {
    let command = match app.components.len() {
        1 => "spin build".to_owned(),
        _ => format!("spin build -c {}", component.id),
    };
    match &component.build {
        Some(build) => format!("run `{command}` (it runs `{}`)", build.command),
        None => format!("rebuild `{}`", component.id),
    }
}

/// The watched files that changed after the source was built.
#[derive(Debug, PartialEq, Eq)]
pub struct Stale {
    /// The one changed last.
    pub newest: PathBuf,
    /// How many changed after the build.
    pub count: usize,
}

/// Which of `watched` (with their modification times) changed after
/// `built`, if any did.
pub fn stale_by(built: SystemTime, watched: &[(PathBuf, SystemTime)]) -> Option<Stale> {
    let newer: Vec<&(PathBuf, SystemTime)> = watched.iter().filter(|(_, t)| *t > built).collect();
    let (newest, _) = newer.iter().max_by_key(|(_, t)| *t)?;
    Some(Stale {
        newest: newest.clone(),
        count: newer.len(),
    })
}

/// The globs a component's source is built from: its `[component.build]
/// watch` list, else, for a Python build, the app's modules and
/// dependency files; none for other components.
pub fn watch_patterns(component: &Component) -> Vec<String> {
    let Some(build) = &component.build else {
        return Vec::new();
    };
    if !build.watch.is_empty() {
        return build.watch.clone();
    }
    if super::toolchain::is_python_build(&build.command) {
        return PYTHON_WATCH.iter().map(|p| (*p).to_owned()).collect();
    }
    Vec::new()
}

/// The files matching the component's watch globs, relative to its build
/// `workdir` (as `spin watch` reads them), with their modification times.
/// The source itself is left out.
pub(crate) fn watched_files(
    app: &App,
    component: &Component,
    source: &Path,
) -> Vec<(PathBuf, SystemTime)> {
    let patterns = watch_patterns(component);
    let Some(globs) = glob_set(&patterns) else {
        return Vec::new();
    };
    let base = match component.build.as_ref().and_then(|b| b.workdir.as_ref()) {
        Some(workdir) => app.dir.join(workdir),
        None => app.dir.clone(),
    };
    walkdir::WalkDir::new(&base)
        .max_depth(MAX_DEPTH)
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry))
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && entry.path() != source)
        .filter(|entry| {
            entry
                .path()
                .strip_prefix(&base)
                .is_ok_and(|rel| globs.is_match(rel))
        })
        .filter_map(|entry| Some((entry.path().to_owned(), modified(entry.path())?)))
        .collect()
}

/// `*.py` matches files in the directory itself and `**/*.py` in every
/// directory below, as in `spin watch`. Invalid globs are ignored: the
/// manifest check reports the manifest, not `watch` syntax.
fn glob_set(patterns: &[String]) -> Option<GlobSet> {
    if patterns.is_empty() {
        return None;
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
        if let Ok(glob) = GlobBuilder::new(pattern).literal_separator(true).build() {
            builder.add(glob);
        }
    }
    builder.build().ok()
}

/// Directories never searched for watched files: version control,
/// caches, virtual environments and build outputs.
fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    entry.file_type().is_dir() && spin_python_toolchain::holds_no_app_sources(entry.path())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())?
        .modified()
        .ok()
}

/// `path` relative to `base` when it is below it.
pub fn shown(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The manifest's file name, for `spin.toml:12` locations.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_source_built_after_every_watched_file_is_not_stale() {
        let watched = [("app.py".into(), at(10)), ("lib.py".into(), at(20))];
        assert_eq!(stale_by(at(20), &watched), None);
        assert_eq!(stale_by(at(30), &watched), None);
        assert_eq!(stale_by(at(30), &[]), None);
    }

    #[test]
    fn the_newest_later_change_is_named_and_the_rest_counted() {
        let watched = [
            ("a.py".into(), at(10)),
            ("b.py".into(), at(40)),
            ("c.py".into(), at(30)),
        ];
        assert_eq!(
            stale_by(at(20), &watched),
            Some(Stale {
                newest: "b.py".into(),
                count: 2
            })
        );
    }

    #[test]
    fn python_builds_watch_their_modules_unless_the_manifest_says_otherwise() {
        let manifest = r#"spin_manifest_version = 2
[application]
name = "a"
[component.py]
source = "app.wasm"
build.command = "spin py2wasm app -o app.wasm"
[component.listed]
source = "app.wasm"
build = { command = "make", watch = ["src/**/*.rs"] }
[component.other]
source = "app.wasm"
build.command = "make"
[component.prebuilt]
source = "app.wasm"
[[trigger.http]]
route = "/..."
component = "py"
"#;
        let app = spin_manifest::parse(manifest, Path::new("spin.toml")).unwrap();
        let patterns = |id: &str| watch_patterns(app.component(id).unwrap());
        assert_eq!(patterns("py"), PYTHON_WATCH);
        assert_eq!(patterns("listed"), ["src/**/*.rs"]);
        assert!(patterns("other").is_empty());
        assert!(patterns("prebuilt").is_empty());
    }

    #[test]
    fn a_single_star_stays_in_its_directory() {
        let globs = glob_set(&["*.py".to_owned(), "./lib/**/*.py".to_owned()]).unwrap();
        assert!(globs.is_match("app.py"));
        assert!(!globs.is_match("pkg/mod.py"));
        assert!(globs.is_match("lib/a/b.py"));
    }
}
