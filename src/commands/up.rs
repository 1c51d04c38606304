//! `spin up`: load the application, prepare its components, and serve HTTP.

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::python_dev::DevSpec;
use spin_runtime::app::LoadOptions;
use spin_runtime::capabilities::variables::VariableSources;
use spin_runtime::runtime_config::RuntimeConfig;
use spin_runtime::{EngineOptions, LoadedApp, RuntimeEngine};
use spin_trigger_http::{HttpServer, PerInstance, RouteListing, ServerOptions};
use spin_trigger_redis::{BacklogLimits, RedisTrigger, RedisTriggerOptions};

/// Start the application.
#[derive(Parser, Debug)]
#[command(name = "up")]
pub struct UpCommand {
    #[command(flatten)]
    pub app: super::app_source::AppSource,

    /// Run an application from a registry (`registry/repository:tag` or
    /// `...@sha256:<digest>`) instead of a local manifest. `-f` takes a
    /// reference too, when no local file has that name.
    #[arg(
        long = "from-registry",
        value_name = "REFERENCE",
        conflicts_with = "from"
    )]
    pub from_registry: Option<String>,

    /// Talk to the registry over plain HTTP and accept any certificate
    /// (for a registry on localhost).
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// The cache of pulled registry blobs and of components downloaded from a URL `source`
    /// (default: `~/.cache/spin/oci`).
    #[arg(long, env = "SPIN_REGISTRY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub download_size: super::registry::DownloadSize,

    #[command(flatten)]
    pub unpacked_size: super::registry::UnpackedSize,

    /// The address to serve HTTP on.
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Set an environment variable for every component (`KEY=VALUE`; repeatable).
    #[arg(short = 'e', long = "env", value_parser = parse_key_value)]
    pub env: Vec<(String, String)>,

    /// Set an application variable (`name=value`, or `name=@file` to read the value from a file; repeatable).
    #[arg(long = "variable", value_parser = parse_key_value)]
    pub variables: Vec<(String, String)>,

    /// Where the application keeps its state (logs, key-value and SQLite
    /// data); `""` for none (default stores in memory, no log files).
    /// Default: the runtime config's `state_dir`, else `.spin/` beside the manifest.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,

    /// Where component stdout/stderr files are written; `""` for none.
    /// Default: the runtime config's `log_dir`, else `<state-dir>/logs`.
    #[arg(short = 'L', long, env = "SPIN_LOG_DIR")]
    pub log_dir: Option<PathBuf>,

    /// A runtime config file (TOML): key-value stores, SQLite databases,
    /// variable providers, state and log directories.
    #[arg(long, env = "RUNTIME_CONFIG_FILE", value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,

    /// Don't show component output on the terminal (it still goes to the log files).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// The longest line of component output kept whole, in bytes (suffixes
    /// k, M allowed); longer lines are split, so a component printing without
    /// newlines cannot make spin buffer without bound. Default: 64k.
    #[arg(long, value_name = "BYTES", value_parser = parse_line_limit)]
    pub max_log_line_length: Option<usize>,

    /// Don't read or write the compiled-component cache.
    #[arg(long, env = "DISABLE_WASMTIME_CACHE", conflicts_with = "cache")]
    pub disable_cache: bool,

    /// A wasmtime cache configuration file, as in Spin: its `[cache]`
    /// `directory` is where compiled components are kept, and `enabled =
    /// false` turns the cache off (its other settings are left aside).
    #[arg(long, env = "WASMTIME_CACHE_FILE", value_name = "FILE")]
    pub cache: Option<PathBuf>,

    /// Allocate instances on demand instead of from a pre-reserved pool.
    #[arg(long)]
    pub disable_pooling: bool,

    /// The longest a request may run, in seconds, before it is stopped with
    /// a 500 (or a Redis message's handler). A range `LOW..HIGH` (e.g.
    /// `10..60s`), as in Spin, draws a timeout for each new instance: a
    /// `wasi:http@0.3` instance's requests share it; a `wasi:http@0.2`
    /// request or a Redis message draws its own.
    #[arg(
        long,
        default_value = "30",
        value_name = "SECONDS",
        value_parser = parse_seconds_range,
        allow_hyphen_values = true
    )]
    pub request_timeout: PerInstance<Duration>,

    /// The most linear memory one instance may use, in bytes (suffixes k, M,
    /// G allowed). Default: the runtime config's `max_instance_memory`, else 512M.
    #[arg(long, env = "SPIN_MAX_INSTANCE_MEMORY", value_parser = parse_size)]
    pub max_instance_memory: Option<usize>,

    /// The most linear memory all instances may use together, in bytes
    /// (suffixes k, M, G allowed). When it runs short, idle instances are
    /// dropped and a new instance waits for memory (up to
    /// `--max-queue-wait`); a running instance that cannot grow fails its
    /// request. Default: the machine's memory (or its cgroup's limit) less a
    /// quarter, at least 128 MiB, kept for the server itself.
    #[arg(long, env = "SPIN_MAX_TOTAL_MEMORY", value_parser = parse_size)]
    pub max_total_memory: Option<usize>,

    /// The most requests from clients handled at once; more wait for a free slot (up to
    /// `--max-queue-wait`). In-process requests (service chaining, requests to the application
    /// itself) have as many slots again; one a hop deeper than the first never waits for a slot:
    /// past them it is answered 503 at once.
    #[arg(long, default_value_t = 128)]
    pub max_concurrent_requests: u32,

    /// How long a request may wait for a free slot (see
    /// `--max-concurrent-requests`), and a new instance for memory (see
    /// `--max-total-memory`), in seconds, before it is answered `503
    /// Service Unavailable` with `Retry-After`.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_seconds)]
    pub max_queue_wait: Duration,

    /// The most client connections open at once; more wait in the listen
    /// backlog until one closes. Default: half the open-file limit, at most 16384.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// The most connections one client (an IPv4 address, or an IPv6 /64)
    /// may have open at once; its new ones past it are closed at once.
    /// Default: no cap (behind a reverse proxy, every client has the
    /// proxy's address).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_client: Option<u32>,

    /// How long a client may take to send a request's headers, in seconds
    /// (from connecting, or from the first byte on a kept-alive
    /// connection); then the connection is closed.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_seconds)]
    pub http_header_read_timeout: Duration,

    /// The largest request body a component is given, in bytes (suffixes
    /// k, M, G allowed); a larger one is answered 413.
    #[arg(long, default_value = "100M", value_name = "SIZE", value_parser = parse_size)]
    pub max_request_body_size: usize,

    /// The most a Wagi module (`executor = { type = "wagi" }`) may write to
    /// stdout for one response, which is held whole before it is sent
    /// (suffixes k, M, G allowed); past it the request fails with a 500.
    #[arg(long, default_value = "16M", value_name = "SIZE", value_parser = parse_wagi_output_size)]
    pub max_wagi_output_size: usize,

    /// How long a request body may pause, in seconds, before the component
    /// has answered; then the request is answered 408.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_seconds)]
    pub http_body_read_timeout: Duration,

    /// How long a kept-alive connection may sit idle between requests, in
    /// seconds, before it is closed.
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = parse_seconds)]
    pub http_idle_timeout: Duration,

    /// The largest request head (request line and headers), in bytes
    /// (suffixes k, M allowed; at least 8k); a larger one is answered 431.
    /// Spin's `--http1-max-buf-size` (`SPIN_HTTP1_MAX_BUF_SIZE`) sets it too.
    #[arg(
        long,
        alias = "http1-max-buf-size",
        env = "SPIN_HTTP1_MAX_BUF_SIZE",
        default_value = "64k",
        value_name = "SIZE",
        value_parser = parse_header_size
    )]
    pub http_max_header_size: usize,

    /// How many Redis messages may wait for a handler, per Redis server;
    /// past it new messages are dropped (and counted in the log) until the
    /// handlers catch up.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub redis_max_pending_messages: u32,

    /// How many bytes of Redis messages may wait for a handler, per Redis
    /// server (suffixes k, M, G allowed); past it new messages are dropped.
    #[arg(long, default_value = "64M", value_name = "SIZE", value_parser = parse_size)]
    pub redis_max_pending_bytes: usize,

    /// How many requests one instance may serve, for every component
    /// (default: each component's `tool.spin-py.max_instance_reuse_count`,
    /// else 1 — a fresh instance per request — for `wasi:http@0.2`
    /// components and 128 for `wasi:http@0.3` ones, as in Spin). Python
    /// globals persist across the requests an instance serves. A range
    /// `LOW..HIGH` (HIGH excluded), as in Spin, draws a count for each new
    /// instance.
    #[arg(long, value_name = "N", value_parser = parse_count_range)]
    pub max_instance_reuse_count: Option<PerInstance<u32>>,

    /// How many requests one instance of a `wasi:http@0.3` component
    /// (spin-sdk 4.x/5.x) may serve at once, as in Spin (or a range
    /// `LOW..HIGH`, drawn for each new instance).
    #[arg(long, value_name = "N", default_value = "16", value_parser = parse_count_range)]
    pub max_instance_concurrent_reuse_count: PerInstance<u32>,

    /// How long an idle instance is kept for the next request: one of a
    /// `wasi:http@0.3` component, as in Spin, or one of a `wasi:http@0.2`
    /// component reused under `--max-instance-reuse-count` (or a range
    /// `LOW..HIGH`, e.g. `1..8s`, drawn for each new instance).
    #[arg(
        long,
        default_value = "1",
        value_name = "SECONDS",
        value_parser = parse_seconds_range,
        allow_hyphen_values = true
    )]
    pub idle_instance_timeout: PerInstance<Duration>,

    /// The most instances of one `wasi:http@0.3` component alive at once;
    /// more requests wait for one of them (default: one per CPU core, at least
    /// 2, when instances serve several requests at once; else no cap).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_instances_per_component: Option<u32>,

    /// The most outbound HTTP requests one instance may have in flight at
    /// once (sent, response headers not yet in); more wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_outbound_http_per_instance: u32,

    /// The most sockets (`wasi:sockets` TCP and UDP) one instance may hold
    /// open at once; creating another fails (`new-socket-limit`, or `other`
    /// in wasi:sockets 0.3). 0 refuses every socket.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_sockets_per_instance: u32,

    /// The most stores and connections one instance may hold open in each
    /// capability (key-value stores; SQLite, Redis, PostgreSQL, MySQL and
    /// MQTT connections); opening another fails with the interface's own
    /// error (`store-table-full`, `too-many-connections`, …).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_handles_per_instance: u32,

    /// The most WASI resources (HTTP fields, requests and responses, WASI
    /// 0.2 streams and pollables, files, sockets…) one instance may hold at
    /// once; past it the call that would make one more fails the request
    /// (and, for a `wasi:http@0.3` instance, the others it serves). At
    /// least 16: a request itself takes a few.
    #[arg(long, value_name = "N", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(16..))]
    pub max_resources_per_instance: u32,

    /// The most bytes of one result the host reads for an instance before
    /// copying it in (suffixes k, M, G allowed): a query's rows (SQLite,
    /// PostgreSQL, MySQL), a Redis reply or a message for the Redis
    /// trigger, a key-value value, a model service's answer, a Spin 1
    /// module's outbound response.
    /// Past it that call fails (a larger message is dropped) and the server
    /// serves on. Never more than `--max-instance-memory`.
    #[arg(long, env = "SPIN_MAX_RESULT_SIZE", value_name = "SIZE", default_value = "64M", value_parser = parse_result_size)]
    pub max_result_size: usize,

    /// The most memory SQLite may hold in this server, in bytes (suffixes k,
    /// M, G allowed; at least 1M): every database and key-value store of the
    /// application together (page caches, sorts, in-memory databases). Past
    /// it a statement fails with "out of memory" and the server serves on.
    /// Default: an eighth of the machine's memory (its cgroup's limit when
    /// lower), at least 32M, at most 1G.
    #[arg(long, value_name = "SIZE", value_parser = parse_sqlite_memory)]
    pub max_sqlite_memory: Option<usize>,

    /// The most hops a chain of in-process requests
    /// (`http://<component>.spin.internal`) may take; the request one hop
    /// deeper fails with `loop-detected`.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_chain_depth: u32,

    /// How long a new outbound connection past one of the runtime config's
    /// caps (`max_connections` of an `[outbound_*]` table,
    /// `[outbound_networking] max_total_connections`) waits for one to
    /// close, in seconds, before it fails with "too many connections".
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = parse_seconds)]
    pub outbound_connection_wait: Duration,

    /// Serve HTTPS with this PEM certificate chain (leaf first); needs `--tls-key`.
    #[arg(long, env = "SPIN_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of `--tls-cert`.
    #[arg(long, env = "SPIN_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Set a key in the default key-value store before serving
    /// (`KEY=VALUE`; repeatable; overwrites an existing value).
    #[arg(long = "key-value", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub key_values: Vec<(String, String)>,

    /// Run SQL against the default SQLite database before serving, e.g. a
    /// migration (`@file.sql` reads a file; repeatable, run in order).
    #[arg(long = "sqlite", value_name = "STATEMENT")]
    pub sqlite_statements: Vec<String>,

    /// Serve only this component's triggers (repeatable; default: all).
    #[arg(short = 'c', long = "component-id", value_name = "ID")]
    pub component_ids: Vec<String>,

    /// Show only this component's output on the terminal (repeatable;
    /// default: every component's). Log files get all output either way.
    #[arg(long = "follow", value_name = "ID")]
    pub follow: Vec<String>,

    /// Stage components' `files` in this directory (in `<DIR>/<component>`)
    /// instead of `<state-dir>/files`.
    #[arg(long = "temp", alias = "tmp", value_name = "DIR")]
    pub temp: Option<PathBuf>,

    /// Mount `files` directories as they are, so edits on the host show in
    /// the guest without a restart (not with glob patterns or
    /// `exclude_files`, which need a staged copy).
    #[arg(long)]
    pub direct_mounts: bool,

    /// Let components write to their `files` mounts; they write to a
    /// staged copy, so the changes are gone at the next start.
    #[arg(long)]
    pub allow_transient_write: bool,

    /// Empty the components' log files at start instead of appending.
    #[arg(long)]
    pub truncate_logs: bool,

    /// Development mode: a request that fails with a 500 (an uncaught
    /// exception, a trap, a timeout) gets the error and the component's
    /// stderr during the request (the Python traceback) in the response
    /// body, when the client is on this machine (loopback).
    #[arg(long)]
    pub dev: bool,

    /// Serve Python components from `spin watch`'s edit-loop interpreter,
    /// as this file (written by `spin watch`) describes.
    #[arg(long, hide = true, value_name = "FILE")]
    pub python_dev: Option<PathBuf>,

    #[command(flatten)]
    pub profile: super::app_source::BuildProfile,

    /// Run `spin build` before starting.
    #[arg(long, env = "SPIN_ALWAYS_BUILD")]
    pub build: bool,

    /// If the `--listen` port is taken, try the next ones (up to ten more),
    /// as Spin does.
    #[arg(long)]
    pub find_free_port: bool,

    /// How the address and routes are printed at startup: `plain`, or
    /// `json` for tools (`{"base_url", "routes": [{"id", "route",
    /// "wildcard", "description"}]}`, as Spin prints it).
    #[arg(long, value_enum, default_value_t = RouteFormat::Plain)]
    pub format: RouteFormat,

    /// Compile components with DWARF debug information, so that a native
    /// debugger (gdb, lldb) can step through the guest's code.
    #[arg(long)]
    pub debug_info: bool,

    /// Accepted for Spin compatibility: `wasi:otel` calls are always
    /// accepted and dropped here, as no OpenTelemetry exporter is
    /// configured; the flag says so at startup.
    #[arg(long)]
    pub experimental_wasi_otel: bool,
}

