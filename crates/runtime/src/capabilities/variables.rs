//! Application variables: resolved once at startup from the providers
//! (`--variable`, `SPIN_VARIABLE_<NAME>`, a `.env` file, then the manifest's
//! defaults), expanded into each component's `variables`/`config` templates,
//! and served to guests through `fermyon:spin/variables@2.0.0`.

use anyhow::{Result, bail};
use spin_manifest::App;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Where variable values come from, highest priority first.
#[derive(Debug, Default, Clone)]
pub struct VariableSources {
    /// `--variable name=value` flags.
    pub cli: Vec<(String, String)>,
    /// The process environment (`SPIN_VARIABLE_<NAME>`).
    pub env: Vec<(String, String)>,
    /// `KEY=VALUE` lines of a `.env` file, read as `SPIN_VARIABLE_<NAME>` too.
    pub dotenv: Vec<(String, String)>,
}

impl VariableSources {
    /// Reads the environment and the `.env` file in `dir`, if there is one.
    pub fn from_environment(cli: Vec<(String, String)>, dir: &Path) -> Result<Self> {
        let dotenv = match std::fs::read_to_string(dir.join(".env")) {
            Ok(text) => parse_dotenv(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => bail!("reading `{}`: {e}", dir.join(".env").display()),
        };
        Ok(Self {
            cli,
            env: std::env::vars().collect(),
            dotenv,
        })
    }

    fn lookup(&self, name: &str) -> Option<&str> {
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        find(&self.cli, name)
            .or_else(|| find(&self.env, &env_name))
            .or_else(|| find(&self.dotenv, &env_name))
    }
}

/// The last value given for `key` (later flags override earlier ones).
fn find<'a>(list: &'a [(String, String)], key: &str) -> Option<&'a str> {
    list.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("export ").unwrap_or(l).split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect()
}

/// The values of the application's variables.
#[derive(Debug, Default, Clone)]
pub struct ApplicationVariables {
    values: HashMap<String, String>,
}

impl ApplicationVariables {
    /// Resolves every declared variable. A required variable without a value
    /// is an error naming it and how to provide it; an undeclared
    /// `--variable` is an error too, since it is almost certainly a typo.
    pub fn resolve(app: &App, sources: &VariableSources) -> Result<Self> {
        for (name, _) in &sources.cli {
            if !app.variables.contains_key(name) {
                let declared: Vec<&str> = app.variables.keys().map(String::as_str).collect();
                bail!(
                    "`--variable {name}=…` sets a variable the application does not declare\n\nhint: declared variables: {}",
                    if declared.is_empty() {
                        "none (add a `[variables]` table to the manifest)".to_string()
                    } else {
                        declared.join(", ")
                    }
                );
            }
        }
        let mut values = HashMap::new();
        for (name, variable) in &app.variables {
            match sources.lookup(name).or(variable.default.as_deref()) {
                Some(value) => {
                    values.insert(name.clone(), value.to_string());
                }
                None if variable.required => bail!(
                    "the required variable `{name}` has no value\n\nhint: pass `--variable {name}=<value>` or set the environment variable `SPIN_VARIABLE_{}`",
                    name.to_ascii_uppercase()
                ),
                None => {}
            }
        }
        Ok(Self { values })
    }

    /// Expands `{{ name }}` references to application variables in `template`.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                bail!("unterminated `{{{{` in `{template}`");
            };
            let name = after[..end].trim();
            match self.values.get(name) {
                Some(value) => out.push_str(value),
                None => bail!(
                    "`{template}` refers to the variable `{name}`, which has no value\n\nhint: declare it under `[variables]` with a default, or provide it with `--variable {name}=<value>`"
                ),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Expands each of a component's variable templates.
    pub fn expand_all(
        &self,
        templates: &BTreeMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        templates
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.expand(v)?)))
            .collect()
    }
}

/// Whether `name` is a valid variable name: lower snake case, as Spin requires.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> ApplicationVariables {
        ApplicationVariables {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn expands_templates() {
        let v = vars(&[("host", "127.0.0.1"), ("port", "6379")]);
        assert_eq!(
            v.expand("redis://{{ host }}:{{port}}").unwrap(),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(v.expand("plain").unwrap(), "plain");
        assert!(v.expand("{{ missing }}").is_err());
        assert!(v.expand("{{ host").is_err());
    }

    #[test]
    fn dotenv_lines() {
        let parsed = parse_dotenv("# c\nSPIN_VARIABLE_A=1\nexport SPIN_VARIABLE_B=\"two\"\n\n");
        assert_eq!(
            parsed,
            vec![
                ("SPIN_VARIABLE_A".to_string(), "1".to_string()),
                ("SPIN_VARIABLE_B".to_string(), "two".to_string())
            ]
        );
    }

    #[test]
    fn names() {
        assert!(is_valid_name("redis_address"));
        assert!(!is_valid_name("Redis"));
        assert!(!is_valid_name("1a"));
        assert!(!is_valid_name("a-b"));
    }
}

mod host {
    use super::is_valid_name;
    use crate::capabilities::bindings::variables::{Error, Host};
    use crate::state::HostState;

    impl Host for HostState {
        async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
            if !is_valid_name(&name) {
                return Ok(Err(Error::InvalidName(format!(
                    "`{name}` is not a valid variable name: use lower-case letters, digits and underscores, starting with a letter"
                ))));
            }
            Ok(self
                .component
                .variables
                .get(&name)
                .cloned()
                .ok_or(Error::Undefined(format!("no variable named `{name}`"))))
        }
    }
}
