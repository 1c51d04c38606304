//! Running a template: gathering parameter values, rendering the files and
//! writing them out as a new application (`spin new`) or as a component of
//! an existing one (`spin add`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Error;
use crate::render::Parsed;
use crate::template::{Parameter, Template, Variant};
use heck::ToKebabCase;

/// What the template is run for.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Create a new application in the output directory.
    NewApplication,
    /// Add a component to the application whose manifest is at
    /// `manifest_path`; the output directory is relative to the manifest's.
    AddComponent {
        /// The application's `spin.toml`.
        manifest_path: PathBuf,
    },
}

impl Operation {
    fn command(&self) -> &'static str {
        match self {
            Self::NewApplication => "new",
            Self::AddComponent { .. } => "add",
        }
    }
}

/// Everything `spin new`/`spin add` pass to a template run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// New application or added component.
    pub operation: Operation,
    /// The application or component name (`{{project-name}}`).
    pub name: String,
    /// Where to write the files; for `spin add`, relative to the manifest.
    pub output_path: PathBuf,
    /// Parameter values given on the command line or in a values file.
    pub values: HashMap<String, String>,
    /// Use each parameter's default instead of asking.
    pub accept_defaults: bool,
    /// Skip `.gitignore` and `git init`.
    pub no_vcs: bool,
    /// Write into a directory that already has files.
    pub allow_overwrite: bool,
}

/// Questions a run may need answered. Without one (no terminal), defaults
/// are used and anything else must come from `RunOptions::values`.
pub trait Interaction {
    /// Asks for a parameter's value. `problem` says why the previous
    /// answer was refused. An empty answer selects the default.
    fn ask(&mut self, parameter: &Parameter, problem: Option<&str>) -> std::io::Result<String>;
    /// Asks a yes/no question.
    fn confirm(&mut self, question: &str) -> std::io::Result<bool>;
}

/// How a run ended.
#[derive(Debug, PartialEq)]
pub enum RunOutcome {
    /// The files were written. `git_init_failed` holds Git's complaint if
    /// the new application's repository could not be created.
    Generated {
        /// Git's error output, when `git init` failed.
        git_init_failed: Option<String>,
    },
    /// The user declined to write into a non-empty directory.
    Cancelled,
}

impl Template {
    /// Renders the template according to `options`. Nothing is written
    /// unless every value is known and every file renders.
    pub fn run(
        &self,
        options: &RunOptions,
        mut interaction: Option<&mut dyn Interaction>,
    ) -> Result<RunOutcome, Error> {
        let variant = self.variant_for(&options.operation)?;
        self.check_manifest_format(&options.operation)?;
        self.check_values(&options.values)?;

        let target_dir = match &options.operation {
            Operation::NewApplication => options.output_path.clone(),
            Operation::AddComponent { manifest_path } => {
                manifest_dir(manifest_path).join(&options.output_path)
            }
        };
        if !options.allow_overwrite && !is_empty_dir(&target_dir) {
            let question = format!(
                "Directory '{}' already contains other files. Generate into it anyway?",
                target_dir.display()
            );
            match interaction.as_deref_mut() {
                Some(i) => {
                    if !i.confirm(&question).map_err(Error::Prompt)? {
                        return Ok(RunOutcome::Cancelled);
                    }
                }
                None => return Err(Error::DirectoryNotEmpty(target_dir)),
            }
        }

        let mut values = self.collect_values(variant, options, interaction)?;
        values.extend(special_values(options));

        let files = self.render_content(variant, options, &target_dir, &values)?;
        let appends = self.render_snippets(variant, options, &values)?;

        for (path, bytes) in files {
            write_file(&path, &bytes)?;
        }
        for (manifest, text) in appends {
            append_to_manifest(&manifest, &text)?;
        }

        let git_init_failed = match options.operation {
            Operation::NewApplication if !options.no_vcs => init_git_repo(&target_dir),
            _ => None,
        };
        Ok(RunOutcome::Generated { git_init_failed })
    }

    fn variant_for(&self, operation: &Operation) -> Result<&Variant, Error> {
        let variant = match operation {
            Operation::NewApplication => &self.manifest.new_application,
            Operation::AddComponent { .. } => &self.manifest.add_component,
        };
        variant.as_ref().ok_or_else(|| Error::UnsupportedOperation {
            template: self.id().to_owned(),
            command: operation.command(),
        })
    }

