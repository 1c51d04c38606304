//! An application ready to serve: every component compiled (or loaded from
//! the cache), linked against the host capabilities, and pre-instantiated.

use anyhow::{Context as _, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::capabilities::PROVIDED_SPIN_INTERFACES;
use crate::capabilities::connections::ConnectionState;
use crate::capabilities::outbound_http::OutboundHttp;
use crate::capabilities::sockets::held::{HeldSockets, SocketCaps};
use crate::capabilities::unsupported::define_unsupported_imports;
use crate::capabilities::variables::{ApplicationVariables, VariableSources, VariablesState};
use crate::component_cache::load_component;
use crate::engine::{
    MAX_CORE_INSTANCES_PER_COMPONENT, MAX_MEMORIES_PER_COMPONENT, MAX_TABLE_ELEMENTS,
    MAX_TABLES_PER_COMPONENT, RuntimeEngine, TICKS_PER_SLICE,
};
use crate::files::Mounts;
use crate::logs::{ComponentLog, OutputCapture, Terminal};
use crate::memory_budget::InstanceLimits;
use crate::runtime_config::Stores;
use crate::services::AppServices;
use crate::state::HostState;
use crate::wagi::WagiPre;
use spin_manifest::{App, ComponentSource, ManifestFormat};
use spin_outbound_networking::AllowedHosts;

/// How an application is loaded, beyond what its manifest says.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// `-e KEY=VALUE`: environment variables for every component.
    pub env: Vec<(String, String)>,
    /// Where application variable values come from.
    pub variables: VariableSources,
    /// Where component stdout/stderr files go (`None`: no files).
    pub log_dir: Option<PathBuf>,
    /// Don't mirror component output to the terminal.
    pub quiet: bool,
    /// Lines of component output longer than this are split (`None`:
    /// [`crate::logs::MAX_LINE_BYTES`]).
    pub max_log_line_length: Option<usize>,
    /// Where `files` are staged (`<state_dir>/files/<component>`).
    pub state_dir: PathBuf,
    /// The key-value stores and SQLite databases components may open, by
    /// label (see [`crate::runtime_config::RuntimeConfig::stores`]).
    pub stores: Stores,
    /// Networks no outbound connection may reach (`[outbound_networking]
    /// block_networks`).
    pub blocked_networks: spin_outbound_networking::BlockedNetworks,
    /// `[[client_tls]]`: the TLS settings of HTTPS requests from given
    /// components to given hosts.
    pub client_tls: Vec<crate::runtime_config::ClientTls>,
    /// `[outbound_http]`: upstream connection reuse.
    pub outbound_http: crate::runtime_config::OutboundHttpConfig,
    /// `[outbound_mqtt]`: the largest message a component may publish.
    pub outbound_mqtt: crate::runtime_config::OutboundMqttConfig,
    /// `[llm_compute]`: where the LLM interface's calls go.
    pub llm_compute: crate::runtime_config::LlmCompute,
    /// The caps on outbound connections (each `[outbound_*]` table's
    /// `max_connections`, `[outbound_networking] max_total_connections`).
    pub connection_limits: crate::runtime_config::ConnectionLimits,
    /// How long a connection past a cap waits for a permit (`None`: 30 s).
    pub outbound_connection_wait: Option<std::time::Duration>,
    /// Outbound HTTP requests one instance may have in flight (`None`: the
    /// default, 32).
    pub max_outbound_http_per_instance: Option<usize>,
    /// Sockets one instance may hold open (`None`: the default, 64).
    pub max_sockets_per_instance: Option<usize>,
    /// Stores or connections one instance may hold open in each capability
    /// (`None`: the default, 256).
    pub max_handles_per_instance: Option<usize>,
    /// WASI resources one instance may hold at once (`None`: the default,
    /// 16,384).
    pub max_resources_per_instance: Option<usize>,
    /// The most bytes of one result the host reads for an instance
    /// (`None`: the default, 64 MiB); never more than the instance memory
    /// limit.
    pub max_result_size: Option<usize>,
    /// How many in-process hops a chain of requests may take (`None`: the
    /// default, 10).
    pub max_chain_depth: Option<u32>,
    /// `--follow`: the components whose output reaches the terminal
    /// (`None`: all of them, unless `quiet`).
    pub follow: Option<Vec<String>>,
    /// `--truncate-logs`: empty the log files at start instead of appending.
    pub truncate_logs: bool,
    /// `--temp`: stage `files` in `<dir>/<component>` instead of
    /// `<state_dir>/files/<component>`.
    pub files_staging: Option<PathBuf>,
    /// `--direct-mounts` and `--allow-transient-write`.
    pub mounts: crate::files::MountOptions,
    /// `--dev`: each instance keeps what it writes to stderr while serving
    /// a request (see [`crate::HostState::stderr_capture`]).
    pub capture_stderr: bool,
    /// Directories mounted read-only into a component, by component id,
    /// beside its `files` (host directory, guest path): the sources and
    /// libraries of `spin watch`'s Python interpreter.
    pub extra_mounts: HashMap<String, Vec<(PathBuf, String)>>,
}

