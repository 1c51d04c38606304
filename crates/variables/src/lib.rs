//! Application variables: resolved once at startup from the providers
//! (`--variable`, the runtime config file's `[[variables_provider]]`s, then
//! `SPIN_VARIABLE_<NAME>` and a `.env` file, then the manifest's defaults),
//! expanded into each component's `variables`/`config` templates, and served
//! to guests through `fermyon:spin/variables@2.0.0` (by `spin-runtime`).
//!
//! Pure: no wasmtime, no tokio, so `spin up` resolves every variable (and
//! reports a missing required one) before anything compiles.

#![deny(missing_docs)]

use anyhow::{Context as _, Result, bail};
use spin_hint::Hinted;
use spin_manifest::App;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use spin_runtime_config::VariablesProviderConfig;

/// The prefix of the environment provider that is always present.
const DEFAULT_ENV_PREFIX: &str = "SPIN_VARIABLE";

/// Where variable values come from, highest priority first: `--variable`,
/// the configured providers in file order, then the default environment
/// provider (Spin's order).
#[derive(Debug, Default, Clone)]
pub struct VariableSources {
    cli: Vec<(String, String)>,
    providers: Vec<Provider>,
    env: Vec<(String, String)>,
}

/// One provider, with its files already read.
#[derive(Debug, Clone)]
enum Provider {
    /// Fixed values by name.
    Static(BTreeMap<String, String>),
    /// `<PREFIX>_<NAME>` in the process environment, then in `dotenv`.
    Env {
        prefix: String,
        dotenv: Vec<(String, String)>,
    },
}

impl VariableSources {
    /// Reads the process environment, the dotenv files of the `configured`
    /// providers, and the `.env` file in `dir`, if there is one.
    pub fn from_environment(
        cli: Vec<(String, String)>,
        dir: &Path,
        configured: &[VariablesProviderConfig],
    ) -> Result<Self> {
        Self::new(cli, dir, configured, std::env::vars().collect())
    }