    /// A component snippet written for one manifest version cannot be
    /// appended to a manifest of another.
    fn check_manifest_format(&self, operation: &Operation) -> Result<(), Error> {
        let Operation::AddComponent { manifest_path } = operation else {
            return Ok(());
        };
        let text = std::fs::read_to_string(manifest_path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                Error::ManifestNotFound(manifest_path.clone())
            } else {
                Error::Io {
                    path: manifest_path.clone(),
                    error,
                }
            }
        })?;
        match (detect_manifest_format(&text), self.manifest_format()) {
            (Some(app), Some(template)) if app != template => Err(Error::ManifestFormatMismatch {
                template: self.id().to_owned(),
                template_format: template,
                manifest: manifest_path.clone(),
                manifest_format: app,
            }),
            _ => Ok(()),
        }
    }

    fn check_values(&self, values: &HashMap<String, String>) -> Result<(), Error> {
        let mut problems: Vec<String> = values
            .iter()
            .filter_map(|(name, value)| match self.parameter(name) {
                None => Some(format!("the template has no parameter named '{name}'")),
                Some(p) => p.check(value).err().map(|e| format!("{name}: {e}")),
            })
            .collect();
        problems.sort();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidValues {
                template: self.id().to_owned(),
                problems,
                parameters: self.parameters().iter().map(|p| p.id.clone()).collect(),
            })
        }
    }

    fn collect_values(
        &self,
        variant: &Variant,
        options: &RunOptions,
        mut interaction: Option<&mut dyn Interaction>,
    ) -> Result<HashMap<String, String>, Error> {
        let mut values = HashMap::new();
        let mut missing = Vec::new();
        let asked = self
            .parameters()
            .iter()
            .filter(|p| !variant.skip_parameters.contains(&p.id));
        for parameter in asked {
            let parameter = &for_operation(parameter, options);
            let given = options.values.get(&parameter.id).cloned();
            let default = parameter
                .default
                .clone()
                .filter(|_| options.accept_defaults || interaction.is_none());
            let value = match (given.or(default), interaction.as_deref_mut()) {
                (Some(value), _) => value,
                (None, Some(i)) => ask_until_valid(i, parameter)?,
                (None, None) => {
                    missing.push(parameter.id.clone());
                    continue;
                }
            };
            values.insert(parameter.id.clone(), value);
        }
        if missing.is_empty() {
            Ok(values)
        } else {
            Err(Error::MissingValues {
                template: self.id().to_owned(),
                missing,
            })
        }
    }

    fn render_content(
        &self,
        variant: &Variant,
        options: &RunOptions,
        target_dir: &Path,
        values: &HashMap<String, String>,
    ) -> Result<Vec<(PathBuf, Vec<u8>)>, Error> {
        let mut out = Vec::new();
        for (relative, bytes) in self.content_files() {
            let file_name = relative.rsplit('/').next().unwrap_or(relative);
            if variant.skip_files.iter().any(|s| s == relative)
                || (options.no_vcs && file_name == ".gitignore")
            {
                continue;
            }
            let output_name = relative.strip_suffix(".tmpl").unwrap_or(relative);
            let rendered = match std::str::from_utf8(bytes) {
                // Binary files are copied as they are.
                Err(_) => bytes.to_vec(),
                Ok(text) => self
                    .render_text(&format!("content/{relative}"), text, values)?
                    .into_bytes(),
            };
            out.push((target_dir.join(output_name), rendered));
        }
        Ok(out)
    }

    fn render_snippets(
        &self,
        variant: &Variant,
        options: &RunOptions,
        values: &HashMap<String, String>,
    ) -> Result<Vec<(PathBuf, String)>, Error> {
        let Operation::AddComponent { manifest_path } = &options.operation else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for (kind, file_name) in &variant.snippets {
            // Spin appends both of these to the manifest; `variables`
            // needs a TOML merge, which is not implemented.
            if kind != "component" && kind != "application_trigger" {
                return Err(Error::UnsupportedSnippet {
                    template: self.id().to_owned(),
                    kind: kind.clone(),
                });
            }
            let bytes = self
                .snippet(file_name)
                .expect("snippet files are checked when the template is loaded");
            let text = String::from_utf8_lossy(bytes);
            let rendered =
                self.render_text(&format!("metadata/snippets/{file_name}"), &text, values)?;
            out.push((manifest_path.clone(), rendered));
        }
        Ok(out)
    }

    fn render_text(
        &self,
        file: &str,
        text: &str,
        values: &HashMap<String, String>,
    ) -> Result<String, Error> {
        Parsed::new(text)
            .and_then(|parsed| parsed.render(values))
            .map_err(|error| Error::Render {
                template: self.id().to_owned(),
                file: file.to_owned(),
                error,
            })
    }
}

