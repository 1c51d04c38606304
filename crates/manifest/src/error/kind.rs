//! What can be wrong with a manifest, and the default fix for each problem.

use std::io;
use std::path::PathBuf;

/// What is wrong with the manifest. Each variant holds the offending value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("could not read the manifest: {error}")]
    Read {
        /// The I/O error.
        error: io::Error,
    },
    /// The text is not valid TOML.
    #[error("invalid TOML: {message}")]
    Syntax {
        /// The TOML parser's message.
        message: String,
    },
    /// Neither `spin_manifest_version` nor `spin_version` is present.
    #[error("the manifest does not say which manifest version it uses")]
    MissingVersion {
        /// Whether the file looks like a v2 manifest (it has `[application]`).
        looks_like_v2: bool,
    },
    /// The manifest version is not one this crate reads.
    #[error("unsupported manifest version {found}")]
    UnsupportedVersion {
        /// The version value as written.
        found: String,
    },
    /// A table has a field its schema does not define.
    #[error("unknown field `{field}` {context}")]
    UnknownField {
        /// The unknown field.
        field: String,
        /// Where it appears, e.g. "in component `hello`".
        context: String,
        /// The closest valid field name, if any is close.
        suggestion: Option<String>,
        /// All valid field names for that table.
        valid: Vec<String>,
    },
    /// A required field is absent.
    #[error("missing field `{field}` {context}")]
    MissingField {
        /// The missing field.
        field: String,
        /// Where it is missing, e.g. "in component `hello`".
        context: String,
    },
    /// A field appears twice (e.g. through an alias).
    #[error("duplicate field `{field}` {context}")]
    DuplicateField {
        /// The repeated field.
        field: String,
        /// Where it appears.
        context: String,
    },
    /// A value has the wrong type or shape.
    #[error("invalid `{field}` {context}: {message}")]
    InvalidValue {
        /// The field holding the value.
        field: String,
        /// Where it appears.
        context: String,
        /// What was expected.
        message: String,
    },
    /// A component id breaks the kebab-case rule.
    #[error("invalid component id `{id}`: {reason}")]
    InvalidComponentId {
        /// The id as written.
        id: String,
        /// Which part of the rule it breaks.
        reason: String,
        /// A corrected id, when one can be derived.
        suggestion: Option<String>,
    },
    /// A variable name breaks the lower snake_case rule.
    #[error("invalid variable name `{name}`: {reason}")]
    InvalidVariableName {
        /// The name as written.
        name: String,
        /// Which part of the rule it breaks.
        reason: String,
        /// A corrected name, when one can be derived.
        suggestion: Option<String>,
    },
    /// Two components share an id.
    #[error(
        "duplicate component id `{id}`: line {first_line} already defines a component with this id"
    )]
    DuplicateComponentId {
        /// The shared id.
        id: String,
        /// The line of the first definition.
        first_line: usize,
    },
    /// A trigger names a component that the manifest does not define.
    #[error("the trigger refers to component `{id}`, which does not exist")]
    UnknownComponent {
        /// The id the trigger names.
        id: String,
        /// The ids that do exist.
        known: Vec<String>,
    },
    /// A route pattern is malformed.
    #[error("invalid route `{route}`: {reason}")]
    InvalidRoute {
        /// The route as written.
        route: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two HTTP triggers have the same route.
    #[error("duplicate route `{route}`: the trigger on line {first_line} already uses it")]
    DuplicateRoute {
        /// The route (with any base applied).
        route: String,
        /// The line of the first trigger with this route.
        first_line: usize,
    },
    /// The HTTP trigger `base` is not a plain path.
    #[error("invalid trigger base `{base}`: {reason}")]
    InvalidBase {
        /// The base as written.
        base: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A variable is both `required` and has a `default`.
    #[error("variable `{name}` is `required` and also has a `default`")]
    RequiredWithDefault {
        /// The variable name.
        name: String,
    },
    /// A variable is neither `required` nor has a `default`.
    #[error("variable `{name}` is not `required` and has no `default`")]
    VariableWithoutValue {
        /// The variable name.
        name: String,
    },
    /// A `{{ name }}` template names an undeclared application variable.
    #[error("`{template}` refers to the application variable `{name}`, which is not declared")]
    UndeclaredVariable {
        /// The template text.
        template: String,
        /// The undeclared name.
        name: String,
        /// The declared application variables.
        declared: Vec<String>,
    },
    /// A template has a `{{` without a matching `}}`.
    #[error("invalid template `{template}`: `{{{{` is not closed by `}}}}`")]
    UnclosedTemplate {
        /// The template text.
        template: String,
    },
    /// A trigger type other than `http` or `redis`.
    #[error("unsupported trigger type `{trigger_type}`")]
    UnsupportedTriggerType {
        /// The trigger type as written.
        trigger_type: String,
    },
    /// A field that belongs to another trigger type.
    #[error("`{field}` does not apply to `{trigger_type}` triggers")]
    WrongTriggerField {
        /// The misplaced field.
        field: String,
        /// The app's trigger type.
        trigger_type: String,
    },
    /// An HTTP trigger with both `component` and `static_response`.
    #[error("the trigger has both `component` and `static_response`")]
    ComponentAndStaticResponse,
    /// A Redis trigger with no address, and no application-wide address.
    #[error("the redis trigger for channel `{channel}` has no Redis address")]
    MissingRedisAddress {
        /// The trigger's channel.
        channel: String,
    },
    /// An HTTP executor type other than `spin`, `http` or `wagi`.
    #[error("unknown HTTP executor type `{executor}`")]
    UnknownExecutor {
        /// The type as written.
        executor: String,
    },
    /// A v1-style `allowed_http_hosts` entry that cannot be converted.
    #[error("invalid `allowed_http_hosts` entry `{entry}`: {reason}")]
    InvalidAllowedHttpHost {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A remote source digest without the `sha256:` prefix.
    #[error("invalid digest `{digest}`: it must start with `sha256:`")]
    InvalidDigest {
        /// The digest as written.
        digest: String,
    },
    /// A file mount destination that is not an absolute guest path.
    #[error("file mount destination `{destination}` is not an absolute path")]
    RelativeDestination {
        /// The destination as written.
        destination: String,
    },
    /// A file mount destination whose `..` climbs above `/`.
    #[error("file mount destination `{destination}` climbs above `/`")]
    DestinationEscapes {
        /// The destination as written.
        destination: String,
    },
    /// A `files` pattern or source that is absolute or climbs out with `..`.
    #[error("`files` source `{path}` is outside the application directory")]
    FileSourceOutsideApp {
        /// The pattern or source as written.
        path: String,
    },
    /// A key-value store or SQLite database label that is not an id.
    #[error("invalid `{field}` label `{label}`: {reason}")]
    InvalidLabel {
        /// `key_value_stores` or `sqlite_databases`.
        field: String,
        /// The label as written.
        label: String,
        /// Which part of the id rule it breaks.
        reason: String,
    },
    /// A Spin manifest feature this implementation does not support.
    #[error("this implementation does not support {feature}")]
    Unsupported {
        /// The feature, e.g. "component `dependencies`".
        feature: String,
    },
    /// `--profile` names a build profile no component defines.
    #[error("no component defines the build profile `{profile}`")]
    UnknownProfile {
        /// The profile asked for.
        profile: String,
        /// The profiles the components define.
        defined: Vec<String>,
    },
    /// A local component source file does not exist.
    #[error("the source of component `{component}` does not exist: `{}`", path.display())]
    SourceNotFound {
        /// The component id.
        component: String,
        /// The missing file.
        path: PathBuf,
        /// The component's build command, if it has one.
        build_command: Option<String>,
        /// The build profile the app was loaded for, if any.
        profile: Option<String>,
    },
    /// A value a later layer rejected (see `App::error_at`).
    #[error("`{field}`: {message}")]
    Rejected {
        /// The field holding the value.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ErrorKind {
    /// The fix to suggest when the construction site has nothing more specific.
    pub(super) fn default_hint(&self) -> String {
        use ErrorKind::*;
        match self {
            Read { .. } => {
                "check that the file exists and is readable, or name another manifest with `-f <path>`".into()
            }
            Syntax { .. } => "fix the TOML syntax at the marked position (see https://toml.io)".into(),
            MissingVersion { looks_like_v2: true } => {
                "add `spin_manifest_version = 2` as the first line".into()
            }
            MissingVersion { looks_like_v2: false } => {
                "add `spin_manifest_version = 2` (or `spin_manifest_version = \"1\"` for the older format) as the first line".into()
            }
            UnsupportedVersion { .. } => {
                "supported versions are `spin_manifest_version = 2` and the older `spin_manifest_version = \"1\"` (alias `spin_version = \"1\"`)".into()
            }
            UnknownField { suggestion, valid, .. } => {
                let valid = valid.join(", ");
                match suggestion {
                    Some(s) => format!("did you mean `{s}`? Valid fields are: {valid}"),
                    None => format!("remove it; valid fields are: {valid}"),
                }
            }
            MissingField { field, .. } => format!("add the `{field}` field"),
            DuplicateField { field, .. } => format!("keep only one `{field}`"),
            InvalidValue { field, .. } => format!("fix the value of `{field}`"),
            InvalidComponentId { suggestion, .. } => with_suggestion(
                "component ids are kebab-case: ASCII letters and digits in words joined by single `-`, each word starting with a letter and all lowercase or all uppercase (e.g. `hello-world`)",
                suggestion,
            ),
            InvalidVariableName { suggestion, .. } => with_suggestion(
                "variable names are lower snake_case: lowercase ASCII letters and digits in words joined by single `_`, each word starting with a letter (e.g. `api_key`)",
                suggestion,
            ),
            DuplicateComponentId { .. } => "give each component a different id".into(),
            UnknownComponent { known, .. } if known.is_empty() => {
                "the manifest defines no components; define the component, or point the trigger at one that exists".into()
            }
            UnknownComponent { known, .. } => format!(
                "the components are: {}; fix the id or define the component",
                known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
            InvalidRoute { .. } => {
                "a route starts with `/`; it may end with `/...` to match everything below it, and `:name` matches one segment (e.g. `/users/:id` or `/static/...`)".into()
            }
            DuplicateRoute { .. } => {
                "each route may be used by one trigger only; change or remove one of them".into()
            }
            InvalidBase { .. } => {
                "`base` must be a plain path such as `/` or `/api`; route patterns belong in each component's `route`".into()
            }
            RequiredWithDefault { .. } => {
                "remove `required = true` to use the default, or remove `default` to make the value mandatory".into()
            }
            VariableWithoutValue { .. } => {
                "add `required = true`, or give it a value with `default = \"...\"`".into()
            }
            UndeclaredVariable { name, declared, .. } => {
                let add = format!("declare it under `[variables]`, e.g. `{name} = {{ default = \"...\" }}`");
                if declared.is_empty() {
                    add
                } else {
                    format!(
                        "{add}; the declared variables are: {}",
                        declared.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                    )
                }
            }
            UnclosedTemplate { .. } => "close the template with `}}`, e.g. `{{ api_key }}`".into(),
            UnsupportedTriggerType { .. } => {
                "only `http` and `redis` triggers are supported; trigger plugins such as `cron` or `sqs` are not".into()
            }
            WrongTriggerField {
                field,
                trigger_type,
            } => {
                let other = if trigger_type == "http" { "redis" } else { "http" };
                format!(
                    "remove `{field}`: it applies to `{other}` triggers, and this app's trigger type is `{trigger_type}`"
                )
            }
            ComponentAndStaticResponse => {
                "a trigger either runs a component or serves a static response; remove one of them".into()
            }
            MissingRedisAddress { .. } => {
                "add `address = \"redis://localhost:6379\"` to the trigger, or to `[application.trigger.redis]`".into()
            }
            UnknownExecutor { .. } => {
                "use `executor = { type = \"spin\" }` (the default) or `executor = { type = \"wagi\" }`".into()
            }
            InvalidAllowedHttpHost { .. } => {
                "write a host (`example.com`), a host and port (`example.com:8080`) or a URL without a path (`https://example.com`); better, replace `allowed_http_hosts` with `allowed_outbound_hosts = [\"https://example.com\"]`".into()
            }
            InvalidDigest { .. } => {
                "write the digest as `sha256:` followed by the hex SHA-256 of the file".into()
            }
            RelativeDestination { .. } => "start the destination with `/`, e.g. `destination = \"/\"`".into(),
            DestinationEscapes { .. } => {
                "remove the `..` segments: the destination is a path inside the guest, e.g. `destination = \"/assets\"`".into()
            }
            FileSourceOutsideApp { .. } => {
                "a component only gets files from the directory containing the manifest; copy them into it and name them relative to it, e.g. `files = [\"assets/**/*\"]` or `source = \"assets\"`".into()
            }
            InvalidLabel { .. } => {
                "labels are ids such as `default` or `my-store`: ASCII letters and digits in words joined by `-` or `_`".into()
            }
            Unsupported { .. } => "remove this field; this implementation does not run it".into(),
            UnknownProfile { defined, .. } if defined.is_empty() => {
                "this application defines no profiles (`[component.<id>.profile.<name>]`); drop `--profile` to use the default one".into()
            }
            UnknownProfile { defined, .. } => format!(
                "the profiles defined are {}; check the spelling, or drop `--profile` to use the default one",
                defined
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SourceNotFound {
                build_command: Some(command),
                profile: Some(profile),
                ..
            } => format!(
                "run `spin build --profile {profile}` to build it (the component's build command in that profile is `{command}`)"
            ),
            SourceNotFound { build_command: Some(command), .. } => {
                format!("run `spin build` to build it (the component's build command is `{command}`)")
            }
            SourceNotFound { .. } => {
                "check the `source` path; it is relative to the directory containing the manifest".into()
            }
            Rejected { field, .. } => format!("fix the `{field}` value in the manifest"),
        }
    }
}

fn with_suggestion(rule: &str, suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("try `{s}`; {rule}"),
        None => rule.to_owned(),
    }
}
