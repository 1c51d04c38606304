//! One store's limiter: the per-instance limits, and its share of the
//! [`MemoryBudget`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;
use wasmtime::{ResourceLimiter, ResourceLimiterAsync, Result, StoreLimits};

use super::{GROW_WAIT, MemoryBudget, mib};
use crate::app::ComponentConfig;

/// A new instance found no memory under `--max-total-memory` in time: its
/// instantiation fails with this, and the HTTP trigger answers `503`.
#[derive(Debug, Clone)]
pub struct NoMemoryForInstance {
    /// The component of the instance.
    pub component: String,
    /// The bytes it needed (0: not known).
    pub needed: usize,
    /// How long it waited.
    pub waited: Duration,
}

impl std::fmt::Display for NoMemoryForInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no memory for a new instance of component `{}`",
            self.component
        )?;
        if self.needed > 0 {
            write!(f, " (it needs {} MiB to start)", mib(self.needed))?;
        }
        write!(
            f,
            " under `--max-total-memory` after waiting {:?}",
            self.waited
        )
    }
}

impl std::error::Error for NoMemoryForInstance {}

impl NoMemoryForInstance {
    /// The refusal of an instance of `component` whose wait for memory and
    /// whose request's time ended together, the time seen first (so the
    /// limiter did not log it): logged here, answered 503 like any refusal.
    pub fn at_request_deadline(component: &str, waited: Duration) -> Self {
        let refused = Self {
            component: component.to_owned(),
            needed: 0,
            waited,
        };
        tracing::warn!(
            "{refused}, the end of its request's time\n\nhint: raise `spin up --max-total-memory`, or serve fewer requests at once (`--max-concurrent-requests`)"
        );
        refused
    }

    /// The refusal in `err`, if that is why it failed.
    pub fn in_error(err: &wasmtime::Error) -> Option<&Self> {
        err.chain().find_map(|cause| cause.downcast_ref::<Self>())
    }
}

/// One store's limits: the per-instance ones, and its share of the budget.
pub(crate) struct InstanceLimits {
    own: StoreLimits,
    budget: Arc<MemoryBudget>,
    /// The bytes this store has taken from the budget. A grow allowed here
    /// that then fails stays counted until the store is dropped: wasmtime
    /// also reports failures of grows it never asked about, so giving one
    /// back could give back a grow that took place.
    held: usize,
    /// Whether the instance is still being made (until
    /// [`InstanceLimits::instantiated`]): its memories then wait for the
    /// budget as long as a new instance may.
    instantiating: bool,
    /// Until when a new instance waits for memory (`None`: the budget's
    /// `new_instance_wait` from when it starts to).
    deadline: Option<Instant>,
    /// Whether a memory of the new instance waits for the budget now.
    waiting: bool,
    /// Whose instance this is, for the warning.
    component: Option<Arc<ComponentConfig>>,
    warned: bool,
}

impl InstanceLimits {
    pub(crate) fn new(
        own: StoreLimits,
        budget: Arc<MemoryBudget>,
        component: Option<Arc<ComponentConfig>>,
    ) -> Self {
        Self {
            own,
            budget,
            held: 0,
            instantiating: true,
            deadline: None,
            waiting: false,
            component,
            warned: false,
        }
    }

    /// Records that the instance is made: a grow from now on is a running
    /// instance's.
    pub(crate) fn instantiated(&mut self) {
        self.instantiating = false;
    }

    /// Makes the new instance wait for memory until `deadline` at most
    /// (a request's share of `--max-queue-wait` left after it waited for a
    /// slot).
    pub(crate) fn wait_for_memory_until(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// Whether the instance is being made and one of its memories waits for
    /// the budget: a request stopped now was turned away for want of memory.
    pub(crate) fn waiting_for_memory(&self) -> bool {
        self.instantiating && self.waiting
    }

    fn component(&self) -> &str {
        self.component
            .as_ref()
            .map_or("?", |config| config.id.as_str())
    }

    /// A running instance's grow was refused: logged once per instance.
    /// (These lines name the component in their text: a structured field
    /// would be printed after the hint.)
    fn refused(&mut self, more: usize) {
        if std::mem::replace(&mut self.warned, true) {
            return;
        }
        let component = self.component();
        tracing::warn!(
            "an instance of component `{component}` was refused {} MiB more memory: all instances together hold {} MiB of the {} MiB allowed for them, so its request fails\n\nhint: raise `spin up --max-total-memory` (by default the machine's or the container's memory less a quarter), or serve fewer requests at once (`--max-concurrent-requests`)",
            mib(more),
            mib(self.budget.used()),
            mib(self.budget.limit),
        );
    }

    /// A new instance found no memory.
    fn no_memory(&self, needed: usize, waited: Duration) -> NoMemoryForInstance {
        let component = self.component();
        let limit = self.budget.limit;
        // Logged once for a run of refusals.
        let first = !self.budget.refusing.swap(true, Ordering::Relaxed);
        if first && needed > limit {
            // No wait helps.
            tracing::warn!(
                "a new instance of component `{component}` needs {} MiB to start, more than the {} MiB allowed for all instances together, so its request fails (an HTTP request is answered 503)\n\nhint: raise `spin up --max-total-memory` well above {} MiB (an instance grows as it works; by default the cap is the machine's or the container's memory less a quarter)",
                mib(needed),
                mib(limit),
                mib(needed),
            );
        } else if first {
            tracing::warn!(
                "a new instance of component `{component}` found no memory within {waited:?}: it needs {} MiB to start, and all instances together hold {} MiB of the {} MiB allowed for them; such requests fail, an HTTP request with 503 (logged once until a new instance finds memory)\n\nhint: raise `spin up --max-total-memory` (by default the machine's or the container's memory less a quarter), or serve fewer requests at once (`--max-concurrent-requests`)",
                mib(needed),
                mib(self.budget.used()),
                mib(limit),
            );
        }
        NoMemoryForInstance {
            component: component.to_string(),
            needed,
            waited,
        }
    }
}

#[async_trait::async_trait]
impl ResourceLimiterAsync for InstanceLimits {
    async fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        if !self.own.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        let more = desired.saturating_sub(current);
        let new_instance = self.instantiating;
        let asked = Instant::now();
        let granted = if new_instance {
            let deadline = self.deadline.unwrap_or_else(|| {
                asked
                    .checked_add(self.budget.new_instance_wait)
                    .unwrap_or(asked + Duration::from_secs(86_400 * 365))
            });
            self.waiting = true;
            let granted = if self.held == 0 {
                self.budget.take_in_turn(more, deadline).await
            } else {
                // Let in already (its first memory): it must not queue
                // behind those that may wait for what it holds.
                let wait = deadline.saturating_duration_since(asked);
                self.budget.take_or_wait(more, wait).await
            };
            self.waiting = false;
            granted
        } else {
            self.budget.take_or_wait(more, GROW_WAIT).await
        };
        if !granted {
            if new_instance {
                let waited = asked.elapsed();
                return Err(wasmtime::Error::new(self.no_memory(more, waited)));
            }
            self.refused(more);
            return Ok(false);
        }
        if new_instance {
            self.budget.refusing.store(false, Ordering::Relaxed);
        }
        self.held += more;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.own.memory_grow_failed(error)
    }