/// The form of the startup route listing (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RouteFormat {
    /// `Serving <url>` and one line per route.
    Plain,
    /// One JSON document.
    Json,
}

/// The most idle instances kept per component when instances are reused.
const IDLE_INSTANCES_PER_COMPONENT: usize = 16;

/// The default for `--max-instance-memory`.
const DEFAULT_MAX_INSTANCE_MEMORY: usize = 512 << 20;

/// Runs `spin up` with `args` (the words after `up`), for `spin build --up`.
pub fn run_up(args: Vec<String>) -> Result<ExitCode> {
    let cmd = UpCommand::try_parse_from(std::iter::once("up".to_string()).chain(args))?;
    cmd.run()
}

impl UpCommand {
    pub fn run(self) -> Result<ExitCode> {
        init_tracing();
        spin_runtime::host_allocator::keep_heap_resident();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(self.serve())?;
        Ok(ExitCode::SUCCESS)
    }

    async fn serve(self) -> Result<()> {
        if let Err(err) = spin_trigger_http::raise_open_file_limit() {
            tracing::warn!("could not raise the open-file limit: {err}");
        }
        // Checked first: a bad socket from `spin watch` fails before compiling.
        let inherited = inherited_listener()?;
        let (manifest_path, from_registry) = match self.registry_reference() {
            Some(reference) => {
                if self.build {
                    return Err(spin_hint::Hinted::new(
                        "`--build` builds a local application, and this one comes from a registry",
                        "drop `--build`; the registry artifact holds built components",
                    )
                    .into());
                }
                (
                    pull_for_up(
                        reference,
                        self.insecure,
                        self.cache_dir.as_deref(),
                        self.download_limits(),
                    )
                    .await?,
                    true,
                )
            }
            None => (resolve_manifest_path(&self.app.from)?, false),
        };
        // Checked before anything compiles: a bad certificate is a
        // startup error naming the file.
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(spin_trigger_http::tls::server_config(cert, key)?),
            _ => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let runtime_config = match &self.runtime_config_file {
            Some(path) => RuntimeConfig::load(path)?,
            None => RuntimeConfig::default(),
        };
        if let Some(at) = &runtime_config.outbound_http.deprecated_key {
            tracing::warn!(
                "`max_concurrent_requests` in `[outbound_http]` ({at}) is deprecated; it allows one connection more than it says\n\nhint: use `max_connections` instead, one higher"
            );
        }
        for shadowed in runtime_config.connection_limits.shadowed() {
            tracing::warn!("{shadowed}\n\nhint: lower it, or raise `max_total_connections`");
        }
        // `spin up -f app.wasm`: the file alone, as an application of one
        // component (as in Spin).
        // (Told by the name as given: a link named `app.wasm` is a Wasm
        // file, named after the link.)
        let bare_wasm = !from_registry && is_wasm_file_name(&self.app.from);
        // As in Spin, ignored where there are no profiles (said, though).
        let profile = match (self.profile.name(), bare_wasm || from_registry) {
            (Some(profile), true) => {
                let what = if bare_wasm {
                    format!(
                        "`{}` is a Wasm file, which has none",
                        manifest_path.display()
                    )
                } else {
                    "an application from a registry was pushed with its profile applied".to_owned()
                };
                tracing::warn!(
                    "`--profile {profile}` has no effect: it chooses a build profile of a manifest's components, and {what}\n\nhint: drop `--profile`"
                );
                None
            }
            (profile, _) => profile,
        };
        if self.build {
            if bare_wasm {
                return Err(spin_hint::Hinted::new(
                    format!(
                        "`--build` builds an application from its manifest, and `{}` is a Wasm file",
                        manifest_path.display()
                    ),
                    "drop `--build`, or point `-f` at the application's `spin.toml`",
                )
                .into());
            }
            super::build::build_manifest(&manifest_path, &[], profile)?;
        }
        let mut app = if bare_wasm {
            let dir = std::env::current_dir().context("reading the current directory")?;
            spin_manifest::for_wasm_file(&dir.join(&self.app.from), &dir)?
        } else {
            spin_manifest::load_file_for_profile(&manifest_path, profile)?
        };
        select_components(&mut app, &self.component_ids, &self.follow)?;
        let python_dev = match &self.python_dev {
            Some(path) => DevSpec::read(path)?,
            None => DevSpec::default(),
        };
        python_dev.apply(&mut app)?;
        spin_oci::remote_source::resolve(
            &mut app,
            self.cache_dir.as_deref(),
            self.download_limits(),
        )
        .await?;
        app.check_sources()?;
        // (Under `spin watch`, which builds what it runs, no warning.)
        let watched = std::env::var_os(super::watch::LISTEN_FD_ENV).is_some();
        if !self.build && !bare_wasm && !from_registry && !watched {
            super::build::warn_if_built_for_another_profile(&app, "this runs");
        }
        let sqlite_statements = self
            .sqlite_statements
            .iter()
            .map(|s| read_value(s).with_context(|| format!("`--sqlite {s}`")))
            .collect::<Result<Vec<_>>>()?;
        // As in Spin, an app from a registry has no directory of its own
        // to keep state in: its default stores live in memory unless
        // `--state-dir` or the runtime config names a place.
        let state_dir =
            if from_registry && self.state_dir.is_none() && runtime_config.state_dir.is_none() {
                None
            } else {
                runtime_config.state_dir(self.state_dir.as_deref(), &app.dir)
            };
        let log_dir = runtime_config.log_dir(self.log_dir.as_deref(), state_dir.as_deref());
        // `.spin` beside the manifest holds the state unless a place is
        // named, and stages `files` when the state is kept nowhere.
        let named = self.state_dir.is_some() || runtime_config.state_dir.is_some();
        if !from_registry && (!named || state_dir.is_none()) {
            let default = app.dir.join(".spin");
            let logs_there = log_dir.as_deref() == Some(default.join("logs").as_path());
            refuse_linked_default_state_dir(&default, logs_there)?;
        }
        // Where `files` are staged when there is no state directory: for a
        // registry app, a directory of this run's own (the cached app is
        // shared by every run of the image).
        let staging = tempfile::Builder::new()
            .prefix("spin-up-")
            .tempdir()
            .context("creating a staging directory")?;
        let cache_dir = match (&self.cache, self.disable_cache) {
            (_, true) => None,
            (Some(file), false) => {
                let config = super::cache_config::CacheConfig::read(file)?;
                if !config.ignored.is_empty() {
                    tracing::warn!(
                        "`--cache {}`: {} left aside; this host keeps compiled components in its own cache, keyed by content, and takes only `enabled` and `directory`",
                        file.display(),
                        config.ignored.join(", ")
                    );
                }
                match config.enabled {
                    true => config
                        .directory
                        .or_else(spin_runtime::engine::default_cache_dir),
                    false => None,
                }
            }
            (None, false) => spin_runtime::engine::default_cache_dir(),
        };
        let max_instance_memory = self
            .max_instance_memory
            .or(runtime_config.max_instance_memory)
            .unwrap_or(DEFAULT_MAX_INSTANCE_MEMORY);
        let engine = RuntimeEngine::new(EngineOptions {
            max_instance_memory,
            max_total_memory: self
                .max_total_memory
                .unwrap_or_else(spin_runtime::memory_budget::default_limit),
            // Waiting for memory is waiting in the queue.
            new_instance_memory_wait: self.max_queue_wait,
            // Clients' requests, in-process ones and (with a Redis trigger)
            // messages have as many slots each, and idle instances kept for
            // reuse hold pool slots too.
            max_concurrent_instances: self
                .max_concurrent_requests
                .saturating_mul(if app.redis_triggers.is_empty() { 2 } else { 3 })
                .saturating_add(
                    (IDLE_INSTANCES_PER_COMPONENT * app.components.len())
                        .try_into()
                        .unwrap_or(u32::MAX),
                ),
            pooling: !self.disable_pooling,
            cache_dir,
            debug_info: self.debug_info,
        })?;
        if self.experimental_wasi_otel {
            tracing::info!(
                "`--experimental-wasi-otel`: components' `wasi:otel` traces, metrics and logs are accepted and dropped; this host exports none"
            );
        }
        let variables = self
            .variables
            .iter()
            .map(|(k, v)| Ok((k.clone(), read_value(v)?)))
            .collect::<Result<Vec<_>>>()?;
        let options = LoadOptions {
            env: self.env.clone(),
            variables: VariableSources::from_environment(
                variables,
                &app.dir,
                &runtime_config.variables_providers,
            )?,
            log_dir,
            quiet: self.quiet,
            max_log_line_length: self.max_log_line_length,
            stores: runtime_config.stores(state_dir.as_deref()),
            blocked_networks: runtime_config.blocked_networks.clone(),
            client_tls: runtime_config.client_tls.clone(),
            outbound_http: runtime_config.outbound_http.clone(),
            outbound_mqtt: runtime_config.outbound_mqtt.clone(),
            llm_compute: runtime_config.llm_compute.clone(),
            connection_limits: runtime_config.connection_limits.clone(),
            outbound_connection_wait: Some(self.outbound_connection_wait),
            max_outbound_http_per_instance: Some(self.max_outbound_http_per_instance as usize),
            max_sockets_per_instance: Some(self.max_sockets_per_instance as usize),
            max_handles_per_instance: Some(self.max_handles_per_instance as usize),
            max_resources_per_instance: Some(self.max_resources_per_instance as usize),
            max_result_size: Some(self.max_result_size),
            max_chain_depth: Some(self.max_chain_depth),
            follow: (!self.follow.is_empty()).then(|| self.follow.clone()),
            truncate_logs: self.truncate_logs,
            files_staging: self.temp.clone(),
            mounts: spin_runtime::files::MountOptions {
                direct: self.direct_mounts,
                transient_write: self.allow_transient_write,
            },
            capture_stderr: self.dev,
            extra_mounts: python_dev.mounts(),
            // With no state directory, `files` are still staged beside the manifest.
            state_dir: match state_dir {
                Some(dir) => dir,
                None if from_registry => staging.path().to_path_buf(),
                None => app.dir.join(".spin"),
            },
        };
        // Before any database opens: the cap is the process's.
        spin_runtime::services::cap_sqlite_memory(
            self.max_sqlite_memory
                .unwrap_or_else(spin_runtime::memory_budget::default_sqlite_limit),
        );
        let spinner = progress("Preparing components");
        let loaded = LoadedApp::load(app, engine, options).await;
        spinner.finish_and_clear();
        let loaded = loaded?;
        loaded.seed(&self.key_values, &sqlite_statements).await?;
        let loaded = Arc::new(loaded);

        let redis = RedisTrigger::new(
            loaded.clone(),
            RedisTriggerOptions {
                message_timeout: self.request_timeout,
                max_concurrent_messages: self.max_concurrent_requests as usize,
                backlog: BacklogLimits {
                    max_messages: self.redis_max_pending_messages as usize,
                    max_bytes: self.redis_max_pending_bytes,
                },
            },
        )?;
        if !redis.is_empty() {
            // With `--format json`, stdout holds the JSON document alone.
            let mut listing = String::from("Subscribed to Redis channels:\n");
            for (address, channel, component) in redis.subscriptions() {
                listing.push_str(&format!("  {component}: `{channel}` at {address}\n"));
            }
            match self.format {
                RouteFormat::Plain => print!("{listing}"),
                RouteFormat::Json => eprint!("{listing}"),
            }
            tokio::spawn(redis.run());
        }
        if loaded.app.http_triggers.is_empty() {
            // A Redis-only application, as in Spin: no HTTP listener.
            shutdown_signal().await;
            eprintln!("Shutting down");
            return Ok(());
        }

        let server = HttpServer::new(
            loaded,
            ServerOptions {
                request_timeout: self.request_timeout,
                max_concurrent_instances: self.max_concurrent_requests as usize,
                max_queue_wait: self.max_queue_wait,
                max_connections: self.max_connections.map(|n| n as usize),
                max_connections_per_client: self.max_connections_per_client.map(|n| n as usize),
                header_read_timeout: self.http_header_read_timeout,
                idle_timeout: self.http_idle_timeout,
                body_read_timeout: self.http_body_read_timeout,
                max_request_body_size: self.max_request_body_size as u64,
                max_wagi_output_size: self.max_wagi_output_size,
                max_header_size: self.http_max_header_size,
                max_instance_reuse_count: self.max_instance_reuse_count,
                max_idle_instances: IDLE_INSTANCES_PER_COMPONENT,
                max_instance_concurrent_reuse_count: self.max_instance_concurrent_reuse_count,
                idle_instance_timeout: self.idle_instance_timeout,
                max_instances_per_component: self.max_instances_per_component,
                tls,
                dev: self.dev,
                ..ServerOptions::default()
            },
        )?;
        check_python_dev_imports(&server, &python_dev).await?;
        let listener = match inherited {
            Some(listener) => listener,
            None if self.find_free_port => HttpServer::bind_free_port(self.listen).await?,
            None => HttpServer::bind(self.listen).await?,
        };
        let addr = listener.local_addr()?;
        print_routes(self.format, scheme, addr, &server.routes())?;
        server.serve(listener, shutdown_signal()).await?;
        eprintln!("Shutting down");
        Ok(())
    }
}

