//! The validated application model that both manifest formats load into.
//!
//! Later layers (build, runtime, triggers) consume only these types, so they
//! never need to know whether an app was written in the v1 or v2 format.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, ErrorKind};
use crate::source::SourceFile;

/// Which manifest format the file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestFormat {
    /// `spin_manifest_version = "1"` (or `spin_version = "1"`): the 2023 format.
    V1,
    /// `spin_manifest_version = 2`.
    V2,
}

/// A position in the manifest file, kept so that later layers can point at
/// the exact value they reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

/// A value together with the place in the manifest where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where the value starts in the manifest.
    pub location: Location,
}

/// A loaded and validated Spin application manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The manifest file, as given to [`crate::load_file`] or [`crate::parse`].
    pub path: PathBuf,
    /// The build profile the application was loaded for (`None`: the
    /// default one).
    pub profile: Option<String>,
    /// The directory containing the manifest; relative paths in the
    /// manifest (component sources, files, build workdirs) are relative to it.
    pub dir: PathBuf,
    /// The format the manifest was written in.
    pub format: ManifestFormat,
    /// Application name.
    pub name: String,
    /// Application version, if given and non-empty.
    pub version: Option<String>,
    /// Application description, if given and non-empty.
    pub description: Option<String>,
    /// Application authors.
    pub authors: Vec<String>,
    /// Application variables, by name.
    pub variables: BTreeMap<String, Variable>,
    /// HTTP triggers, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// Redis triggers, in manifest order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// The application-wide Redis address: the v1 `trigger.address`, or the
    /// v2 `[application.trigger.redis]` `address`.
    pub redis_address: Option<String>,
    /// Components, in manifest order; ids are unique.
    pub components: Vec<Component>,
    /// The manifest text, kept so that errors raised by later layers
    /// (through [`App::error_at`]) can quote the offending line.
    pub text: String,
}

/// An application variable declaration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Variable {
    /// Value used when no provider supplies one.
    pub default: Option<String>,
    /// Whether a provider must supply a value (then there is no default).
    pub required: bool,
    /// Whether the value is sensitive and must not be logged.
    pub secret: bool,
    /// Human-readable description.
    pub description: Option<String>,
}

/// An HTTP trigger: a route mapped to a component or a static response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// The trigger id, when the manifest gives one (v2 `id`).
    pub id: Option<String>,
    /// The route, already prefixed with the v1 `base` (or the v2
    /// `[application.trigger.http]` `base`).
    pub route: Located<HttpRoute>,
    /// The id of the component that handles requests; `None` when the trigger
    /// serves a static response.
    pub component: Option<String>,
    /// A response served without running any component.
    pub static_response: Option<StaticResponse>,
    /// The interface the component implements.
    pub executor: HttpExecutor,
    /// Where the trigger is defined.
    pub location: Location,
    /// Where its `executor` is (the trigger's location when it has none),
    /// for errors about the executor.
    pub executor_location: Location,
}

/// Where an HTTP trigger is reachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRoute {
    /// A path pattern such as `/hello`, `/users/:id` or `/static/...`.
    Path(String),
    /// `route = { private = true }`: reachable only through service chaining.
    Private,
}

/// How the HTTP trigger calls its component.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HttpExecutor {
    /// The component exports a Spin or WASI HTTP handler (`type = "spin"` or
    /// `type = "http"`, the default).
    #[default]
    Http,
    /// The component is a WAGI (CGI-style) command module.
    Wagi {
        /// The function to call (`_start` unless given).
        entrypoint: String,
        /// The argv template (`${SCRIPT_NAME} ${ARGS}` unless given).
        argv: String,
    },
}

/// A response the HTTP trigger serves without running a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticResponse {
    /// HTTP status code (200 unless given).
    pub status_code: u16,
    /// Response headers.
    pub headers: BTreeMap<String, String>,
    /// Response body.
    pub body: Option<String>,
}

/// A Redis trigger: messages on a channel delivered to a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTrigger {
    /// The channel to subscribe to.
    pub channel: String,
    /// A per-trigger Redis address overriding [`App::redis_address`].
    pub address: Option<String>,
    /// The id of the component that handles messages.
    pub component: String,
    /// Where the trigger is defined.
    pub location: Location,
}