    async fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        self.own.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.own.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.own.instances()
    }

    fn tables(&self) -> usize {
        self.own.tables()
    }

    fn memories(&self) -> usize {
        self.own.memories()
    }
}

impl Drop for InstanceLimits {
    fn drop(&mut self) {
        self.budget.give_back(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn limits(budget: &Arc<MemoryBudget>, own: usize) -> InstanceLimits {
        InstanceLimits::new(crate::app::store_limits(own), budget.clone(), None)
    }

    #[tokio::test]
    async fn instances_share_one_budget_and_give_it_back_when_dropped() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_millis(10)));
        let mut first = limits(&budget, 8 * MIB);
        let mut second = limits(&budget, 8 * MIB);
        assert!(first.memory_growing(0, 6 * MIB, None).await.unwrap());
        // Within its own limit, over what the budget has left: a new
        // instance fails to be made...
        let refused = second.memory_growing(0, 6 * MIB, None).await.unwrap_err();
        let refused = NoMemoryForInstance::in_error(&refused).expect("the refusal");
        assert_eq!(refused.needed, 6 * MIB);
        assert!(second.memory_growing(0, 4 * MIB, None).await.unwrap());
        // ...while a running one's grow just fails.
        first.instantiated();
        second.instantiated();
        assert!(!second.memory_growing(4 * MIB, 5 * MIB, None).await.unwrap());
        assert_eq!(budget.used(), 10 * MIB);
        // Over its own limit, whatever the budget has.
        drop(second);
        assert!(!first.memory_growing(6 * MIB, 9 * MIB, None).await.unwrap());
        // A failure wasmtime reports gives nothing back early: it may be of
        // a grow never asked about, after one that took place.
        assert!(first.memory_growing(6 * MIB, 7 * MIB, None).await.unwrap());
        first
            .memory_grow_failed(wasmtime::format_err!("no"))
            .unwrap();
        assert_eq!(budget.used(), 7 * MIB);
        drop(first);
        assert_eq!(budget.used(), 0);
    }

    #[tokio::test]
    async fn a_new_instance_waits_until_its_own_deadline() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(60)));
        let mut running = limits(&budget, 8 * MIB);
        assert!(running.memory_growing(0, 8 * MIB, None).await.unwrap());
        // A request's deadline, not the budget's minute.
        let mut new = limits(&budget, 8 * MIB);
        new.wait_for_memory_until(Instant::now() + Duration::from_millis(50));
        let started = Instant::now();
        let refused = new.memory_growing(0, 4 * MIB, None).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(NoMemoryForInstance::in_error(&refused).is_some());
        assert!(!new.waiting_for_memory());
        // Stopped while it waits (its request's time ran out): it says so.
        let mut stopped = limits(&budget, 8 * MIB);
        let wait = stopped.memory_growing(0, 4 * MIB, None);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), wait)
                .await
                .is_err()
        );
        assert!(stopped.waiting_for_memory());
        stopped.instantiated();
        assert!(!stopped.waiting_for_memory());
        drop(running);
        assert_eq!(budget.used(), 0);
    }

    #[tokio::test]
    async fn a_new_instance_waits_for_memory_given_back() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        let mut running = limits(&budget, 8 * MIB);
        assert!(running.memory_growing(0, 8 * MIB, None).await.unwrap());
        let ends = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(running);
        });
        let mut new = limits(&budget, 8 * MIB);
        assert!(new.memory_growing(0, 8 * MIB, None).await.unwrap());
        ends.await.unwrap();
        assert_eq!(budget.used(), 8 * MIB);
    }
}