impl UpCommand {
    /// What downloads may bring (`--max-download-size`, `--max-unpacked-size`).
    fn download_limits(&self) -> spin_oci::DownloadLimits {
        super::registry::download_limits(&self.download_size, Some(&self.unpacked_size))
    }

    /// The registry reference to run: `--from-registry`, or a `-f` that
    /// names no local file but reads as a reference with a registry host
    /// (`localhost:5000/app:v1`, `ghcr.io/me/app:v1`), as Spin does.
    fn registry_reference(&self) -> Option<&str> {
        if let Some(reference) = &self.from_registry {
            return Some(reference);
        }
        let text = self.app.from.to_str()?;
        if self.app.from.exists() {
            return None;
        }
        let (host, rest) = text.split_once('/')?;
        let is_host = host == "localhost" || host.contains('.') || host.contains(':');
        let has_version = rest.contains(':') || rest.contains('@');
        (is_host && has_version && !text.ends_with(".toml")).then_some(text)
    }
}

/// `-c/--component-id`: drops the triggers of every other component; and
/// checks that the ids given to `-c` and `--follow` exist.
fn select_components(
    app: &mut spin_manifest::App,
    only: &[String],
    follow: &[String],
) -> Result<()> {
    for (flag, ids) in [("--component-id", only), ("--follow", follow)] {
        let unknown: Vec<&str> = ids
            .iter()
            .filter(|id| app.component(id).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = app.components.iter().map(|c| c.id.as_str()).collect();
            return Err(spin_hint::Hinted::new(
                format!(
                    "`{flag}` names {}, which `{}` does not define",
                    unknown
                        .iter()
                        .map(|id| format!("`{id}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    app.path.display()
                ),
                format!("the application's components are: {}", known.join(", ")),
            )
            .into());
        }
    }
    if !only.is_empty() {
        let keep = |id: Option<&str>| id.is_some_and(|id| only.iter().any(|o| o == id));
        app.http_triggers.retain(|t| keep(t.component.as_deref()));
        app.redis_triggers.retain(|t| keep(Some(&t.component)));
    }
    Ok(())
}

/// Has each edit-loop interpreter import its app before anything is
/// served, so that a version whose import fails (a syntax error, a missing
/// name) never starts and `spin watch` keeps the last good one serving.
async fn check_python_dev_imports(server: &HttpServer, python_dev: &DevSpec) -> Result<()> {
    for id in python_dev.components.keys() {
        if !server.routes().iter().any(|listing| &listing.target == id) {
            continue;
        }
        let status = server
            .request_in_process(id, &[(super::python_dev::PROBE_HEADER, "1")])
            .await
            .with_context(|| format!("checking component `{id}`"))?;
        if status != 204 {
            return Err(spin_hint::Hinted::new(
                format!("component `{id}`: importing the app failed (its traceback is above)"),
                "fix the error and save again",
            )
            .into());
        }
    }
    Ok(())
}

/// Refuses `state`, the `.spin` beside the manifest, or (when the logs go
/// there) its `logs`, that is a symbolic link: the application's directory
/// would choose where its databases and logs go. (A state directory the
/// user names, by flag or runtime config, may be a link; `files` staging
/// checks its own.)
fn refuse_linked_default_state_dir(state: &Path, logs_there: bool) -> Result<()> {
    let logs = logs_there.then(|| state.join("logs"));
    for dir in std::iter::once(state.to_owned()).chain(logs) {
        let is_link = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            continue;
        }
        let target = std::fs::read_link(&dir)
            .map(|t| format!(" (to `{}`)", t.display()))
            .unwrap_or_default();
        return Err(spin_hint::Hinted::new(
            format!(
                "`{}` is a symbolic link{target}; spin keeps the application's databases and logs there, and an application's directory does not choose where they go",
                dir.display()
            ),
            "replace the link with a directory, or name the place with `--state-dir` (or the runtime config's `state_dir`)",
        )
        .into());
    }
    Ok(())
}

/// Pulls `reference` and writes the manifest it runs from.
async fn pull_for_up(
    reference: &str,
    insecure: bool,
    cache_dir: Option<&Path>,
    limits: spin_oci::DownloadLimits,
) -> Result<PathBuf> {
    let cache = spin_oci::RegistryCache::user(cache_dir)?;
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let pulled = spin_oci::pull(reference, insecure, &cache, progress, limits).await?;
    tracing::info!(
        "pulled {}@{} ({} blobs downloaded, {} cached)",
        pulled.reference,
        pulled.digest,
        pulled.downloaded,
        pulled.cached
    );
    spin_oci::run::prepare(&pulled, &cache)
}

/// The listening socket `spin watch` hands over (`SPIN_LISTEN_FD`), so
/// that a new version serves on the same socket as the old one.
fn inherited_listener() -> Result<Option<tokio::net::TcpListener>> {
    use std::os::fd::FromRawFd as _;
    let Ok(text) = std::env::var(super::watch::LISTEN_FD_ENV) else {
        return Ok(None);
    };
    let fd: i32 = text.parse().with_context(|| {
        format!(
            "`{}={text}` is not a file descriptor",
            super::watch::LISTEN_FD_ENV
        )
    })?;
    let mut kind: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes an int into `kind`, whose size `len` gives.
    let listening = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&raw mut kind).cast(),
            &mut len,
        )
    } == 0
        && kind == 1;
    if !listening {
        bail!(
            "`{}={fd}` is not a listening socket",
            super::watch::LISTEN_FD_ENV
        );
    }
    // SAFETY: `fd` is a listening socket handed to this process to own.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    listener.set_nonblocking(true)?;
    Ok(Some(tokio::net::TcpListener::from_std(listener)?))
}

