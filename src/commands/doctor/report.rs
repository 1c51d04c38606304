//! What `spin doctor` found, and how it is printed: one line per check,
//! marked with a symbol (never colour alone), then the details and the
//! `hint:` for anything that needs fixing.

use std::fmt::Write as _;

use spin_hint::Hinted;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to fix.
    Ok,
    /// Works now, but something will bite later (a stale build, a
    /// toolchain not yet installed). Does not change the exit code.
    Warning,
    /// `spin up` or `spin build` would fail. Exit code 1.
    Problem,
    /// Not checked, with the reason.
    Skipped,
}

impl Status {
    /// The mark at the start of the line.
    fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warning => "!",
            Status::Problem => "✗",
            Status::Skipped => "-",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How it came out.
    pub status: Status,
    /// What was checked: `manifest`, ``component `hello` ``, …
    pub subject: String,
    /// What was found, in one line.
    pub message: String,
    /// More lines, such as a manifest error's quoted line and caret.
    pub details: Vec<String>,
    /// The fix: a command to run or a line to change.
    pub hint: Option<String>,
}

impl Finding {
    fn new(status: Status, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            subject: subject.into(),
            message: message.into(),
            details: Vec::new(),
            hint: None,
        }
    }

    /// A check that passed.
    pub fn ok(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Ok, subject, message)
    }

    /// Something to fix before it bites.
    pub fn warning(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Warning, subject, message)
    }

    /// Something that stops the app from building or running.
    pub fn problem(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Problem, subject, message)
    }

    /// A check that could not be made, and why.
    pub fn skipped(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Skipped, subject, message)
    }

    /// Adds the fix.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A problem from an error with its hint as data: the message's first
    /// line, the rest as details, and the hint (none when empty).
    pub fn problem_from(subject: impl Into<String>, error: Hinted) -> Self {
        let mut lines = error.message.trim_end().lines();
        let mut finding = Self::problem(subject, lines.next().unwrap_or_default());
        finding.details = lines.map(str::to_owned).collect();
        finding.hint = Some(error.hint).filter(|hint| !hint.is_empty());
        finding
    }

    /// A problem from a diagnostic that quotes a file (a manifest or runtime
    /// config error): `message`, then the diagnostic's lines as details,
    /// with its final `hint:` line kept apart.
    pub fn problem_with_diagnostic(
        subject: impl Into<String>,
        message: impl Into<String>,
        diagnostic: &str,
    ) -> Self {
        let (body, hint) = split_hint(diagnostic);
        let mut finding = Self::problem(subject, message);
        finding.details = body.trim_end().lines().map(str::to_owned).collect();
        finding.hint = hint.map(str::to_owned);
        finding
    }
}

/// Splits `text` at its last `hint:` line.
fn split_hint(text: &str) -> (&str, Option<&str>) {
    if let Some(hint) = text.strip_prefix("hint: ") {
        return ("", Some(hint.trim()));
    }
    match text.rfind("\nhint: ") {
        Some(at) => (&text[..at], Some(text[at + "\nhint: ".len()..].trim())),
        None => (text, None),
    }
}

/// Every finding, in the order the checks ran.
#[derive(Debug, Default)]
pub struct Report {
    findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds several findings.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
    }

    fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// Whether any check found a problem (exit code 1).
    pub fn has_problems(&self) -> bool {
        self.count(Status::Problem) > 0
    }

    /// The report as printed: a line per finding, its details and hint
    /// indented below it, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            let _ = writeln!(
                out,
                "{} {}: {}",
                finding.status.symbol(),
                finding.subject,
                finding.message
            );
            for line in &finding.details {
                let _ = writeln!(out, "    {line}");
            }
            if let Some(hint) = &finding.hint {
                let _ = writeln!(out, "  hint: {hint}");
            }
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    fn summary(&self) -> String {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        match (self.count(Status::Problem), self.count(Status::Warning)) {
            (0, 0) => "No problems found.".to_owned(),
            (0, warnings) => format!("No problems found; {}.", plural(warnings, "warning")),
            (problems, warnings) => format!(
                "{}, {}.",
                plural(problems, "problem"),
                plural(warnings, "warning")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_has_its_own_mark_and_hints_follow_their_line() {
        let mut report = Report::default();
        report.push(Finding::ok("manifest", "`spin.toml` loads"));
        report.push(
            Finding::warning("component `hello`", "stale: `app.py` changed")
                .hint("run `spin build`"),
        );
        report.push(
            Finding::problem("listen address", "127.0.0.1:3000 is in use")
                .hint("run `spin up --listen 127.0.0.1:3001`"),
        );
        report.push(Finding::skipped("component `web`", "source is a URL"));
        assert_eq!(
            report.render(),
            "✓ manifest: `spin.toml` loads\n\
             ! component `hello`: stale: `app.py` changed\n  hint: run `spin build`\n\
             ✗ listen address: 127.0.0.1:3000 is in use\n  hint: run `spin up --listen 127.0.0.1:3001`\n\
             - component `web`: source is a URL\n\
             \n1 problem, 1 warning.\n"
        );
        assert!(report.has_problems());
    }

    #[test]
    fn warnings_alone_are_not_problems() {
        let mut report = Report::default();
        report.push(Finding::warning("a", "b"));
        report.push(Finding::warning("c", "d"));
        assert!(!report.has_problems());
        assert!(
            report
                .render()
                .ends_with("\nNo problems found; 2 warnings.\n")
        );
        assert_eq!(Report::default().summary(), "No problems found.");
    }

    #[test]
    fn an_error_splits_into_message_details_and_hint() {
        let finding = Finding::problem_from(
            "variables",
            Hinted::new(
                "the required variable `token` has no value",
                "pass `--variable token=<value>`",
            ),
        );
        assert_eq!(
            finding.message,
            "the required variable `token` has no value"
        );
        assert!(finding.details.is_empty());
        assert_eq!(
            finding.hint.as_deref(),
            Some("pass `--variable token=<value>`")
        );

        let finding = Finding::problem_from(
            "x",
            Hinted::new("cannot install:\npip said no", "check the index"),
        );
        assert_eq!(finding.message, "cannot install:");
        assert_eq!(finding.details, ["pip said no"]);
        assert_eq!(finding.hint.as_deref(), Some("check the index"));

        let diagnostic =
            "error: unknown field `sorce`\n  --> spin.toml:9:1\nhint: did you mean `source`?";
        let finding = Finding::problem_with_diagnostic("manifest", "does not load", diagnostic);
        assert_eq!(
            finding.details,
            ["error: unknown field `sorce`", "  --> spin.toml:9:1"]
        );
        assert_eq!(finding.hint.as_deref(), Some("did you mean `source`?"));

        let plain = Finding::problem_from("x", Hinted::new("no hint here", ""));
        assert_eq!(plain.hint, None);
    }
}