/// Everything the manifest grants one component, resolved at load time.
pub struct ComponentConfig {
    /// The component id.
    pub id: String,
    /// The manifest it came from, for messages.
    pub manifest_path: PathBuf,
    /// Whether that manifest is v1 (suggestions use v1 field names).
    pub manifest_v1: bool,
    /// WASI environment variables.
    pub environment: Vec<(String, String)>,
    /// The component's variables, templates expanded (shared by every
    /// instance's [`VariablesState`](crate::capabilities::variables::VariablesState)).
    pub variables: Arc<HashMap<String, String>>,
    /// Where it may send network traffic.
    pub allowed_hosts: AllowedHosts,
    /// Which WASI socket kinds `allowed_hosts` grants (see
    /// [`crate::capabilities::sockets`]).
    pub socket_grants: crate::capabilities::sockets::SocketGrants,
    /// The socket destinations whose refusal was logged.
    pub socket_refusals: crate::capabilities::sockets::RefusalLog,
    /// How many sockets its instances may hold.
    pub socket_caps: Arc<SocketCaps>,
    /// Key-value store labels it may open.
    pub key_value_stores: Vec<String>,
    /// SQLite database labels it may open.
    pub sqlite_databases: Vec<String>,
    /// The language models it may use (`ai_models`).
    pub ai_models: Vec<String>,
    pub(crate) services: Arc<AppServices>,
    mounts: Mounts,
    /// Mounted read-only whatever `writable_mounts` says (see
    /// [`LoadOptions::extra_mounts`]).
    read_only_mounts: Vec<(PathBuf, String)>,
    /// Whether the guest may write to its mounts (`--allow-transient-write`;
    /// they are then staged copies).
    writable_mounts: bool,
    /// Whether each store captures its stderr (`--dev`).
    capture_stderr: bool,
    stdout: ComponentLog,
    stderr: ComponentLog,
}

/// A component ready to instantiate.
pub struct LoadedComponent {
    /// What it is granted.
    pub config: Arc<ComponentConfig>,
    /// The pre-linked instantiation template, for triggers that call other
    /// exports (the Redis trigger's `inbound-redis`); `None` for a Wagi
    /// module, which is not a component.
    pub instance_pre: Option<InstancePre<HostState>>,
    /// The same, by the HTTP handler it exports, when an HTTP trigger
    /// routes to it.
    pub handler: Option<HttpHandlerPre>,
}

/// The pre-linked instantiation template of an HTTP component, by the
/// `wasi:http` version of the handler it exports.
pub enum HttpHandlerPre {
    /// `wasi:http/incoming-handler@0.2.x`: Spin 2 and 3 SDKs, `spin py2wasm`.
    Wasi02(ProxyPre<HostState>),
    /// `wasi:http/handler@0.3.0` (or its release candidate
    /// `0.3.0-rc-2026-03-15`, wrapped at load): spin-sdk 4.x and 5.x.
    Wasi03(ServicePre<HostState>),
    /// A WASI preview 1 command module run CGI-style (`executor = { type =
    /// "wagi" }`).
    Wagi(Arc<WagiPre>),
    /// A module of Spin 1's SDKs (`handle-http-request`), made a component
    /// when it loaded.
    Spin1(Arc<crate::spin1::Spin1HttpPre>),
}

/// An application ready to serve.
pub struct LoadedApp {
    /// The manifest.
    pub app: App,
    /// The engine all components run on.
    pub engine: RuntimeEngine,
    components: HashMap<String, Arc<LoadedComponent>>,
    services: Arc<AppServices>,
    variables: ApplicationVariables,
}