/// Whether `-f` names a Wasm file (`.wasm`, or Wasm text `.wat`) rather
/// than a manifest, as Spin tells them apart.
fn is_wasm_file_name(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("wasm") || ext.eq_ignore_ascii_case("wat"))
}

/// A manifest path from `-f`: a file, or a directory holding `spin.toml`.
pub fn resolve_manifest_path(from: &Path) -> Result<PathBuf> {
    let path = if from.is_dir() {
        from.join("spin.toml")
    } else {
        from.to_path_buf()
    };
    if !path.exists() {
        return Err(spin_hint::Hinted::new(
            format!("no application manifest at `{}`", path.display()),
            "run `spin up` in the directory holding `spin.toml`, or pass `-f <path to spin.toml or its directory>`; `spin new http-py <name>` creates a new application",
        )
        .into());
    }
    Ok(path.canonicalize().unwrap_or(path))
}

fn print_routes(
    format: RouteFormat,
    scheme: &str,
    addr: SocketAddr,
    routes: &[RouteListing],
) -> Result<()> {
    let base_url = format!("{scheme}://{addr}");
    let split = |route: &str| match route.strip_suffix("/...") {
        Some(prefix) => (prefix.to_string(), true),
        None => (route.to_string(), false),
    };
    match format {
        RouteFormat::Plain => {
            println!("Serving {base_url}");
            println!("Available Routes:");
            for listing in routes {
                let (path, wildcard) = split(&listing.route);
                let wildcard = if wildcard { " (wildcard)" } else { "" };
                println!("  {}: {base_url}{path}{wildcard}", listing.target);
                if let Some(description) = &listing.description {
                    println!("    {description}");
                }
            }
        }
        RouteFormat::Json => {
            let routes: Vec<serde_json::Value> = routes
                .iter()
                .map(|listing| {
                    let (path, wildcard) = split(&listing.route);
                    let mut entry = serde_json::json!({
                        "id": listing.target,
                        "route": if path.is_empty() { "/".to_string() } else { path },
                        "wildcard": wildcard,
                    });
                    if let Some(description) = &listing.description {
                        entry["description"] = description.clone().into();
                    }
                    entry
                })
                .collect();
            let output = serde_json::json!({ "base_url": base_url, "routes": routes });
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
    }
    Ok(())
}

/// Resolves at the first Ctrl-C or SIGTERM, which stops the server
/// gracefully; a second one ends the process at once, as uvicorn's does,
/// without waiting out the requests in flight. The same listeners wait for
/// both: a second signal sent right after the first (before a new listener
/// was made) was lost, and the server then waited out its grace period.
async fn shutdown_signal() {
    let mut signals = StopSignals::new();
    signals.next().await;
    tokio::spawn(async move {
        signals.next().await;
        eprintln!("second stop signal: exiting without waiting for the requests in flight");
        std::process::exit(1);
    });
}

/// Listeners for the signals that stop the server, kept for its life: a
/// signal that arrives while nothing awaits them is kept until asked for.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                terminate: signal(SignalKind::terminate()).expect("installing the SIGTERM handler"),
                interrupt: signal(SignalKind::interrupt()).expect("installing the SIGINT handler"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Resolves at the next Ctrl-C or SIGTERM.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SPIN_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,spin_runtime=info,spin_trigger_http=info,spin_cli=info",
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Secret variable values never reach the log (`secrets`).
        .with_writer(|| spin_runtime::secrets::RedactingWriter(std::io::stderr()))
        .try_init();
}

fn progress(message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

fn read_value(v: &str) -> Result<String> {
    match v.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("reading the variable value from `{file}`")),
        None => Ok(v.to_string()),
    }
}

