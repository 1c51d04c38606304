//! The data each request's `Store` holds: WASI and wasi:http contexts, the
//! resource table, memory limits, and the component's granted capabilities.

use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::connections::ConnectionState;
use crate::capabilities::llm::LlmState;
use crate::capabilities::outbound_http::OutboundHttp;
use crate::capabilities::sockets::held::{HeldSockets, SocketsView};
use crate::capabilities::variables::VariablesState;
use crate::logs::{CaptureSince, OutputCapture};
use crate::memory_budget::InstanceLimits;

/// Per-request host state: one per `Store`, dropped with the instance.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: InstanceLimits,
    pub(crate) outbound_http: OutboundHttp,
    /// The variables capability's own state.
    pub(crate) variables: VariablesState,
    /// The SQLite capability's own state (its open databases, the
    /// request's deadline).
    pub(crate) sqlite: ConnectionState,
    /// The key-value capability's own state (its open stores).
    pub(crate) key_value: ConnectionState,
    /// The Redis capability's own state.
    pub(crate) redis: ConnectionState,
    /// The MQTT capability's own state.
    pub(crate) mqtt: ConnectionState,
    /// The PostgreSQL capability's own state.
    pub(crate) postgres: ConnectionState,
    /// The MySQL capability's own state.
    pub(crate) mysql: ConnectionState,
    /// The LLM capability's own state (the models it may use).
    pub(crate) llm: LlmState,
    /// The sockets the guest holds open (wasmtime-wasi implements them).
    pub(crate) sockets: HeldSockets,
    /// What the guest writes to stderr, under `spin up --dev`.
    pub(crate) stderr_capture: Option<OutputCapture>,
}

impl HostState {
    /// Records that the store's instance is made: its memory grows from
    /// now on are a running instance's (see [`crate::memory_budget`]).
    pub fn instantiated(&mut self) {
        self.limits.instantiated();
    }

    /// While the instance is being made, its memory waits for the budget
    /// until `deadline` at most, instead of the budget's own wait.
    pub fn wait_for_memory_until(&mut self, deadline: std::time::Instant) {
        self.limits
            .wait_for_memory_until(tokio::time::Instant::from_std(deadline));
    }

    /// Whether the instance is still being made, waiting for memory under
    /// `--max-total-memory` (so a request stopped now was stopped by that
    /// wait, not by its guest).
    pub fn waiting_for_memory(&self) -> bool {
        self.limits.waiting_for_memory()
    }

    /// The outbound HTTP capability's own state (the chain depth of the
    /// request served, set by the HTTP trigger).
    pub fn outbound_http(&mut self) -> &mut OutboundHttp {
        &mut self.outbound_http
    }

    /// The resource table, for creating the incoming request and response
    /// resources handed to the guest.
    pub fn http_view(&mut self) -> WasiHttpCtxView<'_> {
        self.http()
    }

    /// What the guest writes to stderr from now on, when the app was
    /// loaded with `capture_stderr` (`spin up --dev`): called as a request
    /// starts.
    pub fn stderr_capture(&self) -> Option<CaptureSince> {
        Some(self.stderr_capture.as_ref()?.from_now())
    }

    /// Starts the clock of a request that may run for `timeout`. SQLite
    /// statements stop a quarter of it (at most 1 s) before it runs out, so
    /// that the guest still receives their error and can answer, instead of
    /// the statement burning a core after the request was abandoned.
    pub fn set_request_timeout(&mut self, timeout: Duration) {
        let reserve = (timeout / 4).min(Duration::from_secs(1));
        self.sqlite.deadline = Instant::now().checked_add(timeout - reserve);
    }
}

impl HostState {
    /// wasmtime-wasi's sockets with the count of those held.
    pub(crate) fn sockets_view(&mut self) -> SocketsView<'_> {
        SocketsView {
            wasi: wasmtime_wasi::sockets::WasiSocketsCtxView {
                ctx: self.wasi.sockets(),
                table: &mut self.table,
            },
            held: &mut self.sockets,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