    fn new(
        cli: Vec<(String, String)>,
        dir: &Path,
        configured: &[VariablesProviderConfig],
        env: Vec<(String, String)>,
    ) -> Result<Self> {
        let mut providers = configured
            .iter()
            .map(|config| {
                Ok(match config {
                    VariablesProviderConfig::Static { values } => Provider::Static(values.clone()),
                    VariablesProviderConfig::Env {
                        prefix,
                        dotenv_path,
                    } => Provider::Env {
                        prefix: prefix.clone().unwrap_or_else(|| DEFAULT_ENV_PREFIX.into()),
                        dotenv: match dotenv_path {
                            Some(path) => read_dotenv(path)?,
                            None => Vec::new(),
                        },
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        providers.push(Provider::Env {
            prefix: DEFAULT_ENV_PREFIX.into(),
            dotenv: read_dotenv(&dir.join(".env"))?,
        });
        Ok(Self {
            cli,
            providers,
            env,
        })
    }

    fn lookup(&self, name: &str) -> Option<&str> {
        find(&self.cli, name).or_else(|| {
            self.providers.iter().find_map(|provider| match provider {
                Provider::Static(values) => values.get(name).map(String::as_str),
                Provider::Env { prefix, dotenv } => {
                    let key = env_name(prefix, name);
                    find(&self.env, &key).or_else(|| find(dotenv, &key))
                }
            })
        })
    }
}

/// The environment variable an env provider reads for `name`: the prefix,
/// unless empty, joined to the upper-cased name with an underscore.
fn env_name(prefix: &str, name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if prefix.is_empty() {
        upper
    } else {
        format!("{prefix}_{upper}")
    }
}

/// The lines of a dotenv file; a missing file has none, as in Spin.
fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_dotenv(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading `{}`", path.display())),
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
    /// is an error naming it, with how to provide it as its hint (a
    /// [`Hinted`]); an undeclared `--variable` is an error too, since it is
    /// almost certainly a typo.
    pub fn resolve(app: &App, sources: &VariableSources) -> Result<Self> {
        for (name, _) in &sources.cli {
            if !app.variables.contains_key(name) {
                let declared: Vec<&str> = app.variables.keys().map(String::as_str).collect();
                bail!(Hinted::new(
                    format!(
                        "`--variable {name}=…` sets a variable the application does not declare"
                    ),
                    format!(
                        "declared variables: {}",
                        if declared.is_empty() {
                            "none (add a `[variables]` table to the manifest)".to_string()
                        } else {
                            declared.join(", ")
                        }
                    )
                ));
            }
        }
        let mut values = HashMap::new();
        for (name, variable) in &app.variables {
            match sources.lookup(name).or(variable.default.as_deref()) {
                Some(value) => {
                    values.insert(name.clone(), value.to_string());
                }
                None if variable.required => bail!(Hinted::new(
                    format!("the required variable `{name}` has no value"),
                    format!(
                        "pass `--variable {name}=<value>` or set the environment variable `SPIN_VARIABLE_{}`",
                        name.to_ascii_uppercase()
                    )
                )),
                None => {}
            }
        }
        Ok(Self { values })
    }

    /// The values of the variables `app` marks `secret = true`, for the
    /// host to keep out of its logs and errors.
    pub fn secret_values(&self, app: &App) -> Vec<String> {
        app.variables
            .iter()
            .filter(|(_, variable)| variable.secret)
            .filter_map(|(name, _)| self.values.get(name).cloned())
            .collect()
    }

    /// Expands `{{ name }}` references to application variables in `template`.
    /// A reference to a variable without a value is a [`Hinted`] error.
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
                None => bail!(Hinted::new(
                    format!("`{template}` refers to the variable `{name}`, which has no value"),
                    format!(
                        "declare it under `[variables]` with a default, or provide it with `--variable {name}=<value>`"
                    )
                )),
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

    /// The error's message and its hint, which must be data (a [`Hinted`])
    /// rather than text in the message.
    fn hinted(err: anyhow::Error) -> Hinted {
        let hinted = err.downcast::<Hinted>().expect("a Hinted error");
        assert!(!hinted.message.contains("hint"), "{}", hinted.message);
        hinted
    }

    fn app(variables: &str) -> App {
        let manifest = format!(
            "spin_manifest_version = 2\n[application]\nname = \"a\"\n[variables]\n{variables}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\n"
        );
        spin_manifest::parse(&manifest, Path::new("spin.toml")).unwrap()
    }

    #[test]
    fn errors_carry_their_hint_as_data() {
        let err = vars(&[]).expand("redis://{{ host }}").unwrap_err();
        let hint = hinted(err);
        assert_eq!(
            hint.message,
            "`redis://{{ host }}` refers to the variable `host`, which has no value"
        );
        assert_eq!(
            hint.hint,
            "declare it under `[variables]` with a default, or provide it with `--variable host=<value>`"
        );

        let required = app("token = { required = true }");
        let err = ApplicationVariables::resolve(&required, &VariableSources::default());
        let hint = hinted(err.unwrap_err());
        assert_eq!(hint.message, "the required variable `token` has no value");
        assert_eq!(
            hint.hint,
            "pass `--variable token=<value>` or set the environment variable `SPIN_VARIABLE_TOKEN`"
        );

        let sources = VariableSources {
            cli: pairs(&[("tokn", "x")]),
            ..VariableSources::default()
        };
        let hint = hinted(ApplicationVariables::resolve(&required, &sources).unwrap_err());
        assert_eq!(
            hint.message,
            "`--variable tokn=…` sets a variable the application does not declare"
        );
        assert_eq!(hint.hint, "declared variables: token");
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

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn providers_are_asked_in_spins_order() {
        let dir = std::env::temp_dir().join(format!("spin-vars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".env"), "SPIN_VARIABLE_FROM_DOTENV=dot\n").unwrap();
        std::fs::write(dir.join("app.env"), "APP_FROM_APP_DOTENV=app-dot\n").unwrap();
        let configured = [
            VariablesProviderConfig::Static {
                values: [("shadowed".into(), "static".into())].into(),
            },
            VariablesProviderConfig::Env {
                prefix: Some("APP".into()),
                dotenv_path: Some(dir.join("app.env")),
            },
            VariablesProviderConfig::Env {
                prefix: Some(String::new()),
                dotenv_path: Some(dir.join("missing.env")),
            },
        ];
        let env = pairs(&[
            ("SPIN_VARIABLE_SHADOWED", "env"),
            ("SPIN_VARIABLE_ONLY_ENV", "env"),
            ("APP_PREFIXED", "app"),
            ("BARE", "bare"),
        ]);
        let cli = pairs(&[("from_cli", "cli"), ("shadowed", "cli-wins")]);
        let sources = VariableSources::new(cli, &dir, &configured, env).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(sources.lookup("from_cli"), Some("cli"));
        // `--variable`, then the configured providers in order, then the
        // default environment provider.
        assert_eq!(sources.lookup("shadowed"), Some("cli-wins"));
        let without_cli = VariableSources {
            cli: Vec::new(),
            ..sources.clone()
        };
        assert_eq!(without_cli.lookup("shadowed"), Some("static"));
        assert_eq!(sources.lookup("prefixed"), Some("app"));
        assert_eq!(sources.lookup("from_app_dotenv"), Some("app-dot"));
        assert_eq!(sources.lookup("bare"), Some("bare"));
        assert_eq!(sources.lookup("only_env"), Some("env"));
        assert_eq!(sources.lookup("from_dotenv"), Some("dot"));
        assert_eq!(sources.lookup("nowhere"), None);
    }

    #[test]
    fn names() {
        assert!(is_valid_name("redis_address"));
        assert!(!is_valid_name("Redis"));
        assert!(!is_valid_name("1a"));
        assert!(!is_valid_name("a-b"));
    }
}
