//! `spin new` and `spin add`: create an application, or add a component to
//! one, from a template. Both the 1.x form (`spin new http-py hello-world`)
//! and the current one (`spin new hello-world -t http-py`) are accepted.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use spin_hint::Hinted;
use spin_templates::{
    Error as TemplateError, Interaction, Operation, Parameter, RunOptions, RunOutcome, Template,
    TemplateManager,
};

use super::templates::template_manager;

/// Create a new application from a template.
#[derive(Args)]
pub struct NewCommand {
    #[command(flatten)]
    options: TemplateOptions,
}

/// Add a component to an existing application from a template.
#[derive(Args)]
pub struct AddCommand {
    #[command(flatten)]
    options: TemplateOptions,
    /// The application manifest (or its directory) to add the component to.
    #[arg(short = 'f', long = "file")]
    app: Option<PathBuf>,
}

/// Options shared by `new` and `add`.
#[derive(Args)]
struct TemplateOptions {
    /// The name of the new application or component.
    #[arg(value_parser = validate_name)]
    name: Option<String>,
    /// With two positional arguments (Spin 1.x syntax), the first is the
    /// template and this is the name.
    #[arg(hide = true)]
    name_back_compat: Option<String>,
    /// The template to use. Run `spin templates list` to see the choices.
    #[arg(short = 't', long = "template")]
    template_id: Option<String>,
    /// Only offer templates with these tags.
    #[arg(long = "tag", conflicts_with = "template_id")]
    tags: Vec<String>,
    /// The directory to create the application or component in (default: the name).
    #[arg(short = 'o', long = "output", conflicts_with = "init")]
    output_path: Option<PathBuf>,
    /// Create the application in the current directory.
    #[arg(long)]
    init: bool,
    /// A parameter value, as NAME=VALUE. Repeatable.
    #[arg(short = 'v', long = "value", value_parser = parse_value)]
    values: Vec<(String, String)>,
    /// A TOML file of parameter values (`name = "value"`); `--value` overrides it.
    #[arg(long)]
    values_file: Option<PathBuf>,
    /// Use each parameter's default value instead of asking.
    #[arg(short = 'a', long)]
    accept_defaults: bool,
    /// Don't create a .gitignore file or a Git repository.
    #[arg(long)]
    no_vcs: bool,
    /// Generate into a directory that already has files, overwriting files of the same name.
    #[arg(long, alias = "allow-overwrites")]
    allow_overwrite: bool,
}

impl NewCommand {
    /// Runs `spin new`.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        self.options.run(Operation::NewApplication)
    }
}

impl AddCommand {
    /// Runs `spin add`.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let given = self
            .app
            .clone()
            .unwrap_or_else(|| PathBuf::from("spin.toml"));
        let manifest = if given.is_dir() {
            given.join("spin.toml")
        } else {
            given
        };
        if !manifest.is_file() {
            return Err(Hinted::new(
                format!(
                    "Can't add a component to {}: the file does not exist",
                    manifest.display()
                ),
                "run `spin add` in the application's directory, or pass its manifest with `-f`",
            )
            .into());
        }
        let manifest_path = std::path::absolute(&manifest)
            .with_context(|| format!("Can't resolve the path {}", manifest.display()))?;
        self.options.run(Operation::AddComponent { manifest_path })
    }
}

