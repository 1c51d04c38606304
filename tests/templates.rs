//! `spin new`, `spin add` and `spin templates`, run as the real binary with
//! a fresh home and data directory per test, against real Git repositories
//! and directories.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::seed::SEED_MANIFEST;

/// A throwaway user: home, data directory and working directory.
struct User {
    home: tempfile::TempDir,
}

impl User {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.home.path()
    }

    /// `spin ARGS` in the home directory, with no terminal and with GitHub
    /// rewritten to a missing local path, so first-party repositories are
    /// unreachable whatever the network.
    fn spin(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_spin"))
            .args(args)
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("SPIN_DATA_DIR", self.path().join("data"))
            .env("GIT_AUTHOR_NAME", "Fermyon Engineering")
            .env("GIT_AUTHOR_EMAIL", "engineering@fermyon.com")
            .env("GIT_CONFIG_COUNT", "1")
            .env(
                "GIT_CONFIG_KEY_0",
                "url.file:///nonexistent/github/.insteadOf",
            )
            .env("GIT_CONFIG_VALUE_0", "https://github.com/")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn spin_ok(&self, args: &[&str]) -> String {
        let output = self.spin(args);
        assert!(
            output.status.success(),
            "spin {args:?} failed:\n{}",
            describe(&output)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn spin_err(&self, args: &[&str]) -> String {
        let output = self.spin(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "spin {args:?}:\n{}",
            describe(&output)
        );
        String::from_utf8(output.stderr).unwrap()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Writes a one-template source (`templates/<id>/…`) at `root`.
fn write_template(root: &Path, id: &str, description: &str) {
    let dir = root.join("templates").join(id);
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::create_dir_all(dir.join("metadata")).unwrap();
    std::fs::write(
        dir.join("metadata/spin-template.toml"),
        format!(
            "manifest_version = \"1\"\nid = \"{id}\"\ndescription = \"{description}\"\n\n[parameters]\ngreeting = {{ type = \"string\", prompt = \"Greeting\" }}\nshout = {{ type = \"string\", prompt = \"Shout\", default = \"no\", allowed_values = [\"yes\", \"no\"] }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("content/hello.txt"),
        "{{ greeting }}, {{ project-name | snake_case }}! shout={{shout}}\n",
    )
    .unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn table(rows: &[(&str, &str)]) -> String {
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap().max(4);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap().max(11);
    let line = |a: &str, b: &str| format!("| {a:w0$}   {b:w1$} |\n");
    let border = format!("+{}+\n", "-".repeat(w0 + w1 + 5));
    let mut out = border.clone() + &line("Name", "Description");
    out += &format!("+{}+\n", "=".repeat(w0 + w1 + 5));
    for (a, b) in rows {
        out += &line(a, b);
    }
    out + &border
}

/// What `spin new http-py` writes: the seed's manifest plus `watch`.
fn seed_spin_toml() -> String {
    format!("{SEED_MANIFEST}watch = [\"app.py\", \"Pipfile\"]\n")
}

const SEED_APP_PY: &str = r#"from spin_http import Response

def handle_request(request):
    return Response(200,
                    [("content-type", "text/plain")],
                    bytes(f"Hello from the Python SDK", "utf-8"))
"#;

const PIPFILE: &str = r#"[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]

[dev-packages]

[requires]
python_version = "3.10"
"#;

#[test]
fn new_http_py_creates_the_seed_application() {
    let user = User::new();
    let out = user.spin_ok(&["new", "http-py", "hello-world", "--accept-defaults"]);
    assert_eq!(out, "");

    let app = user.path().join("hello-world");
    assert_eq!(
        entries(&app),
        [
            ".git",
            ".gitignore",
            "Pipfile",
            "README.md",
            "app.py",
            "spin.toml"
        ]
    );
    assert_eq!(user.read("hello-world/spin.toml"), seed_spin_toml());
    assert_eq!(user.read("hello-world/app.py"), SEED_APP_PY);
    assert_eq!(user.read("hello-world/Pipfile"), PIPFILE);
    assert_eq!(
        user.read("hello-world/.gitignore"),
        "__pycache__\n*.wasm\n.spin\n"
    );
    assert!(
        user.read("hello-world/README.md")
            .starts_with("# hello-world\n")
    );
}

#[test]
fn new_accepts_the_current_syntax_values_and_no_vcs() {
    let user = User::new();
    user.spin_ok(&[
        "new",
        "api",
        "-t",
        "http-py",
        "-v",
        "http-path=/api/...",
        "-v",
        "project-description=My API",
        "--no-vcs",
        "-o",
        "out/api",
    ]);
    assert_eq!(
        entries(&user.path().join("out/api")),
        ["Pipfile", "README.md", "app.py", "spin.toml"]
    );
    let manifest = user.read("out/api/spin.toml");
    assert!(
        manifest.contains("description = \"My API\"\n"),
        "{manifest}"
    );
    assert!(manifest.contains("route = \"/api/...\"\n"), "{manifest}");
    assert!(manifest.contains("id = \"api\"\n"), "{manifest}");
}

#[test]
fn new_rejects_invalid_values_and_existing_directories() {
    let user = User::new();
    let err = user.spin_err(&[
        "new",
        "http-py",
        "app",
        "-v",
        "http-base=nope",
        "-v",
        "colour=red",
    ]);
    assert!(
        err.contains("Invalid value(s) for template http-py"),
        "{err}"
    );
    assert!(
        err.contains("- the template has no parameter named 'colour'"),
        "{err}"
    );
    assert!(
        err.contains("- http-base: must match the pattern `^/\\S*$`"),
        "{err}"
    );
    assert!(!user.path().join("app").exists());

    user.spin_ok(&["new", "http-py", "app", "-a"]);
    let err = user.spin_err(&["new", "http-py", "app", "-a"]);
    assert!(err.contains("already contains other files"), "{err}");
    assert!(err.contains("--allow-overwrite"), "{err}");
    user.spin_ok(&["new", "http-py", "app", "-a", "--allow-overwrite"]);

    let err = user.spin_err(&["new", "-t", "no-such-template", "x"]);
    assert!(
        err.contains("Template 'no-such-template' not found"),
        "{err}"
    );
    assert!(err.contains("hint: run `spin templates list`"), "{err}");
}

#[test]
fn templates_install_from_a_local_git_repository() {
    let user = User::new();
    let repo = user.path().join("repo");
    write_template(&repo, "greet", "Says hello");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let repo_arg = repo.display().to_string();

    let out = user.spin_ok(&["templates", "install", "--git", &repo_arg]);
    assert_eq!(
        out,
        format!(
            "Copying remote template source\nInstalling template greet...\nInstalled 1 template(s)\n\n{}",
            table(&[("greet", "Says hello")])
        )
    );

    // Without a terminal, parameters with defaults take them and the rest
    // must be given.
    let err = user.spin_err(&["new", "-t", "greet", "my-app"]);
    assert!(err.contains("needs a value for greeting"), "{err}");
    assert!(err.contains("`--value greeting=VALUE`"), "{err}");
    std::fs::write(
        user.path().join("values.toml"),
        "greeting = \"Hi\"\nshout = \"yes\"\n",
    )
    .unwrap();
    user.spin_ok(&[
        "new",
        "-t",
        "greet",
        "my-app",
        "--values-file",
        "values.toml",
        "-v",
        "greeting=Hello",
    ]);
    assert_eq!(user.read("my-app/hello.txt"), "Hello, my_app! shout=yes\n");

    // Reinstalling skips; --upgrade replaces with the repository's new content.
    write_template(&repo, "greet", "Says hello nicely");
    git(&repo, &["commit", "-q", "-am", "second"]);
    let out = user.spin_ok(&["templates", "install", "--git", &repo_arg]);
    assert!(out.contains("Installed 0 template(s)"), "{out}");
    assert!(out.contains("| greet   Already exists |"), "{out}");
    assert!(out.contains("--upgrade"), "{out}");

    let out = user.spin_ok(&["templates", "install", "--git", &repo_arg, "--upgrade"]);
    assert!(
        out.contains(&table(&[("greet", "Says hello nicely")])),
        "{out}"
    );

    let list = user.spin_ok(&["templates", "list", "--verbose"]);
    let greet_line = list.lines().find(|l| l.contains("greet")).unwrap();
    assert!(
        greet_line.contains("Says hello nicely") && greet_line.contains(&repo_arg),
        "{list}"
    );

    // `upgrade` goes back to the recorded repository.
    let out = user.spin_ok(&["templates", "upgrade"]);
    assert!(
        out.contains(&format!("Upgrading templates from {repo_arg}...")),
        "{out}"
    );
    assert!(out.contains("Upgraded 1 template(s)"), "{out}");
}

#[test]
fn templates_install_from_a_directory_list_and_uninstall() {
    let user = User::new();
    let source = user.path().join("source");
    write_template(&source, "greet", "Says hello");
    let out = user.spin_ok(&["templates", "install", "--dir", "source"]);
    assert_eq!(
        out,
        format!(
            "Installing template greet...\nInstalled 1 template(s)\n\n{}",
            table(&[("greet", "Says hello")])
        )
    );

    let list = user.spin_ok(&["templates", "list"]);
    assert_eq!(
        list,
        table(&[
            ("greet", "Says hello"),
            ("http-empty", "HTTP application with no components"),
            ("http-py", "HTTP request handler using Python"),
        ])
    );
    let tagged = user.spin_ok(&["templates", "list", "--tag", "python"]);
    assert_eq!(
        tagged,
        table(&[("http-py", "HTTP request handler using Python")])
    );

    user.spin_ok(&["templates", "uninstall", "greet"]);
    assert!(!user.spin_ok(&["templates", "list"]).contains("greet"));
    let err = user.spin_err(&["templates", "uninstall", "greet"]);
    assert!(err.contains("Template 'greet' is not installed"), "{err}");
    let err = user.spin_err(&["templates", "uninstall", "http-py"]);
    assert!(err.contains("built into spin"), "{err}");
}

#[test]
fn first_party_repository_offline_installs_the_built_in_copy() {
    let user = User::new();
    let output = user.spin(&[
        "templates",
        "install",
        "--git",
        "https://github.com/fermyon/spin-python-sdk",
        "--update",
    ]);
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "Copying remote template source\nInstalling template http-py...\nInstalled 1 template(s)\n\n{}",
            table(&[("http-py", "HTTP request handler using Python")])
        )
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("could not clone https://github.com/fermyon/spin-python-sdk"),
        "{stderr}"
    );
    assert!(
        stderr.contains("installing the copy of http-py built into spin instead"),
        "{stderr}"
    );

    let list = user.spin_ok(&["templates", "list", "--verbose"]);
    assert!(
        list.contains("https://github.com/fermyon/spin-python-sdk (built-in copy)"),
        "{list}"
    );
    user.spin_ok(&["new", "http-py", "hello-world", "--accept-defaults"]);
    assert_eq!(user.read("hello-world/spin.toml"), seed_spin_toml());
}

#[test]
fn other_unreachable_repositories_fail_with_the_git_error() {
    let user = User::new();
    let missing = user.path().join("no-such-repo").display().to_string();
    let err = user.spin_err(&["templates", "install", "--git", &missing]);
    assert!(
        err.contains(&format!("Failed to clone Git repository {missing}")),
        "{err}"
    );
    assert!(err.contains("hint: check the URL"), "{err}");
    assert!(!user.spin_ok(&["templates", "list"]).contains("no-such"));
}

#[test]
fn add_appends_a_component_to_a_v1_application() {
    let user = User::new();
    user.spin_ok(&["new", "http-py", "app", "-a"]);
    user.spin_ok(&[
        "add",
        "-t",
        "http-py",
        "second",
        "-f",
        "app/spin.toml",
        // The default path of an added component is its own, not the
        // first component's `/...`.
        "-a",
    ]);

    let manifest = user.read("app/spin.toml");
    let expected_tail = r#"watch = ["app.py", "Pipfile"]

[[component]]
id = "second"
source = "second/app.wasm"
[component.trigger]
route = "/second/..."
[component.build]
command = "spin py2wasm app -o app.wasm"
workdir = "second"
watch = ["app.py", "Pipfile"]
"#;
    assert!(manifest.starts_with("spin_version = \"1\"\n"), "{manifest}");
    assert!(manifest.ends_with(expected_tail), "{manifest}");
    assert_eq!(
        entries(&user.path().join("app/second")),
        [".gitignore", "Pipfile", "README.md", "app.py"]
    );
    assert_eq!(user.read("app/second/app.py"), SEED_APP_PY);

    // A v1 snippet can't go into a v2 manifest; an empty v2 app says so.
    user.spin_ok(&["new", "http-empty", "empty", "-a"]);
    assert_eq!(
        user.read("empty/spin.toml"),
        "spin_manifest_version = 2\n\n[application]\nname = \"empty\"\nversion = \"0.1.0\"\nauthors = [\"Fermyon Engineering <engineering@fermyon.com>\"]\ndescription = \"\"\n"
    );
    let err = user.spin_err(&["add", "http-py", "comp", "-a", "-f", "empty"]);
    assert!(err.contains("makes version 1 manifests"), "{err}");

    let err = user.spin_err(&["add", "http-py", "comp", "-a"]);
    assert!(err.contains("the file does not exist"), "{err}");
}