impl LoadedApp {
    /// Prepares every component that a trigger uses. Compilation happens on
    /// blocking threads, one component after another (each compile is itself
    /// parallel).
    pub async fn load(app: App, engine: RuntimeEngine, options: LoadOptions) -> Result<Self> {
        let variables = ApplicationVariables::resolve(&app, &options.variables)?;
        // From here on, the host's logs and errors never show a secret.
        crate::secrets::register(variables.secret_values(&app));
        let mut linker = Linker::<HostState>::new(&engine.engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        crate::capabilities::add_to_linker(&mut linker)?;
        let services = Arc::new(
            AppServices::new(
                options.stores.clone(),
                options
                    .max_result_size
                    .unwrap_or(crate::services::DEFAULT_MAX_RESULT_SIZE)
                    .min(engine.options.max_instance_memory),
            )
            .with_outbound_limits(&options)?,
        );
        warn_of_unknown_tls_components(&app, &options.client_tls);

        let http_components: Vec<&str> = app
            .http_triggers
            .iter()
            .filter_map(|t| t.component.as_deref())
            .collect();
        let mut used = http_components.clone();
        used.extend(app.redis_triggers.iter().map(|t| t.component.as_str()));
        let used_components = app
            .components
            .iter()
            .filter(|c| used.contains(&c.id.as_str()));
        // Everything the manifest grants is checked before the first
        // compile (seconds for a Python component), so a typo in an allow
        // list or a store label fails at once.
        let mut allowed = HashMap::new();
        for component in used_components.clone() {
            options.stores.check(component)?;
            allowed.insert(
                component.id.clone(),
                allowed_hosts(&app, component, &variables)?,
            );
        }
        services.llm.warn_if_unserved(
            used_components
                .clone()
                .filter(|c| !c.ai_models.is_empty())
                .map(|c| c.id.as_str()),
        );
        let mut components = HashMap::new();
        for component in used_components {
            let hosts = allowed.remove(&component.id).expect("checked above");
            let serves_http = http_components.contains(&component.id.as_str());
            let loaded = Self::load_component(
                &app,
                &engine,
                &linker,
                component,
                hosts,
                &variables,
                &services,
                &options,
                serves_http,
            )
            .await
            .with_context(|| format!("loading component `{}`", component.id))?;
            components.insert(component.id.clone(), Arc::new(loaded));
        }
        Ok(Self {
            app,
            engine,
            components,
            services,
            variables,
        })
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the app-wide parts each component is loaded against"
    )]
    async fn load_component(
        app: &App,
        engine: &RuntimeEngine,
        linker: &Linker<HostState>,
        component: &spin_manifest::Component,
        allowed_hosts: AllowedHosts,
        variables: &ApplicationVariables,
        services: &Arc<AppServices>,
        options: &LoadOptions,
        serves_http: bool,
    ) -> Result<LoadedComponent> {
        let path = match &component.source.value {
            ComponentSource::Local(path) => app.dir.join(path),
            ComponentSource::Remote { url, .. } => {
                return Err(spin_hint::Hinted::new(
                    format!(
                        "the component's source is the URL `{url}`, which is to be downloaded before the app loads"
                    ),
                    "run the app with `spin up`, which downloads it into the registry cache",
                )
                .into());
            }
        };
        if !path.exists() {
            return Err(app
                .error_at(
                    component.source.location,
                    "source",
                    format!("the component file `{}` does not exist", path.display()),
                )
                .into());
        }
        check_is_wasm(&path, &component.id)?;
        let wagi = wagi_executor(app, component)?;
        let core_module = is_core_module_file(&path);
        let (instance_pre, handler) = match (wagi, core_module) {
            (Some((entrypoint, argv, _)), true) => {
                let (engine, path, id) = (engine.clone(), path.clone(), component.id.clone());
                let pre = tokio::task::spawn_blocking(move || {
                    WagiPre::load(&engine, &path, &id, &entrypoint, &argv)
                })
                .await??;
                (None, Some(HttpHandlerPre::Wagi(Arc::new(pre))))
            }
            (Some((_, _, location)), false) => {
                return Err(app
                    .error_at(
                        location,
                        "executor",
                        format!(
                            "component `{}` is run by the Wagi executor, and `{}` is a component, not a WASI preview 1 module",
                            component.id,
                            path.display()
                        ),
                    )
                    .with_hint("drop `executor` to serve a component that exports `wasi:http`; a Wagi module is a `wasm32-wasi` (preview 1) command")
                    .into());
            }
            // A core module without the Wagi executor: a Spin 1 module,
            // made a component as it is compiled (`spin-componentize`).
            (None, _) => {
                let (instance_pre, handler) =
                    Self::link_component(engine, linker, &path, &component.id, serves_http).await?;
                (Some(instance_pre), handler)
            }
        };
        let config =
            Self::component_config(app, component, allowed_hosts, variables, services, options)?;
        Ok(LoadedComponent {
            config: Arc::new(config),
            instance_pre,
            handler,
        })
    }

