//! The Wagi executor (`executor = { type = "wagi" }`), as in Spin: the
//! component is a WASI preview 1 command module (a `wasm32-wasi` program in
//! any language), run once per request CGI-style: the request's metadata
//! in its environment and arguments, its body on stdin, the response (CGI
//! headers, a blank line, the body) on stdout.
//!
//! The module runs under the same limits as any component: its memory
//! under `--max-instance-memory` and `--max-total-memory`, its time under
//! `--request-timeout` (yielding to other requests as it runs), its `files`
//! mounted as they would be, its stderr in the component's log. WASI
//! preview 1 has no network, and a Wagi module may import nothing else.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use wasmtime::{InstancePre, Linker, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

use crate::app::{ComponentConfig, store_limits};
use crate::engine::{RuntimeEngine, TICKS_PER_SLICE};
use crate::memory_budget::{InstanceLimits, NoMemoryForInstance};

/// A Wagi module, compiled and linked, and how it is called.
pub struct WagiPre {
    pre: InstancePre<WagiState>,
    /// The function to call (`_start` unless the manifest says otherwise).
    entrypoint: String,
    /// The arguments' template (`${SCRIPT_NAME} ${ARGS}` by default).
    pub argv: String,
}

/// What one run of a Wagi module holds: its WASI context and its limits,
/// nothing of any other capability.
pub struct WagiState {
    wasi: WasiP1Ctx,
    limits: InstanceLimits,
}

/// What a request gives a Wagi module.
#[derive(Clone, Default)]
pub struct WagiRequest {
    /// Its arguments (`argv[0]` first).
    pub args: Vec<String>,
    /// Its environment besides the component's own: the CGI variables.
    pub env: Vec<(String, String)>,
    /// Its standard input: the request body.
    pub stdin: Bytes,
    /// Where what it writes to stderr goes besides the log, under `spin up
    /// --dev` (for the failure page).
    pub stderr_since: Option<Arc<std::sync::OnceLock<crate::logs::CaptureSince>>>,
}

/// The bounds of one run.
#[derive(Debug, Clone, Copy)]
pub struct WagiBounds {
    /// When the request's time (`--request-timeout`, counted from when it
    /// got its slot) is up.
    pub deadline: Instant,
    /// That time, for the message.
    pub timeout: Duration,
    /// Until when a new instance may wait for memory under
    /// `--max-total-memory` (then it fails with [`NoMemoryForInstance`]).
    pub memory_deadline: Option<Instant>,
    /// The most the module may write to stdout (past it, its writes fail).
    pub max_output: usize,
}

impl WagiPre {
    /// Compiles and links the module at `path` for component `id` (blocks:
    /// run on a blocking thread).
    pub(crate) fn load(
        engine: &RuntimeEngine,
        path: &Path,
        id: &str,
        entrypoint: &str,
        argv: &str,
    ) -> Result<Self> {
        // Compiled once and cached, as components are.
        let module = crate::component_cache::load_module(engine, path)?;
        let mut linker = Linker::<WagiState>::new(&engine.engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state| &mut state.wasi)?;
        let pre = linker.instantiate_pre(&module).map_err(|e| {
            spin_hint::Hinted::new(
                format!("the Wagi module of component `{id}` cannot be linked: {e:#}"),
                "a Wagi module may import WASI preview 1 (`wasi_snapshot_preview1`) and nothing else; a module built for Spin's interfaces is not a Wagi module (drop `executor`)",
            )
        })?;
        let exported = module
            .get_export(entrypoint)
            .and_then(|e| e.func().cloned())
            .is_some_and(|f| f.params().len() == 0 && f.results().len() == 0);
        if !exported {
            return Err(spin_hint::Hinted::new(
                format!(
                    "the Wagi module of component `{id}` exports no function `{entrypoint}` taking and returning nothing"
                ),
                "a WASI command exports `_start`; name another function with the trigger's `executor = { type = \"wagi\", entrypoint = \"...\" }`",
            )
            .into());
        }
        Ok(Self {
            pre,
            entrypoint: entrypoint.to_owned(),
            argv: argv.to_owned(),
        })
    }

    /// Runs the module once for `request`, within `bounds`; returns what
    /// it wrote to stdout.
    pub async fn run(
        &self,
        engine: &RuntimeEngine,
        config: &Arc<ComponentConfig>,
        request: WagiRequest,
        bounds: WagiBounds,
    ) -> Result<Bytes> {
        let WagiBounds {
            deadline,
            timeout,
            memory_deadline,
            max_output,
        } = bounds;
        let stdout = MemoryOutputPipe::new(max_output);
        let mut wasi = WasiCtxBuilder::new();
        wasi.args(&request.args)
            .envs(&config.environment)
            .envs(&request.env)
            .stdin(MemoryInputPipe::new(request.stdin))
            .stdout(stdout.clone())
            .stderr(config.stderr_log(request.stderr_since.as_deref()));
        config.preopen_mounts(&mut wasi);
        let state = WagiState {
            wasi: wasi.build_p1(),
            limits: InstanceLimits::new(
                store_limits(engine.options.max_instance_memory),
                engine.memory.clone(),
                Some(config.clone()),
            ),
        };
        let mut store = Store::new(&engine.engine, state);
        store.limiter_async(|state| &mut state.limits);
        store
            .data_mut()
            .limits
            .wait_for_memory_until(tokio::time::Instant::from_std(
                memory_deadline.map_or(deadline, |m| m.min(deadline)),
            ));
        store.set_epoch_deadline(TICKS_PER_SLICE);
        store.epoch_deadline_async_yield_and_update(TICKS_PER_SLICE);
        let run = async {
            let instance = match self.pre.instantiate_async(&mut store).await {
                Ok(instance) => instance,
                Err(e) => {
                    return Err(match NoMemoryForInstance::in_error(&e) {
                        Some(refused) => anyhow::Error::new(refused.clone()),
                        None => anyhow::Error::from(e),
                    });
                }
            };
            store.data_mut().limits.instantiated();
            let entry = instance.get_typed_func::<(), ()>(&mut store, &self.entrypoint)?;
            match entry.call_async(&mut store, ()).await {
                Ok(()) => Ok(()),
                Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(wasmtime_wasi::I32Exit(0)) => Ok(()),
                    Some(wasmtime_wasi::I32Exit(code)) => {
                        Err(anyhow::anyhow!("the Wagi module exited with status {code}"))
                    }
                    None => Err(anyhow::Error::from(e)),
                },
            }
        };
        let ran = tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), run).await;
        match ran {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            // Its memory's wait and the timeout ended together, and the
            // timeout was seen first: refused for memory (a 503), as for
            // any component.
            Err(_) if store.data().limits.waiting_for_memory() => {
                let refused = NoMemoryForInstance::at_request_deadline(&config.id, timeout);
                return Err(anyhow::Error::new(refused));
            }
            Err(_) => return Err(crate::failure_hints::timed_out(timeout)),
        }
        drop(store);
        // The store, and with it the module's end of the pipe, is gone.
        let output = stdout
            .try_into_inner()
            .context("the Wagi module's output is still held after its run")?
            .freeze();
        if output.len() >= max_output {
            // A request's failure is logged as one message: the hint in it.
            return Err(anyhow::anyhow!(
                "the Wagi module of component `{}` wrote {max_output} bytes or more to stdout, the most one response may be\n\nhint: a Wagi response is held whole before it is sent: raise `spin up --max-wagi-output-size` if it is this large on purpose",
                config.id
            ));
        }
        Ok(output)
    }
}
