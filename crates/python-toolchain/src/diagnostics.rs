//! Turning componentize-py's failure output into a message about the app.
//!
//! When importing the app fails, componentize-py reports the guest's Python
//! traceback wrapped in its own Python `AssertionError` and Rust error chain.
//! The traceback names files by their guest mount points (`/0/app.py` for the
//! first python-path entry, `/python/...` for the standard library). This
//! module extracts the traceback, maps mounts back to host paths, drops the
//! frames of the SDK's own entry glue, and finds the line to blame.

use std::path::{Path, PathBuf};

use crate::error::PythonFailure;

const TRACEBACK_HEADER: &str = "Traceback (most recent call last):";

/// Files whose frames are glue, not the app: the generated entry module, the
/// SDK's handler factory, and the standard library's import machinery.
const GLUE_FILES: &[&str] = &[
    "spin_py2wasm_entry.py",
    "spin_py2wasm/handler.py",
    // A socket refused while the app is imported at build time is the
    // app's line, not the SDK's or the standard library's.
    "spin_py2wasm/host_names.py",
    "/python/socket.py",
    "/python/importlib/",
];

/// What componentize-py's error output says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Importing the app raised an exception.
    Python(PythonFailure),
    /// Anything else, cleaned of wrapper noise.
    Other(String),
}

/// Reads componentize-py's stderr. `python_path` lists the host directories
/// in the order they were passed with `-p`, which is how they are numbered
/// inside the guest.
pub(crate) fn interpret(stderr: &str, python_path: &[PathBuf]) -> Failure {
    let error = error_text(stderr);
    let Some(start) = error.find(TRACEBACK_HEADER) else {
        return Failure::Other(error.trim().to_owned());
    };
    // The Rust error chain that follows the traceback repeats its last line.
    let traceback = &error[start..];
    let traceback = traceback
        .split("\n\nCaused by:")
        .next()
        .unwrap_or(traceback);
    Failure::Python(clean_traceback(traceback, python_path))
}

/// The error componentize-py reported, without the outer Python traceback of
/// its command-line wrapper (`AssertionError: <error>` is its last part) and
/// without any Rust backtrace.
fn error_text(stderr: &str) -> &str {
    let error = match stderr.find("AssertionError: ") {
        Some(at) => &stderr[at + "AssertionError: ".len()..],
        None => stderr,
    };
    error.split("\nStack backtrace:").next().unwrap_or(error)
}

fn clean_traceback(traceback: &str, python_path: &[PathBuf]) -> PythonFailure {
    let mut kept = Vec::new();
    let mut location = None;
    let mut lines = traceback.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((file, line_number)) = parse_frame(line) else {
            kept.push(line.to_owned());
            continue;
        };
        let mut frame = vec![line.to_owned()];
        while let Some(next) = lines.next_if(|next| next.starts_with("    ")) {
            frame.push(next.to_owned());
        }
        if GLUE_FILES.iter().any(|glue| file.contains(glue)) {
            continue;
        }
        let host = host_path(file, python_path);
        frame[0] = line.replacen(file, &host.display().to_string(), 1);
        location = Some((host, line_number));
        kept.extend(frame);
    }
    let message = kept
        .iter()
        .rev()
        .find(|line| !line.trim().is_empty())
        .cloned()
        .unwrap_or_default();
    if location.is_none() {
        // Only glue frames: the exception message is all there is to say.
        kept.retain(|line| line != TRACEBACK_HEADER);
    }
    PythonFailure {
        location,
        message,
        traceback: kept.join("\n"),
    }
}

/// `  File "/0/app.py", line 3, in <module>` → (`/0/app.py`, 3).
fn parse_frame(line: &str) -> Option<(&str, u32)> {
    let rest = line.strip_prefix("  File \"")?;
    let (file, rest) = rest.split_once("\", line ")?;
    let digits: &str = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((file, digits.parse().ok()?))
}