fn parse_line_limit(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        0 => Err("a line must be allowed at least 1 byte".into()),
        n => Ok(n),
    }
}

pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1usize << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("expected a size like 512M, got `{s}`"))
}

/// `--max-wagi-output-size`: a size of at least 1 byte (0 would fail every
/// Wagi response).
fn parse_wagi_output_size(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        0 => Err("give at least 1 (e.g. 16M): 0 would fail every Wagi response".to_owned()),
        size => Ok(size),
    }
}

/// A cap on one result: at least 1 KiB (a connection's own handshake
/// replies count too).
fn parse_result_size(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        size if size < 1 << 10 => Err(format!(
            "`{s}` is too little for one result: give at least 1k (e.g. 64M)"
        )),
        size => Ok(size),
    }
}

/// A cap on SQLite's memory: a size of at least 1 MiB (SQLite reads 0 as
/// no cap at all, and needs some memory to open a database).
fn parse_sqlite_memory(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        size if size < 1 << 20 => Err(format!(
            "`{s}` is too little for SQLite: give at least 1M (e.g. 64M)"
        )),
        size => Ok(size),
    }
}

/// A count of at least 1, or, as in Spin, a range `LOW..HIGH` (HIGH
/// excluded) drawn from for each new instance.
fn parse_count_range(s: &str) -> Result<PerInstance<u32>, String> {
    parse_range(s, parse_count)
}