/// `parameter` as this run asks it. `spin add` offers an added component a
/// path of its own (`/<name>/...`) instead of a template's catch-all `/...`,
/// which the application's first component already serves: a second
/// trigger on the same route is a manifest error.
fn for_operation(parameter: &Parameter, options: &RunOptions) -> Parameter {
    let mut parameter = parameter.clone();
    if matches!(options.operation, Operation::AddComponent { .. })
        && parameter.id == "http-path"
        && parameter.default.as_deref() == Some("/...")
    {
        parameter.default = Some(format!("/{}/...", options.name.to_kebab_case()));
    }
    parameter
}

fn ask_until_valid(
    interaction: &mut dyn Interaction,
    parameter: &Parameter,
) -> Result<String, Error> {
    let mut problem = None;
    loop {
        let answer = interaction
            .ask(parameter, problem.as_deref())
            .map_err(Error::Prompt)?;
        let answer = match (answer.is_empty(), &parameter.default) {
            (true, Some(default)) => default.clone(),
            _ => answer,
        };
        match parameter.check(&answer) {
            Ok(()) => return Ok(answer),
            Err(e) => problem = Some(e),
        }
    }
}

/// Values every template can use without declaring them.
fn special_values(options: &RunOptions) -> HashMap<String, String> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let authors = crate::authors::detect(&env);
    let output_path = options
        .output_path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    HashMap::from([
        ("authors".to_owned(), authors.author),
        ("username".to_owned(), authors.username),
        ("project-name".to_owned(), options.name.clone()),
        ("output-path".to_owned(), output_path),
    ])
}

/// Reads the manifest version of a `spin.toml`: `spin_manifest_version`
/// (or its 1.x alias `spin_version`) is "1" or 2. `None` when it has none
/// or is not TOML.
pub(crate) fn detect_manifest_format(manifest: &str) -> Option<u32> {
    let table: toml::Table = toml::from_str(manifest).ok()?;
    let version = table
        .get("spin_manifest_version")
        .or_else(|| table.get("spin_version"))?;
    match version {
        toml::Value::String(s) => s.parse().ok(),
        toml::Value::Integer(i) => u32::try_from(*i).ok(),
        _ => None,
    }
}

fn manifest_dir(manifest_path: &Path) -> &Path {
    manifest_path.parent().unwrap_or(Path::new("."))
}

