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
///
/// Written beside the file and renamed over it, so that a symbolic link in
/// its place (an application's directory is not to be trusted) is
/// replaced, not written through; a `.spin` that is itself a link is left
/// alone.
pub fn record(app_dir: &Path, profile: Option<&str>) -> io::Result<()> {
    let dir = app_dir.join(".spin");
    let file = dir.join(FILE);
    if profile.is_none() && std::fs::symlink_metadata(&file).is_err() {
        return Ok(());
    }
    if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::other(format!(
            "`{}` is a symbolic link",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir)?;
    // `create_new` refuses anything already there, a link included.
    let written = dir.join(format!(".{FILE}.{}", std::process::id()));
    let _ = std::fs::remove_file(&written);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&written)?;
    let done = io::Write::write_all(&mut out, profile.unwrap_or(DEFAULT_PROFILE).as_bytes())
        .and_then(|()| std::fs::rename(&written, &file));
    if done.is_err() {
        let _ = std::fs::remove_file(&written);
    }
    done
}

/// The profile the app in `app_dir` was last built for, when it was not
/// the default one (or nothing says).
///
/// What is read is printed in a warning, and comes from an application's
/// directory: a `.spin` or a file that is a link (to a secret, to
/// `/dev/zero`), anything but a plain file (a FIFO), a long file or one
/// with control characters counts as nothing.
pub fn read(app_dir: &Path) -> Option<String> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = app_dir.join(".spin");
    let is_link = std::fs::symlink_metadata(&dir).map(|m| m.file_type().is_symlink());
    if is_link.unwrap_or(true) {
        return None;
    }
    // Not through a link, and without waiting on a FIFO; then checked.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(dir.join(FILE))
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    io::Read::read_to_string(&mut io::Read::take(file, MAX_BYTES + 1), &mut text).ok()?;
    let profile = text.trim();
    let is_name = !profile.is_empty()
        && text.len() as u64 <= MAX_BYTES
        && !profile.chars().any(char::is_control);
    (profile != DEFAULT_PROFILE && is_name).then(|| profile.to_owned())
}

/// The most of the file read: a profile name is short.
const MAX_BYTES: u64 = 256;

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

    #[test]
    fn a_link_in_place_of_the_file_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".spin")).unwrap();
        let elsewhere = dir.path().join("precious.txt");
        std::fs::write(&elsewhere, "keep me").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(".spin/last-build.txt")).unwrap();
        record(dir.path(), Some("debug")).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me");
        assert_eq!(read(dir.path()).as_deref(), Some("debug"));
        let file = dir.path().join(".spin/last-build.txt");
        assert!(std::fs::symlink_metadata(&file).unwrap().is_file());
        assert_eq!(
            std::fs::read_dir(dir.path().join(".spin")).unwrap().count(),
            1
        );

        // Read through a link, or anything but a profile name: nothing.
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
        assert_eq!(read(dir.path()), None);
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, "AWS_SECRET=xyz\nmore").unwrap();
        assert_eq!(read(dir.path()), None);
        std::fs::write(&file, "x".repeat(300)).unwrap();
        assert_eq!(read(dir.path()), None);
        // Any profile name a manifest may hold reads back.
        std::fs::write(&file, "release+lto").unwrap();
        assert_eq!(read(dir.path()).as_deref(), Some("release+lto"));

        // A linked `.spin` is not written into at all.
        let other = tempfile::tempdir().unwrap();
        let app = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(other.path(), app.path().join(".spin")).unwrap();
        assert!(record(app.path(), Some("debug")).is_err());
        assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
    }
}