    /// Compiles the component at `path` and links it against the host's
    /// interfaces; its HTTP handler, when it `serves_http`.
    async fn link_component(
        engine: &RuntimeEngine,
        linker: &Linker<HostState>,
        path: &std::path::Path,
        id: &str,
        serves_http: bool,
    ) -> Result<(InstancePre<HostState>, Option<HttpHandlerPre>)> {
        let wasm: Component = {
            let engine = engine.clone();
            let path = path.to_owned();
            tokio::task::spawn_blocking(move || load_component(&engine, &path)).await??
        };

        if let Some(name) = prerelease_wasi(&wasm, &engine.engine) {
            return Err(spin_hint::Hinted::new(
                format!(
                    "component `{id}` uses `{name}`, from a pre-release of WASI 0.2 that Spin 2.0 and 2.1's SDKs built against; this host serves WASI 0.2.0 and later"
                ),
                "rebuild it with a current SDK (one for Spin 2.2 or later; for Python, spin-sdk 3.x or later with the componentize-py it names, or `spin py2wasm`)",
            )
            .into());
        }
        let mut linker = linker.clone();
        let stubbed = define_unsupported_imports(
            &mut linker,
            &engine.engine,
            &wasm,
            PROVIDED_SPIN_INTERFACES,
        )?;
        if !stubbed.is_empty() {
            tracing::debug!(component = %id, "imports not provided by this host: {}", stubbed.join(", "));
        }
        let instance_pre = linker
            .instantiate_pre(&wasm)
            .map_err(anyhow::Error::from)
            .context(spin_hint::Hinted::new(
                "linking the component against the host's interfaces",
                "the component needs an interface, or a version of one, that this host does not serve (the error above names it): rebuild it with a current Spin SDK, or update this host if the component is newer",
            ))?;
        let handler = if !serves_http {
            None
        } else if let Ok(pre) = ProxyPre::new(instance_pre.clone()) {
            Some(HttpHandlerPre::Wasi02(pre))
        } else if let Ok(pre) = crate::spin1::Spin1HttpPre::new(&instance_pre) {
            Some(HttpHandlerPre::Spin1(Arc::new(pre)))
        } else {
            let pre = ServicePre::new(instance_pre.clone()).map_err(anyhow::Error::from).context(
                spin_hint::Hinted::new(
                    "the component exports neither `wasi:http/incoming-handler@0.2.x` nor `wasi:http/handler@0.3.0`, so it cannot handle HTTP requests",
                    "build it with an SDK that targets Spin 2 or later (for Python: `spin py2wasm`, or componentize-py with spin-sdk's `spin:up/http-trigger` world)",
                ),
            )?;
            Some(HttpHandlerPre::Wasi03(pre))
        };
        Ok((instance_pre, handler))
    }

