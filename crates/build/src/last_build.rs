//! Which build profile the application was last built for, kept in
//! `.spin/last-build.txt` beside the manifest as Spin keeps it (same file,
//! same spelling, so either tool reads the other's), so that `spin up`
//! without `--build` can warn when it runs another profile's files.

use std::io;
use std::path::Path;

/// The file, in the `.spin` directory beside the manifest.
const FILE: &str = "last-build.txt";
/// What the file says after a build of the default profile (Spin's word).
const DEFAULT_PROFILE: &str = "<anonymous>";

/// Records a build of `profile` (`None`: the default one) of the app in
/// `app_dir`. An app never built with a profile gets no file.
pub fn record(app_dir: &Path, profile: Option<&str>) -> io::Result<()> {
    let dir = app_dir.join(".spin");
    let file = dir.join(FILE);
    if profile.is_none() && !file.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(file, profile.unwrap_or(DEFAULT_PROFILE))
}

/// The profile the app in `app_dir` was last built for, when it was not
/// the default one (or nothing says).
pub fn read(app_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(app_dir.join(".spin").join(FILE)).ok()?;
    let profile = text.trim();
    (profile != DEFAULT_PROFILE && !profile.is_empty()).then(|| profile.to_owned())
}

/// Whether the app in `app_dir` was last built for another profile than
/// `profile`: running it without building may run older files.
pub fn is_another_profile(app_dir: &Path, profile: Option<&str>) -> bool {
    read(app_dir).as_deref() != profile
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_profile_built_is_remembered_as_spin_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        // Never built with a profile: no file, and no warning.
        record(dir.path(), None).unwrap();
        assert!(!dir.path().join(".spin").exists());
        assert!(!is_another_profile(dir.path(), None));

        record(dir.path(), Some("debug")).unwrap();
        assert!(is_another_profile(dir.path(), None));
        assert!(!is_another_profile(dir.path(), Some("debug")));
        assert!(is_another_profile(dir.path(), Some("release")));

        record(dir.path(), None).unwrap();
        let text = std::fs::read_to_string(dir.path().join(".spin/last-build.txt")).unwrap();
        assert_eq!(text, "<anonymous>");
        assert!(!is_another_profile(dir.path(), None));
        assert!(is_another_profile(dir.path(), Some("debug")));
    }
}
