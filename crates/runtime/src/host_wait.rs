//! Whether an instance is stopped in a host call, and since when.
//!
//! A guest that makes a *synchronous* call to a host function that waits —
//! a Spin 2.0 interface, `wasi:keyvalue`, the PostgreSQL 4.2 builder's
//! `build`, or WASI's `poll` under Python's `time.sleep` — holds its whole
//! store until the call returns: none of the instance's other requests
//! run, and it takes no new ones. The HTTP trigger caps how many instances
//! of a `wasi:http@0.3` component live at once, to bound CPU-bound load;
//! an instance stopped like this uses no CPU, and counting it against the
//! cap would queue requests behind a sleep. [`HostWait::watch`] installs a
//! call hook that records when the guest entered the host, and an epoch
//! callback that tells a time-slice yield (which also happens inside the
//! host, and is the CPU-bound case) from a wait.
//!
//! The hook runs on every host call, so it reads the engine's
//! [`TickClock`] (one atomic load) rather than the system clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use wasmtime::{CallHook, Store, UpdateDeadline};

use crate::engine::{EPOCH_TICK, TICKS_PER_SLICE};

/// A count of the engine's epoch ticks ([`EPOCH_TICK`] apart), advanced by
/// the thread that advances the epoch.
#[derive(Clone, Debug, Default)]
pub struct TickClock(Arc<AtomicU64>);

impl TickClock {
    /// Ticks so far.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// One more tick.
    pub(crate) fn advance(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// What one instance's guest is doing, as far as waiting in the host goes.
#[derive(Debug)]
pub struct HostWait {
    clock: TickClock,
    /// The tick at which the guest entered the host, plus one; 0 while the
    /// guest runs.
    entered: AtomicU64,
    /// Whether the host call under way is the guest yielding its time slice.
    yielding: AtomicBool,
}

impl HostWait {
    /// A guest that has not started.
    pub fn new(clock: &TickClock) -> Arc<HostWait> {
        Arc::new(HostWait {
            clock: clock.clone(),
            entered: AtomicU64::new(0),
            yielding: AtomicBool::new(false),
        })
    }

    /// Watches `store`'s guest. This replaces the store's epoch deadline
    /// behaviour with the same one (yield every [`TICKS_PER_SLICE`]), marked.
    pub fn watch<T: 'static>(self: &Arc<Self>, store: &mut Store<T>) {
        let wait = self;
        let hook = wait.clone();
        // Host calls nest (a host function may call the guest's allocator,
        // which may grow memory): only the outermost one counts.
        let mut depth = 0u32;
        store.call_hook(move |_, transition| {
            match transition {
                CallHook::CallingHost => {
                    if depth == 0 {
                        hook.entered.store(hook.clock.now() + 1, Ordering::Relaxed);
                    }
                    depth += 1;
                }
                CallHook::ReturningFromHost => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        hook.entered.store(0, Ordering::Relaxed);
                        hook.yielding.store(false, Ordering::Relaxed);
                    }
                }
                CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
            }
            Ok(())
        });
        let slice = wait.clone();
        store.set_epoch_deadline(TICKS_PER_SLICE);
        store.epoch_deadline_callback(move |_| {
            slice.yielding.store(true, Ordering::Relaxed);
            Ok(UpdateDeadline::Yield(TICKS_PER_SLICE))
        });
    }

    /// How long the guest has waited in its current host call (to within a
    /// tick), or `None` while it runs or yields its time slice.
    pub fn waiting_for(&self) -> Option<Duration> {
        let entered = self.entered.load(Ordering::Relaxed);
        if entered == 0 || self.yielding.load(Ordering::Relaxed) {
            return None;
        }
        let ticks = (self.clock.now() + 1).saturating_sub(entered);
        Some(EPOCH_TICK * u32::try_from(ticks).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Config, Engine, Func, Instance, Module};

    /// A store whose guest calls the host function `wait`, which runs
    /// `during` while the guest is inside it.
    fn call_with(during: impl Fn(&HostWait) + Send + Sync + 'static) -> Arc<HostWait> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(
            &engine,
            r#"(module (import "host" "wait" (func $wait)) (func (export "run") call $wait))"#,
        )
        .unwrap();
        let clock = TickClock::default();
        let mut store = Store::new(&engine, None::<Arc<HostWait>>);
        let wait = HostWait::new(&clock);
        wait.watch(&mut store);
        *store.data_mut() = Some(wait.clone());
        let host = Func::wrap(
            &mut store,
            move |caller: wasmtime::Caller<'_, Option<Arc<HostWait>>>| {
                let wait = caller.data().clone().unwrap();
                during(&wait);
            },
        );
        let instance = Instance::new(&mut store, &module, &[host.into()]).unwrap();
        let run = instance
            .get_typed_func::<(), ()>(&mut store, "run")
            .unwrap();
        assert_eq!(wait.waiting_for(), None, "not in the host before the call");
        run.call(&mut store, ()).unwrap();
        assert_eq!(wait.waiting_for(), None, "not in the host after the call");
        wait
    }

    #[test]
    fn a_guest_inside_a_host_call_is_waiting_and_the_wait_grows_with_the_clock() {
        call_with(|wait| {
            assert_eq!(wait.waiting_for(), Some(Duration::ZERO));
            for _ in 0..5 {
                wait.clock.advance();
            }
            assert_eq!(wait.waiting_for(), Some(EPOCH_TICK * 5));
        });
    }

    #[test]
    fn a_guest_yielding_its_time_slice_is_in_the_host_but_not_waiting() {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).unwrap();
        let module =
            Module::new(&engine, r#"(module (func (export "spin") (loop br 0)))"#).unwrap();
        let clock = TickClock::default();
        let mut store = Store::new(&engine, ());
        let wait = HostWait::new(&clock);
        wait.watch(&mut store);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let instance = Instance::new_async(&mut store, &module, &[]).await.unwrap();
            let spin = instance
                .get_typed_func::<(), ()>(&mut store, "spin")
                .unwrap();
            // Past its deadline at once: the loop's first check yields.
            for _ in 0..TICKS_PER_SLICE {
                engine.increment_epoch();
            }
            let mut call = Box::pin(spin.call_async(&mut store, ()));
            let polled =
                std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx))).await;
            assert!(polled.is_pending(), "the guest yielded");
            assert_ne!(
                wait.entered.load(Ordering::Relaxed),
                0,
                "it yields inside the host"
            );
            assert_eq!(wait.waiting_for(), None, "a yield is not a wait");
        });
    }
}
