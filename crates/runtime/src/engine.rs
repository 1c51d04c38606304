//! The wasmtime engine and the clock that lets long-running guests yield.

use anyhow::{Context as _, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::function_cache::FunctionCache;
use crate::host_wait::TickClock;
use crate::memory_budget::MemoryBudget;
use crate::private_files::ensure_private_dir;

/// How often the engine's epoch advances: the clock of guest time slices
/// (`TICKS_PER_SLICE`), and so of how precisely request timeouts are enforced.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Guest code yields at the second epoch tick after it started or last
/// yielded: after 10–20 ms of running, never sooner. Yielding at the first
/// tick (0–10 ms) interrupted one in seven 1.5 ms requests, and each yield
/// let another request start an instance, so under load about six instances
/// lived at once, each keeping its pool slot resident. Measured on the
/// official-SDK hello world (`wrk -t2 -c16`, fresh instance per request):
/// peak RSS 131–143 MB → 71 MB at the same 1,300 req/s.
pub const TICKS_PER_SLICE: u64 = 2;

/// How much of each pooled linear memory stays resident between instances,
/// reset by copying the memory image back rather than unmapped. A CPython
/// heap in a componentize-py component writes pages up to ~30 MiB: at
/// 16 MiB, a spin-sdk 5 instance retired after its 128 requests left its
/// successor to fault the upper pages in again, one TLB shootdown each —
/// 7,683 req/s against 10,080 at 32 MiB (`wrk -t2 -c16`, 2 cores,
/// 2026-12-05); a fresh instance per request (spin-sdk 3) is unchanged
/// (1,479 and 1,469 req/s). Wasmtime's `PAGEMAP_SCAN` reset of dirty pages
/// only was slower still here (551 req/s for the spin-sdk 3 case).
pub const KEEP_RESIDENT: usize = 32 << 20;

/// The most elements one table of an instance may hold. CPython's function
/// table in a componentize-py component has ~5,650 entries; the limit stops a
/// guest that grows a table without end (`table.grow`) from taking host
/// memory, with or without the pooling allocator.
pub const MAX_TABLE_ELEMENTS: usize = 50_000;
/// The most core instances one component instance may create: a
/// componentize-py component links ~14 core modules.
pub const MAX_CORE_INSTANCES_PER_COMPONENT: usize = 64;
/// The most tables one component instance may hold (a handful per module).
pub const MAX_TABLES_PER_COMPONENT: usize = 64;
/// The most linear memories one component instance may hold (they share one).
pub const MAX_MEMORIES_PER_COMPONENT: usize = 4;

/// Engine settings chosen on the command line.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Most bytes of linear memory one instance may use.
    pub max_instance_memory: usize,
    /// Most bytes of linear memory all instances may use together (see
    /// [`crate::memory_budget`]).
    pub max_total_memory: usize,
    /// How long a new instance may wait for memory under
    /// `max_total_memory` (see [`crate::memory_budget`]).
    pub new_instance_memory_wait: Duration,
    /// How many instances may exist at once (the pooling allocator's size).
    pub max_concurrent_instances: u32,
    /// Use wasmtime's pooling allocator (falls back to on-demand when the
    /// address space cannot hold the pool).
    pub pooling: bool,
    /// Where compiled components and compiled functions are cached; `None`
    /// disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Compile with DWARF debug information for native debuggers (part of
    /// the engine's settings, so cached separately).
    pub debug_info: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            max_instance_memory: 512 << 20,
            max_total_memory: crate::memory_budget::default_limit(),
            new_instance_memory_wait: Duration::from_secs(10),
            max_concurrent_instances: 128,
            pooling: true,
            cache_dir: default_cache_dir(),
            debug_info: false,
        }
    }
}

/// The user's cache directory for compiled code (`~/.cache/spin/wasmtime`).
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("spin").join("wasmtime"))
}

/// A configured engine, plus the background thread that advances its epoch.
#[derive(Clone)]
pub struct RuntimeEngine {
    /// The wasmtime engine shared by every component and request.
    pub engine: Engine,
    /// The options it was built with.
    pub options: Arc<EngineOptions>,
    /// Cranelift's cache of compiled functions, when caching is on.
    pub(crate) function_cache: Option<Arc<FunctionCache>>,
    /// The epoch's ticks, readable (the engine's epoch is not).
    pub clock: TickClock,
    /// The linear memory every instance of this engine holds, against
    /// `max_total_memory`.
    pub memory: Arc<MemoryBudget>,
}

impl RuntimeEngine {
    /// Builds the engine. Tries the pooling allocator first and falls back to
    /// on-demand allocation with a warning if the pool cannot be reserved
    /// (e.g. under a small `ulimit -v`).
    pub fn new(mut options: EngineOptions) -> Result<Self> {
        if let Some(dir) = &options.cache_dir
            && let Err(err) = ensure_private_dir(dir)
        {
            tracing::warn!(
                "not caching compiled code: {err}\n\nhint: remove `{}` or give it to this user with mode 0700",
                dir.display()
            );
            options.cache_dir = None;
        }
        let function_cache = options.cache_dir.as_ref().map(|dir| {
            // Before the pack, each function was a file under `functions/`.
            let _ = std::fs::remove_dir_all(dir.join("functions"));
            Arc::new(FunctionCache::new(dir.join("functions.pack")))
        });
        let config = |pooling| Self::config(&options, pooling, function_cache.clone());
        let engine = if options.pooling {
            match Engine::new(&config(true)?) {
                Ok(engine) => engine,
                Err(err) => {
                    tracing::warn!(
                        "the pooling allocator is unavailable ({err:#}); instances will be allocated on demand"
                    );
                    Engine::new(&config(false)?)?
                }
            }
        } else {
            Engine::new(&config(false)?)?
        };
        let ticker = engine.weak();
        let clock = TickClock::default();
        let ticks = clock.clone();
        std::thread::Builder::new()
            .name("spin-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    ticks.advance();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .context("starting the epoch thread")?;
        Ok(Self {
            engine,
            memory: Arc::new(MemoryBudget::new(
                options.max_total_memory,
                options.new_instance_memory_wait,
            )),
            options: Arc::new(options),
            function_cache,
            clock,
        })
    }

    pub(crate) fn config(
        options: &EngineOptions,
        pooling: bool,
        function_cache: Option<Arc<FunctionCache>>,
    ) -> Result<Config> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.memory_init_cow(true);
        config.debug_info(options.debug_info);
        if let Some(cache) = function_cache {
            config.enable_incremental_compilation(cache)?;
        }
        if pooling {
            let mut pool = PoolingAllocationConfig::new();
            let instances = options.max_concurrent_instances;
            // A componentize-py component links ~14 core modules sharing one
            // memory, with a handful of tables each.
            pool.total_component_instances(instances)
                .total_core_instances(instances.saturating_mul(32))
                .total_memories(instances.saturating_mul(2))
                .total_tables(instances.saturating_mul(32))
                .total_stacks(instances)
                .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT as u32)
                .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT as u32)
                .max_tables_per_component(MAX_TABLES_PER_COMPONENT as u32)
                .max_memory_size(options.max_instance_memory)
                .table_elements(MAX_TABLE_ELEMENTS)
                // Keeping the first pages of each slot resident (and
                // resetting them with a copy instead of unmapping) removes
                // most copy-on-write page faults and their TLB shootdowns
                // between instances (see `KEEP_RESIDENT`).
                .linear_memory_keep_resident(KEEP_RESIDENT)
                .table_keep_resident(1 << 20)
                .max_unused_warm_slots(instances);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        Ok(config)
    }
}
