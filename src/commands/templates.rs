//! `spin templates` (alias `template`): install, list, upgrade and remove
//! application templates. Output follows Spin's, tables included.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use spin_templates::{
    InstallEvent, InstallResults, SkippedReason, Template, TemplateManager, TemplateSource,
};

/// The user's template store.
pub(crate) fn template_manager() -> anyhow::Result<TemplateManager> {
    Ok(TemplateManager::new(
        super::plugins::data_dir()?.join("templates"),
    ))
}

/// Install, list, upgrade and remove templates.
#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Install templates from a Git repository or a local directory.
    Install(Install),
    /// Upgrade installed templates from the repositories they came from.
    Upgrade(Upgrade),
    /// Remove an installed template.
    Uninstall(Uninstall),
    /// List the available templates.
    List(List),
}

impl TemplatesCommand {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let manager = template_manager()?;
        match self {
            Self::Install(cmd) => cmd.run(&manager),
            Self::Upgrade(cmd) => cmd.run(&manager),
            Self::Uninstall(cmd) => cmd.run(&manager),
            Self::List(cmd) => cmd.run(&manager),
        }?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Install templates.
#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["git", "dir"])))]
pub struct Install {
    /// URL or path of a Git repository whose `templates` directory holds the templates.
    #[arg(long, alias = "repo")]
    git: Option<String>,
    /// Branch or tag of the Git repository.
    #[arg(long, requires = "git")]
    branch: Option<String>,
    /// Local directory holding the templates (in a `templates` directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Replace templates that are already installed instead of skipping them.
    #[arg(long, alias = "update")]
    upgrade: bool,
}

impl Install {
    fn run(self, manager: &TemplateManager) -> anyhow::Result<()> {
        let source = match (&self.git, &self.dir) {
            (Some(git), _) => TemplateSource::git(git, self.branch.clone()),
            (_, Some(dir)) => TemplateSource::directory(dir),
            _ => unreachable!("clap requires --git or --dir"),
        };
        let results = manager
            .install(&source, self.upgrade, &mut report)
            .context("Failed to install one or more templates")?;
        print_install_results(&results);
        Ok(())
    }
}

/// Prints install progress: what Spin prints, plus a clear note when a
/// built-in copy stands in for an unreachable repository.
fn report(event: InstallEvent) {
    match event {
        InstallEvent::CopyingRemoteSource => println!("Copying remote template source"),
        InstallEvent::UsingBuiltInCopy {
            url,
            reason,
            template_ids,
        } => {
            eprintln!("warning: could not clone {url}: {reason}");
            eprintln!(
                "note: the repository is unreachable (is this machine offline?); installing the copy of {} built into spin instead.",
                template_ids.join(", ")
            );
        }
        InstallEvent::Installing(id) => println!("Installing template {id}..."),
    }
}

fn print_install_results(results: &InstallResults) {
    let InstallResults { installed, skipped } = results;
    if installed.is_empty() && skipped.is_empty() {
        println!("The specified source contained no templates");
        return;
    }
    println!("Installed {} template(s)", installed.len());
    if !installed.is_empty() {
        println!();
        println!("{}", templates_table(installed, false));
    }
    if !skipped.is_empty() {
        println!();
        println!("Skipped {} template(s)", skipped.len());
        println!();
        let rows = skipped
            .iter()
            .map(|(id, reason)| vec![id.clone(), skipped_reason(reason)])
            .collect();
        println!("{}", table(&["Name", "Reason skipped"], rows));
        if skipped
            .iter()
            .any(|(_, r)| *r == SkippedReason::AlreadyExists)
        {
            println!();
            println!(
                "To replace templates that are already installed, run the command again with `--upgrade`."
            );
        }
    }
}

fn skipped_reason(reason: &SkippedReason) -> String {
    match reason {
        SkippedReason::AlreadyExists => "Already exists".to_owned(),
        SkippedReason::Invalid(message) => format!("Template load error: {message}"),
    }
}

/// Upgrade templates.
#[derive(Args)]
pub struct Upgrade {
    /// Upgrade only the templates from this Git repository.
    #[arg(long)]
    repo: Option<String>,
    /// Branch or tag of the repository given with `--repo`.
    #[arg(long, requires = "repo")]
    branch: Option<String>,
    /// Upgrade templates from every repository (the default without `--repo`).
    #[arg(long, conflicts_with = "repo")]
    all: bool,
}

impl Upgrade {
    fn run(self, manager: &TemplateManager) -> anyhow::Result<()> {
        let sources = match &self.repo {
            Some(repo) => vec![TemplateSource::git(repo, self.branch.clone())],
            None => manager
                .git_sources()?
                .into_iter()
                .map(|url| TemplateSource::git(&url, None))
                .collect(),
        };
        if sources.is_empty() {
            println!("No template repositories found to upgrade.");
            println!(
                "Templates installed from a directory are upgraded with `spin templates install --dir PATH --upgrade`."
            );
            return Ok(());
        }

        let mut upgraded = Vec::new();
        let mut errors = Vec::new();
        for source in sources {
            let TemplateSource::Git { url, .. } = &source else {
                unreachable!("upgrade sources are Git repositories")
            };
            println!("Upgrading templates from {url}...");
            match manager.install(&source, true, &mut report) {
                Ok(results) => upgraded.extend(results.installed),
                Err(e) => errors.push(vec![url.clone(), e.to_string()]),
            }
            println!();
        }
        if upgraded.is_empty() {
            println!("No templates were installed");
        } else {
            println!("Upgraded {} template(s)", upgraded.len());
            println!();
            println!("{}", templates_table(&upgraded, false));
        }
        if !errors.is_empty() {
            println!();
            println!("Errors upgrading {} repository/ies", errors.len());
            println!();
            println!("{}", table(&["URL", "Error"], errors));
            return Err(spin_hint::Hinted::new(
                "some template repositories could not be upgraded",
                "the errors are listed above",
            )
            .into());
        }
        Ok(())
    }
}

/// Remove a template.
#[derive(Args)]
pub struct Uninstall {
    /// The ID of the template to remove.
    template_id: String,
}

impl Uninstall {
    fn run(self, manager: &TemplateManager) -> anyhow::Result<()> {
        manager
            .uninstall(&self.template_id)
            .context("Failed to uninstall template")?;
        Ok(())
    }
}

/// List templates.
#[derive(Args)]
pub struct List {
    /// Only list templates that have all of these tags.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Also show where each template was installed from.
    #[arg(long)]
    verbose: bool,
}

impl List {
    fn run(self, manager: &TemplateManager) -> anyhow::Result<()> {
        let results = manager.list().context("Failed to list templates")?;
        let (templates, skipped): (Vec<_>, Vec<_>) = results
            .templates
            .into_iter()
            .partition(|t| t.matches_all_tags(&self.tags));
        if templates.is_empty() {
            println!(
                "No templates matched tags ({} templates skipped)",
                skipped.len()
            );
        } else {
            println!("{}", templates_table(&templates, self.verbose));
        }
        if !results.warnings.is_empty() {
            println!();
            for (id, reason) in &results.warnings {
                println!("note: ignored invalid entry {id} ({reason})");
            }
        }
        Ok(())
    }
}

fn templates_table(templates: &[Template], verbose: bool) -> String {
    let mut header = vec!["Name", "Description"];
    if verbose {
        header.push("Installed from");
    }
    let rows = templates
        .iter()
        .map(|t| {
            let mut row = vec![t.id().to_owned(), t.description().unwrap_or("").to_owned()];
            if verbose {
                row.push(t.origin().to_string());
            }
            row
        })
        .collect();
    table(&header, rows)
}

/// Renders a table in the "ASCII borders only, condensed" style Spin uses:
/// a frame, `=` under the header, no lines between columns or rows.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let width = |s: &str| s.chars().count();
    let widths: Vec<usize> = (0..header.len())
        .map(|col| {
            rows.iter()
                .map(|row| width(&row[col]))
                .chain([width(header[col])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Each cell is padded by one space on either side, and columns are
    // separated by one more space.
    let inner = widths.iter().map(|w| w + 2).sum::<usize>() + widths.len() - 1;
    let line = |cells: &[&str]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!(" {cell}{} ", " ".repeat(w - width(cell))))
            .collect();
        format!("|{}|", cells.join(" "))
    };
    let border = format!("+{}+", "-".repeat(inner));
    let mut out = vec![
        border.clone(),
        line(header),
        format!("+{}+", "=".repeat(inner)),
    ];
    for row in &rows {
        out.push(line(&row.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    out.push(border);
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn tables_look_like_spins() {
        let rendered = table(
            &["Name", "Description"],
            vec![vec![
                "http-py".into(),
                "HTTP request handler using Python".into(),
            ]],
        );
        assert_eq!(
            rendered,
            "+---------------------------------------------+\n\
             | Name      Description                       |\n\
             +=============================================+\n\
             | http-py   HTTP request handler using Python |\n\
             +---------------------------------------------+"
        );
    }
}