/// Maps `/<n>/<rest>` to the n-th python-path entry; other paths are kept.
fn host_path(guest: &str, python_path: &[PathBuf]) -> PathBuf {
    let mapped = guest.strip_prefix('/').and_then(|rest| {
        let (index, relative) = rest.split_once('/')?;
        let root = python_path.get(index.parse::<usize>().ok()?)?;
        Some(root.join(Path::new(relative)))
    });
    mapped.unwrap_or_else(|| PathBuf::from(guest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// componentize-py 0.16.0's output for an app with a missing colon.
    const SYNTAX_ERROR: &str = r#"Traceback (most recent call last):
  File "<string>", line 1, in <module>
AssertionError: Traceback (most recent call last):
  File "/0/spin_py2wasm_entry.py", line 2, in <module>
    IncomingHandler = incoming_handler_for("app")
                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/1/spin_py2wasm/handler.py", line 36, in incoming_handler_for
    module = importlib.import_module(module_name)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/python/importlib/__init__.py", line 90, in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/2/app.py", line 3
    def handle_request(request)
                               ^
SyntaxError: expected ':'


Caused by:
    SyntaxError: expected ':' (app.py, line 3)
"#;

    fn paths() -> Vec<PathBuf> {
        vec![
            "/tmp/entry".into(),
            "/cache/sdk".into(),
            "/home/me/hello".into(),
        ]
    }

    #[test]
    fn syntax_error_points_at_the_app_file_and_line() {
        let Failure::Python(failure) = interpret(SYNTAX_ERROR, &paths()) else {
            panic!("not recognised as a Python failure");
        };
        assert_eq!(
            failure.location,
            Some((PathBuf::from("/home/me/hello/app.py"), 3))
        );
        assert_eq!(failure.message, "SyntaxError: expected ':'");
        assert_eq!(
            failure.traceback,
            "Traceback (most recent call last):\n  File \"/home/me/hello/app.py\", line 3\n    \
             def handle_request(request)\n                               ^\nSyntaxError: expected ':'"
        );
    }

    #[test]
    fn import_error_inside_a_dependency_keeps_both_frames() {
        let stderr = "AssertionError: Traceback (most recent call last):\n  \
            File \"/2/app.py\", line 1, in <module>\n    import helper\n  \
            File \"/3/helper/__init__.py\", line 4, in <module>\n    import missing\n\
            ModuleNotFoundError: No module named 'missing'\n\n\nCaused by:\n    x\n";
        let mut python_path = paths();
        python_path.push("/cache/deps/abc".into());
        let Failure::Python(failure) = interpret(stderr, &python_path) else {
            panic!("not recognised as a Python failure");
        };
        assert_eq!(
            failure.location,
            Some((PathBuf::from("/cache/deps/abc/helper/__init__.py"), 4))
        );
        assert!(
            failure
                .traceback
                .contains("\"/home/me/hello/app.py\", line 1")
        );
        assert_eq!(
            failure.message,
            "ModuleNotFoundError: No module named 'missing'"
        );
    }

    #[test]
    fn other_failures_lose_the_wrapper_and_backtrace() {
        let stderr = "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n\
            AssertionError: package not found\n\nCaused by:\n    nope\nStack backtrace:\n   0: frame\n";
        assert_eq!(
            interpret(stderr, &paths()),
            Failure::Other("package not found\n\nCaused by:\n    nope".into())
        );
    }

    #[test]
    fn glue_only_traceback_is_just_the_message() {
        let stderr = "AssertionError: Traceback (most recent call last):\n  \
            File \"/0/spin_py2wasm_entry.py\", line 2, in <module>\n    x\n\
            AttributeError: module `app` defines no `handle_request` function\n";
        let Failure::Python(failure) = interpret(stderr, &paths()) else {
            panic!("not recognised as a Python failure");
        };
        assert_eq!(failure.location, None);
        assert_eq!(
            failure.traceback,
            "AttributeError: module `app` defines no `handle_request` function"
        );
    }

    #[test]
    fn unknown_mount_is_left_alone() {
        assert_eq!(
            host_path("/python/json/__init__.py", &paths()),
            PathBuf::from("/python/json/__init__.py")
        );
        assert_eq!(host_path("/9/x.py", &paths()), PathBuf::from("/9/x.py"));
    }
}