fn is_empty_dir(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        // A missing directory will be created; anything else is not empty.
        Err(_) => !dir.exists(),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |error| Error::Io {
        path: path.to_owned(),
        error,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

/// Appends a snippet after a blank line, as Spin does, so the component
/// table lands at the end of the manifest.
fn append_to_manifest(manifest: &Path, text: &str) -> Result<(), Error> {
    let io = |error| Error::Io {
        path: manifest.to_owned(),
        error,
    };
    let existing = std::fs::read_to_string(manifest).map_err(io)?;
    std::fs::write(manifest, format!("{}\n\n{}", existing.trim_end(), text)).map_err(io)
}

/// Creates a Git repository for a new application, unless it is already
/// inside one. Returns Git's error output on failure; a missing `git` is
/// not a failure worth reporting.
fn init_git_repo(dir: &Path) -> Option<String> {
    let in_repo = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--git-dir"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match in_repo {
        Err(_) => return None,
        Ok(status) if status.success() => return None,
        Ok(_) => {}
    }
    match Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["init", "-q"])
        .output()
    {
        Ok(output) if !output.status.success() => {
            Some(String::from_utf8_lossy(&output.stderr).trim().to_owned())
        }
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Files, Origin};

    /// Answers questions from a script, recording what was asked.
    struct Scripted {
        answers: Vec<&'static str>,
        asked: Vec<String>,
        confirm: bool,
    }

    impl Interaction for Scripted {
        fn ask(&mut self, parameter: &Parameter, problem: Option<&str>) -> std::io::Result<String> {
            self.asked.push(match problem {
                Some(p) => format!("{} ({p})", parameter.id()),
                None => parameter.id().to_owned(),
            });
            Ok(self.answers.remove(0).to_owned())
        }

        fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
            self.asked.push(question.to_owned());
            Ok(self.confirm)
        }
    }

    fn template() -> Template {
        let files: Files = [
            (
                "metadata/spin-template.toml",
                "manifest_version = \"1\"\nid = \"t\"\n[parameters]\nroute = { type = \"string\", prompt = \"Route\", default = \"/...\", pattern = \"^/\" }\ngreeting = { type = \"string\", prompt = \"Greeting\" }\n",
            ),
            ("content/out.txt.tmpl", "{{greeting}} {{project-name | kebab_case}} at {{route}}"),
            ("content/.gitignore", "target\n"),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_owned(), c.as_bytes().to_vec()))
        .collect();
        Template::from_files("t", files, Origin::BuiltIn).unwrap()
    }

    fn options(dir: &Path) -> RunOptions {
        RunOptions {
            operation: Operation::NewApplication,
            name: "My App".into(),
            output_path: dir.join("app"),
            values: HashMap::new(),
            accept_defaults: false,
            no_vcs: true,
            allow_overwrite: false,
        }
    }

    #[test]
    fn interactive_runs_ask_for_every_value_and_retry_invalid_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut prompt = Scripted {
            answers: vec!["no-slash", "", "Hi"],
            asked: vec![],
            confirm: false,
        };
        let outcome = template()
            .run(&options(dir.path()), Some(&mut prompt))
            .unwrap();
        assert_eq!(
            outcome,
            RunOutcome::Generated {
                git_init_failed: None
            }
        );
        assert_eq!(
            prompt.asked,
            ["route", "route (must match the pattern `^/`)", "greeting"]
        );
        let out = std::fs::read_to_string(dir.path().join("app/out.txt")).unwrap();
        assert_eq!(out, "Hi my-app at /...");
        assert!(!dir.path().join("app/.gitignore").exists(), "--no-vcs");
    }

    #[test]
    fn accept_defaults_only_asks_for_values_without_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let mut prompt = Scripted {
            answers: vec!["Yo"],
            asked: vec![],
            confirm: false,
        };
        let opts = RunOptions {
            accept_defaults: true,
            no_vcs: false,
            ..options(dir.path())
        };
        template().run(&opts, Some(&mut prompt)).unwrap();
        assert_eq!(prompt.asked, ["greeting"]);
        assert!(dir.path().join("app/.gitignore").exists());
        assert!(
            dir.path().join("app/.git").exists(),
            "a new application gets a Git repository"
        );
    }

    #[test]
    fn without_a_terminal_missing_values_are_all_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = template().run(&options(dir.path()), None).unwrap_err();
        assert!(
            matches!(&err, Error::MissingValues { missing, .. } if missing == &["greeting"]),
            "{err}"
        );
        assert!(err.hint().contains("`--value greeting=VALUE`"), "{err}");
        assert!(!dir.path().join("app").exists(), "nothing is written");
    }

    #[test]
    fn declining_to_write_into_a_non_empty_directory_cancels() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/keep.txt"), "mine").unwrap();
        let mut prompt = Scripted {
            answers: vec![],
            asked: vec![],
            confirm: false,
        };
        let outcome = template()
            .run(&options(dir.path()), Some(&mut prompt))
            .unwrap();
        assert_eq!(outcome, RunOutcome::Cancelled);
        assert_eq!(prompt.asked.len(), 1);
        assert!(prompt.asked[0].contains("already contains other files"));
        assert_eq!(entries(&dir.path().join("app")), ["keep.txt"]);
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn detects_manifest_versions() {
        assert_eq!(
            detect_manifest_format("spin_version = \"1\"\nname = \"a\""),
            Some(1)
        );
        assert_eq!(
            detect_manifest_format("spin_manifest_version = \"1\""),
            Some(1)
        );
        assert_eq!(detect_manifest_format("spin_manifest_version = 2"), Some(2));
        assert_eq!(detect_manifest_format("name = \"a\""), None);
        assert_eq!(detect_manifest_format("not toml ["), None);
    }
}