    /// What `component` is granted and where its output goes.
    fn component_config(
        app: &App,
        component: &spin_manifest::Component,
        allowed_hosts: AllowedHosts,
        variables: &ApplicationVariables,
        services: &Arc<AppServices>,
        options: &LoadOptions,
    ) -> Result<ComponentConfig> {
        let mut environment: Vec<(String, String)> = component
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        environment.extend(options.env.iter().cloned());

        let followed = options
            .follow
            .as_ref()
            .is_none_or(|ids| ids.contains(&component.id));
        let terminal = |t| (!options.quiet && followed).then_some(t);
        let staging = match &options.files_staging {
            Some(dir) => dir.join(&component.id),
            None => options.state_dir.join("files").join(&component.id),
        };
        let log_dir = options.log_dir.as_deref();
        let config = ComponentConfig {
            id: component.id.clone(),
            manifest_path: app.path.clone(),
            manifest_v1: matches!(app.format, ManifestFormat::V1),
            environment,
            variables: Arc::new(variables.expand_all(&component.variables)?),
            socket_grants: crate::capabilities::sockets::SocketGrants::of(
                &component.id,
                &allowed_hosts,
            ),
            socket_refusals: Default::default(),
            socket_caps: Arc::new(SocketCaps::new(
                &component.id,
                services.max_sockets_per_instance(),
                services.connection_quotas.clone(),
            )),
            allowed_hosts,
            key_value_stores: component.key_value_stores.clone(),
            sqlite_databases: component.sqlite_databases.clone(),
            ai_models: component.ai_models.clone(),
            services: services.clone(),
            mounts: crate::files::prepare(&app.dir, &staging, component, options.mounts)
                .context("preparing the component's `files`")?,
            read_only_mounts: options
                .extra_mounts
                .get(&component.id)
                .cloned()
                .unwrap_or_default(),
            writable_mounts: options.mounts.transient_write,
            capture_stderr: options.capture_stderr,
            stdout: ComponentLog::open(
                &component.id,
                log_dir,
                "stdout",
                terminal(Terminal::Stdout),
                options.truncate_logs,
            )?
            .max_line_length(options.max_log_line_length),
            stderr: ComponentLog::open(
                &component.id,
                log_dir,
                "stderr",
                terminal(Terminal::Stderr),
                options.truncate_logs,
            )?
            .max_line_length(options.max_log_line_length),
        };
        Ok(config)
    }

    /// `spin up --key-value` and `--sqlite`: writes `key_values` into the
    /// `default` key-value store, then runs `statements` against the
    /// `default` SQLite database, before anything is served.
    pub async fn seed(&self, key_values: &[(String, String)], statements: &[String]) -> Result<()> {
        crate::capabilities::key_value::seed_default_store(&self.services, key_values).await?;
        crate::capabilities::sqlite::run_on_default_database(&self.services, statements).await
    }

    /// `template` with the application's `{{ variables }}` filled in (a
    /// Redis trigger's `address`, for instance).
    pub fn expand(&self, template: &str) -> Result<String> {
        self.variables.expand(template)
    }

    /// Lets components reach each other, and the application itself,
    /// in-process (service chaining, relative URLs and `self.alt`).
    pub fn set_component_requests(&self, components: Arc<dyn crate::services::ComponentRequests>) {
        self.services.set_component_requests(components);
    }

    /// The most bytes of one result (a query's rows, a Redis reply or
    /// published message) the host reads for an instance.
    pub fn max_result_bytes(&self) -> usize {
        self.services.max_result_bytes()
    }

    /// The prepared component with this id.
    pub fn component(&self, id: &str) -> Option<&Arc<LoadedComponent>> {
        self.components.get(id)
    }

    /// A fresh store for one request to `component`.
    pub fn new_store(&self, component: &LoadedComponent) -> Store<HostState> {
        let config = &component.config;
        let mut wasi = WasiCtxBuilder::new();
        let stderr_capture = config.capture_stderr.then(OutputCapture::default);
        let stderr = match &stderr_capture {
            Some(capture) => config.stderr.capturing(capture.clone()),
            None => config.stderr.clone(),
        };
        wasi.envs(&config.environment)
            .stdout(config.stdout.clone())
            .stderr(stderr);
        config.preopen_mounts(&mut wasi);
        crate::capabilities::sockets::apply(&mut wasi, config);
        let mut table = ResourceTable::new();
        table.set_max_capacity(config.services.max_resources_per_instance());
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table,
            limits: InstanceLimits::new(
                store_limits(self.engine.options.max_instance_memory),
                self.engine.memory.clone(),
                Some(config.clone()),
            ),
            outbound_http: OutboundHttp::new(config.clone()),
            variables: VariablesState::new(config),
            sqlite: ConnectionState::new(config.clone()),
            key_value: ConnectionState::new(config.clone()),
            redis: ConnectionState::new(config.clone()),
            mqtt: ConnectionState::new(config.clone()),
            postgres: ConnectionState::new(config.clone()),
            mysql: ConnectionState::new(config.clone()),
            llm: crate::capabilities::llm::LlmState::new(config.clone()),
            sockets: HeldSockets::new(config.socket_caps.clone()),
            stderr_capture,
        };
        let mut store = Store::new(&self.engine.engine, state);
        store.limiter_async(|state| &mut state.limits);
        // A busy guest yields to the scheduler so that it never holds a
        // worker thread hostage; see `TICKS_PER_SLICE` for how often.
        store.set_epoch_deadline(TICKS_PER_SLICE);
        store.epoch_deadline_async_yield_and_update(TICKS_PER_SLICE);
        store
    }
}