/// A duration ([`parse_seconds`]), or, as in Spin, a range `LOW..HIGH`
/// (HIGH excluded) drawn from for each new instance. As in Spin, each end
/// is read on its own, a bare number being seconds: `1..8s` is one to eight
/// seconds, `1..2000ms` one to two.
fn parse_seconds_range(s: &str) -> Result<PerInstance<Duration>, String> {
    parse_range(s, parse_seconds)
}

/// `LOW..HIGH` (HIGH excluded, LOW below it) of values `parse` reads, or one
/// such value.
fn parse_range<T: Copy + PartialOrd>(
    s: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<PerInstance<T>, String> {
    let Some((low, high)) = s.split_once("..") else {
        return parse(s).map(PerInstance::Value);
    };
    if high.starts_with('=') || high.contains("..") {
        return Err(format!(
            "`{s}`: a range is written `LOW..HIGH`, HIGH excluded, as in Spin (`1..=8` is written `1..9`)"
        ));
    }
    PerInstance::between(parse(low)?, parse(high)?).ok_or_else(|| {
        format!(
            "`{s}` holds no value: HIGH is excluded, so it must be above LOW (e.g. `1..8`; a bare number is seconds, as in Spin: `100ms..250ms`, not `100..250ms`)"
        )
    })
}

/// A count of at least 1.
fn parse_count(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number of at least 1, got `{s}`")),
    }
}