/// A component: a Wasm binary plus the capabilities it is granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Unique kebab-case id.
    pub id: String,
    /// Human-readable description.
    pub description: Option<String>,
    /// Where the Wasm binary comes from.
    pub source: Located<ComponentSource>,
    /// Component variables (v2 `variables`, v1 `config`); values may contain
    /// `{{ name }}` templates naming application variables.
    pub variables: BTreeMap<String, String>,
    /// Environment variables set for the guest.
    pub environment: BTreeMap<String, String>,
    /// Files made available to the guest.
    pub files: Vec<FileMount>,
    /// Glob patterns removed from `files`.
    pub exclude_files: Vec<String>,
    /// The final outbound network allow-list, including entries converted
    /// from `allowed_http_hosts` and the v1 legacy database default.
    pub allowed_outbound_hosts: Vec<Located<String>>,
    /// Key-value store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// SQLite database labels the component may open.
    pub sqlite_databases: Vec<String>,
    /// AI models the component may use.
    pub ai_models: Vec<String>,
    /// How `spin build` builds the component.
    pub build: Option<BuildConfig>,
    /// How many requests one instance may serve in turn, from
    /// `[component.<id>.tool.spin-py]` (v2); `None` leaves it to `spin up`.
    pub max_instance_reuse_count: Option<u32>,
    /// The build profiles the component defines (`[component.<id>.profile.<name>]`,
    /// v2), in file order; the fields above are already the chosen one's.
    pub profiles: Vec<String>,
    /// Where the component is defined.
    pub location: Location,
}

/// Where a component's Wasm binary comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentSource {
    /// A file, relative to [`App::dir`].
    Local(PathBuf),
    /// A file downloaded over HTTP and checked against a digest.
    Remote {
        /// Download URL.
        url: String,
        /// Expected digest, `sha256:<hex>`.
        digest: String,
    },
}

/// Files made available to a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMount {
    /// A glob pattern, relative to [`App::dir`], mounted at the same relative
    /// path in the guest.
    Pattern(String),
    /// A host directory mounted at a guest path.
    Placement {
        /// Host directory, relative to [`App::dir`].
        source: PathBuf,
        /// Absolute guest path.
        destination: String,
    },
}

/// How `spin build` builds a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// The shell command; a v2 list of commands is joined with ` && ` so
    /// that a failing step stops the build, as in Spin.
    pub command: String,
    /// Working directory, relative to [`App::dir`].
    pub workdir: Option<PathBuf>,
    /// Glob patterns `spin watch` watches.
    pub watch: Vec<String>,
}

impl App {
    /// The component with the given id.
    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    /// An error pointing at `location` in this manifest, for problems that
    /// later layers find (an `allowed_outbound_hosts` entry the runtime
    /// rejects, say). Add a fix with [`Error::with_hint`].
    pub fn error_at(&self, location: Location, field: &str, message: impl Into<String>) -> Error {
        let kind = ErrorKind::Rejected {
            field: field.to_owned(),
            message: message.into(),
        };
        self.source_file().error_at_location(location, field, kind)
    }

    /// Checks that every local component source exists, so that `spin up`
    /// can say "run `spin build`" before trying to load a missing file.
    pub fn check_sources(&self) -> Result<(), Error> {
        for component in &self.components {
            let ComponentSource::Local(path) = &component.source.value else {
                continue;
            };
            let full = self.dir.join(path);
            if !full.is_file() {
                let kind = ErrorKind::SourceNotFound {
                    component: component.id.clone(),
                    path: full,
                    build_command: component.build.as_ref().map(|b| b.command.clone()),
                    profile: self.profile.clone(),
                };
                return Err(self.source_file().error_at_location(
                    component.source.location,
                    "source",
                    kind,
                ));
            }
        }
        Ok(())
    }

    fn source_file(&self) -> SourceFile<'_> {
        SourceFile::new(&self.path, &self.text)
    }
}