/// The limits of one instance. The pooling allocator enforces the same ones
/// by its slot sizes; these also hold when it is off (`--disable-pooling`, or
/// an address space too small for the pool), where nothing else would stop a
/// guest from growing a table or a memory until the host runs out.
pub(crate) fn store_limits(max_instance_memory: usize) -> StoreLimits {
    StoreLimitsBuilder::new()
        .memory_size(max_instance_memory)
        .table_elements(MAX_TABLE_ELEMENTS)
        .instances(MAX_CORE_INSTANCES_PER_COMPONENT)
        .tables(MAX_TABLES_PER_COMPONENT)
        .memories(MAX_MEMORIES_PER_COMPONENT)
        .build()
}

/// Warns of `[[client_tls]]` entries naming a component the application does
/// not have: a typo there silently leaves that component's requests on the
/// default TLS settings. (Not an error: one runtime config file may serve
/// several applications, as in Spin.)
fn warn_of_unknown_tls_components(app: &App, entries: &[crate::runtime_config::ClientTls]) {
    for entry in entries {
        for id in &entry.component_ids {
            if app.component(id).is_none() {
                let ids: Vec<String> = app
                    .components
                    .iter()
                    .map(|c| format!("`{}`", c.id))
                    .collect();
                tracing::warn!(
                    "the `[[client_tls]]` entry at {} names component `{id}`, which this application does not have\n\nhint: its components are {}",
                    entry.origin,
                    ids.join(", ")
                );
            }
        }
    }
}

/// How `component`'s HTTP triggers run it as a Wagi module (entry point,
/// argv template, the trigger's place), if they do. Every trigger of a
/// component runs it the same way: it is compiled once, as a component or
/// as a module.
fn wagi_executor(
    app: &App,
    component: &spin_manifest::Component,
) -> Result<Option<(String, String, spin_manifest::Location)>> {
    let triggers: Vec<&spin_manifest::HttpTrigger> = app
        .http_triggers
        .iter()
        .filter(|t| t.component.as_deref() == Some(component.id.as_str()))
        .collect();
    let Some(first) = triggers.first() else {
        return Ok(None);
    };
    if let Some(other) = triggers.iter().find(|t| t.executor != first.executor) {
        return Err(app
            .error_at(
                other.executor_location,
                "executor",
                format!(
                    "component `{}` is run with another `executor` by the HTTP trigger at line {}",
                    component.id, first.location.line
                ),
            )
            .with_hint("give every HTTP trigger of a component the same `executor` (and Wagi `entrypoint` and `argv`), or route to two components")
            .into());
    }
    Ok(match &first.executor {
        spin_manifest::HttpExecutor::Wagi { entrypoint, argv } => {
            Some((entrypoint.clone(), argv.clone(), first.executor_location))
        }
        spin_manifest::HttpExecutor::Http => None,
    })
}

/// The first import or export of `component` from a pre-release of WASI
/// 0.2 (`@0.2.0-rc-…` of the packages the host serves, which Spin 2.0 and
/// 2.1's SDKs built against). Other proposals' release candidates (such
/// as `wasi:nn@0.2.0-rc-…`) are stubbed like any interface the host lacks.
fn prerelease_wasi(component: &Component, engine: &wasmtime::Engine) -> Option<String> {
    use crate::capabilities::unsupported::WASI_PACKAGES;
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name);
    let exports = ty.exports(engine).map(|(name, _)| name);
    imports
        .chain(exports)
        .find(|name| {
            WASI_PACKAGES.iter().any(|p| name.starts_with(p)) && name.contains("@0.2.0-rc-")
        })
        .map(str::to_owned)
}

/// Whether the file at `path` is a core WebAssembly module (not a
/// component); `false` when it cannot be read (loading reports that).
fn is_core_module_file(path: &std::path::Path) -> bool {
    use std::io::Read as _;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| spin_componentize::is_core_module(&head))
}