impl TemplateOptions {
    fn run(self, operation: Operation) -> anyhow::Result<ExitCode> {
        let manager = template_manager()?;
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let (name, template_id) = self.name_and_template(&manager, &operation)?;

        let template = match template_id {
            Some(id) => manager.get(&id)?.ok_or(TemplateError::NotFound(id))?,
            None if interactive => choose_template(&manager, &operation, &self.tags)?,
            None => {
                return Err(Hinted::new(
                    "no template chosen",
                    "pass one with `-t TEMPLATE`; `spin templates list` shows the available templates",
                )
                .into());
            }
        };
        let name = match name {
            Some(name) => name,
            None if interactive => prompt_name(&operation)?,
            None => {
                return Err(Hinted::new(
                    "no name given",
                    format!(
                        "pass the name of the new {} as an argument",
                        noun(&operation)
                    ),
                )
                .into());
            }
        };

        let output_path = match (&self.output_path, self.init) {
            (Some(path), _) => path.clone(),
            (None, true) => PathBuf::from("."),
            (None, false) => path_safe(&name),
        };
        let mut values = match &self.values_file {
            Some(file) => values_from_file(file)?,
            None => HashMap::new(),
        };
        values.extend(self.values.iter().cloned());

        let options = RunOptions {
            operation,
            name,
            output_path,
            values,
            accept_defaults: self.accept_defaults,
            no_vcs: self.no_vcs,
            allow_overwrite: self.allow_overwrite,
        };
        let mut prompt = TerminalPrompt;
        let interaction: Option<&mut dyn Interaction> =
            if interactive { Some(&mut prompt) } else { None };
        match template.run(&options, interaction)? {
            RunOutcome::Generated {
                git_init_failed: Some(reason),
            } => eprintln!(
                "warning: spin was unable to initialise a Git repository ({reason}). Run `git init` yourself if you want one."
            ),
            RunOutcome::Generated { .. } | RunOutcome::Cancelled => {}
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Sorts out the positional arguments: two of them are Spin 1.x's
    /// `<template> <name>`; one is a name, even if a template has that ID.
    fn name_and_template(
        &self,
        manager: &TemplateManager,
        operation: &Operation,
    ) -> anyhow::Result<(Option<String>, Option<String>)> {
        match (&self.name, &self.name_back_compat, &self.template_id) {
            (Some(_), Some(_), Some(_)) => Err(Hinted::new(
                "the template is given twice, as an argument and with `-t`",
                "pass it only once",
            )
            .into()),
            (Some(template), Some(name), None) => {
                validate_name(name).map_err(anyhow::Error::msg)?;
                Ok((Some(name.clone()), Some(template.clone())))
            }
            (Some(name), None, None) => {
                if manager.get(name).ok().flatten().is_some() {
                    eprintln!(
                        "note: this creates {} called {name}. If you meant the {name} template, write `-t {name}`.",
                        match operation {
                            Operation::NewApplication => "an application",
                            Operation::AddComponent { .. } => "a component",
                        }
                    );
                }
                Ok((Some(name.clone()), None))
            }
            (name, _, template) => Ok((name.clone(), template.clone())),
        }
    }
}

fn noun(operation: &Operation) -> &'static str {
    match operation {
        Operation::NewApplication => "application",
        Operation::AddComponent { .. } => "component",
    }
}

/// Asks on the terminal which template to use.
fn choose_template(
    manager: &TemplateManager,
    operation: &Operation,
    tags: &[String],
) -> anyhow::Result<Template> {
    let mut templates: Vec<Template> = manager
        .list()?
        .templates
        .into_iter()
        .filter(|t| t.matches_all_tags(tags))
        .filter(|t| match operation {
            Operation::NewApplication => t.supports_new_application(),
            Operation::AddComponent { .. } => t.supports_add_component(),
        })
        .collect();
    if templates.is_empty() {
        return Err(Hinted::new(
            "no templates match",
            "run `spin templates list` to see the available templates",
        )
        .into());
    }
    eprintln!("Pick a template to start your {} with:", noun(operation));
    for (i, t) in templates.iter().enumerate() {
        eprintln!(
            "  {}) {} ({})",
            i + 1,
            t.id(),
            t.description().unwrap_or("")
        );
    }
    loop {
        let answer = read_answer(&format!("Template [1-{}]", templates.len()))?;
        match answer.parse::<usize>() {
            Ok(n) if (1..=templates.len()).contains(&n) => return Ok(templates.swap_remove(n - 1)),
            _ => eprintln!("Enter a number between 1 and {}.", templates.len()),
        }
    }
}

fn prompt_name(operation: &Operation) -> anyhow::Result<String> {
    loop {
        let name = read_answer(&format!("Enter a name for your new {}", noun(operation)))?;
        match validate_name(&name) {
            Ok(name) => return Ok(name),
            Err(problem) => eprintln!("{problem}"),
        }
    }
}

/// Prompts on stderr and reads a trimmed line from stdin.
fn read_answer(prompt: &str) -> std::io::Result<String> {
    eprint!("{prompt}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "no more input",
        ));
    }
    Ok(line.trim().to_owned())
}

/// Asks for parameter values on the terminal, showing the default.
struct TerminalPrompt;

impl Interaction for TerminalPrompt {
    fn ask(&mut self, parameter: &Parameter, problem: Option<&str>) -> std::io::Result<String> {
        if let Some(problem) = problem {
            eprintln!("Invalid value: {problem}");
        }
        let mut prompt = parameter.prompt().to_owned();
        if let Some(allowed) = parameter.allowed_values() {
            prompt.push_str(&format!(" ({})", allowed.join("/")));
        }
        if let Some(default) = parameter.default_value().filter(|d| !d.is_empty()) {
            prompt.push_str(&format!(" [{default}]"));
        }
        read_answer(&prompt)
    }

    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        let answer = read_answer(&format!("{question} [y/N]"))?;
        Ok(matches!(answer.to_lowercase().as_str(), "y" | "yes"))
    }
}

/// Names become directory names and, kebab-cased, component IDs, so each
/// word must start with a letter (as in Spin).
fn validate_name(name: &str) -> Result<String, String> {
    let bad: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.starts_with(char::is_alphabetic))
        .map(|word| format!("'{word}'"))
        .collect();
    match bad.len() {
        0 => Ok(name.to_owned()),
        1 => Err(format!(
            "Each segment of the name must start with a letter. {} does not start with a letter",
            bad[0]
        )),
        _ => Err(format!(
            "Each segment of the name must start with a letter. {} do not start with a letter",
            bad.join(", ")
        )),
    }
}

fn parse_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("'{text}' should be in the form NAME=VALUE"))
}

fn values_from_file(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read values file {}", path.display()))?;
    toml::from_str(&text).with_context(|| {
        format!(
            "Values file {} must be TOML of the form `name = \"value\"`",
            path.display()
        )
    })
}

/// A directory name for `name`: characters other than letters, digits,
/// `-`, `_` and `.` become `_`.
fn path_safe(name: &str) -> PathBuf {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_need_each_segment_to_start_with_a_letter() {
        assert!(validate_name("hello-world").is_ok());
        assert!(validate_name("Hello World2").is_ok());
        assert_eq!(
            validate_name("hello-2nd").unwrap_err(),
            "Each segment of the name must start with a letter. '2nd' does not start with a letter"
        );
        assert!(
            validate_name("9-8")
                .unwrap_err()
                .contains("'9', '8' do not")
        );
    }

    #[test]
    fn values_parse_and_paths_are_made_safe() {
        assert_eq!(parse_value("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_value("nope").is_err());
        assert_eq!(path_safe("my app/x"), PathBuf::from("my_app_x"));
    }
}