/// A positive duration: a number of seconds (fractions allowed), or, as in
/// Spin, a number with the unit `s`, `ms`, `us` (or `μs`) or `ns`.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if let Some((low, high)) = text.split_once("..") {
        return Err(format!(
            "`{s}` is a range, and this setting takes one value (e.g. `{}` or `{}`); ranges are for the instance settings (`--max-instance-reuse-count`, `--max-instance-concurrent-reuse-count`, `--idle-instance-timeout`, `--request-timeout`)",
            low.trim(),
            high.trim()
        ));
    }
    let (number, unit) = [
        ("ms", 1e-3),
        ("us", 1e-6),
        ("μs", 1e-6),
        ("ns", 1e-9),
        ("s", 1.0),
    ]
    .iter()
    .find_map(|&(suffix, unit)| Some((text.strip_suffix(suffix)?, unit)))
    .unwrap_or((text, 1.0));
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Duration::try_from_secs_f64(n * unit)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("`{s}` is not a duration this host can keep")),
        _ => Err(format!(
            "expected a positive number of seconds, or one with a unit (`500ms`, `2s`), got `{s}`"
        )),
    }
}

/// A request-head limit: a size of at least hyper's smallest buffer.
fn parse_header_size(s: &str) -> Result<usize, String> {
    let size = parse_size(s)?;
    if size < spin_trigger_http::MIN_HEADER_SIZE {
        return Err(format!(
            "`{s}` is below the smallest allowed, {}k",
            spin_trigger_http::MIN_HEADER_SIZE >> 10
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_or_spin_s_units() {
        let ok = |s: &str| parse_seconds(s).unwrap();
        assert_eq!(ok("30"), Duration::from_secs(30));
        assert_eq!(ok("1.5"), Duration::from_millis(1500));
        assert_eq!(ok("2s"), Duration::from_secs(2));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("250us"), Duration::from_micros(250));
        assert_eq!(ok("250μs"), Duration::from_micros(250));
        assert_eq!(ok("100ns"), Duration::from_nanos(100));
        for bad in ["0", "0ms", "-1", "NaN", "inf", "5m", "", "s", "1e400"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
        let range = parse_seconds("1..8s").unwrap_err();
        assert!(range.contains("is a range"), "{range}");
    }

    #[test]
    fn counts_are_whole_and_ranges_are_spin_s() {
        assert_eq!(parse_count_range("128"), Ok(PerInstance::Value(128)));
        assert_eq!(parse_count_range("1..8"), Ok(PerInstance::Between(1, 8)));
        for bad in ["0", "1.5", "0..8", "8..8", "8..1", "1..", "..8", "1..8..9"] {
            assert!(parse_count_range(bad).is_err(), "{bad}");
        }
        assert!(
            parse_count_range("8..2")
                .unwrap_err()
                .contains("HIGH is excluded")
        );
        assert!(
            parse_count_range("1..=8")
                .unwrap_err()
                .contains("`1..=8` is written `1..9`")
        );
    }

    #[test]
    fn duration_ranges_read_each_end_as_spin_does() {
        let range = |s: &str| parse_seconds_range(s).unwrap();
        let ms = Duration::from_millis;
        assert_eq!(range("1..8s"), PerInstance::Between(ms(1000), ms(8000)));
        assert_eq!(range("500ms..2s"), PerInstance::Between(ms(500), ms(2000)));
        // Each end on its own, as in Spin: a bare number is seconds.
        assert_eq!(range("1..2000ms"), PerInstance::Between(ms(1000), ms(2000)));
        assert_eq!(range("0.5..2"), PerInstance::Between(ms(500), ms(2000)));
        assert_eq!(range("3"), PerInstance::Value(ms(3000)));
        assert_eq!(range("1.. 8s"), PerInstance::Between(ms(1000), ms(8000)));
        for bad in ["2s..1s", "1..1s", "0..1s", "1..x", "1..2..3"] {
            assert!(parse_seconds_range(bad).is_err(), "{bad}");
        }
        let empty = parse_seconds_range("100..250ms").unwrap_err();
        assert!(
            empty.contains("`100ms..250ms`, not `100..250ms`"),
            "{empty}"
        );
        let twice = parse_seconds_range("1..2..3").unwrap_err();
        assert!(twice.contains("written `LOW..HIGH`"), "{twice}");
    }
}