impl ComponentConfig {
    /// Mounts the component's `files` into `wasi`: read-only unless
    /// `--allow-transient-write` (staged copies then), the extra mounts
    /// always read-only.
    pub(crate) fn preopen_mounts(&self, wasi: &mut WasiCtxBuilder) {
        let perms = if self.writable_mounts {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        let mounts = self.mounts.0.iter().map(|mount| (mount, perms));
        let read_only = self
            .read_only_mounts
            .iter()
            .map(|mount| (mount, FsPerms::ReadOnly));
        for ((host, guest), perms) in mounts.chain(read_only) {
            if let Err(err) = wasi.preopened_dir(host, guest, perms) {
                tracing::warn!(component = %self.id, "cannot mount `{}` at `{guest}`: {err:#}", host.display());
            }
        }
    }

    /// Where the component's stderr goes; under `spin up --dev` (when the
    /// app captures stderr), also handed to `since` from now on.
    pub(crate) fn stderr_log(
        &self,
        since: Option<&std::sync::OnceLock<crate::logs::CaptureSince>>,
    ) -> ComponentLog {
        match since {
            Some(since) if self.capture_stderr => {
                let capture = OutputCapture::default();
                let _ = since.set(capture.from_now());
                self.stderr.capturing(capture)
            }
            _ => self.stderr.clone(),
        }
    }
}

/// A component file must be a Wasm binary (or Wasm text named `.wat`):
/// anything else would reach the compiler and fail with a parse error about
/// its first byte.
fn check_is_wasm(path: &std::path::Path, id: &str) -> Result<()> {
    if !crate::component_cache::is_wasm_file(path) {
        return Err(spin_hint::Hinted::new(
            format!(
                "`{}`, the source of component `{id}`, is not a WebAssembly file",
                path.display()
            ),
            "rebuild it (`spin build`), or point `source` at the `.wasm` its build writes",
        )
        .into());
    }
    Ok(())
}

/// The component's allow list, its `{{ variable }}` templates expanded; an
/// error points at the entry in the manifest.
fn allowed_hosts(
    app: &App,
    component: &spin_manifest::Component,
    variables: &ApplicationVariables,
) -> Result<AllowedHosts> {
    let hosts = component
        .allowed_outbound_hosts
        .iter()
        .map(|h| {
            variables.expand(&h.value).map_err(|e| {
                let error = app.error_at(h.location, "allowed_outbound_hosts", format!("{e:#}"));
                // The variable's hint says how to give it a value.
                match e.downcast_ref::<spin_hint::Hinted>() {
                    Some(hinted) => error.with_hint(hinted.hint.clone()),
                    None => error,
                }
            })
        })
        .collect::<Result<Vec<String>, _>>()?;
    let allowed_hosts = AllowedHosts::parse(&hosts).map_err(|e| {
        // Point at the entry that failed, not just the field.
        let location = component
            .allowed_outbound_hosts
            .get(e.index)
            .map(|h| h.location)
            .unwrap_or(component.location);
        app.error_at(
            location,
            "allowed_outbound_hosts",
            format!("invalid entry {:?}: {}", e.entry, e.problem),
        )
        .with_hint(e.hint)
    })?;
    Ok(allowed_hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Engine, Instance, Module};

    /// A guest that grows its table and its memory as far as it is let.
    const GROWER: &str = r#"(module
        (table 1 funcref)
        (memory 1)
        (func (export "grow_table") (param i32) (result i32)
            (table.grow (ref.null func) (local.get 0)))
        (func (export "grow_memory") (param i32) (result i32)
            (memory.grow (local.get 0))))"#;

    /// On-demand allocation (no pool) is where only these limits stop a
    /// guest: a table grown without end would otherwise take host memory.
    #[test]
    fn tables_and_memories_are_bounded_without_the_pool() {
        let engine = Engine::default();
        let module = Module::new(&engine, GROWER).unwrap();
        let mut store = Store::new(&engine, store_limits(4 << 20));
        store.limiter(|limits| limits);
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let grow_table = instance
            .get_typed_func::<i32, i32>(&mut store, "grow_table")
            .unwrap();
        let grow_memory = instance
            .get_typed_func::<i32, i32>(&mut store, "grow_memory")
            .unwrap();

        let too_many = i32::try_from(MAX_TABLE_ELEMENTS).unwrap();
        assert_eq!(grow_table.call(&mut store, too_many).unwrap(), -1);
        assert_eq!(grow_table.call(&mut store, 1_000).unwrap(), 1);
        // 4 MiB is 64 pages of 64 KiB; the module starts with one.
        assert_eq!(grow_memory.call(&mut store, 64).unwrap(), -1);
        assert_eq!(grow_memory.call(&mut store, 63).unwrap(), 1);
    }
}
