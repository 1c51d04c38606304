//! One cap on the linear memory of every instance the server holds at once.
//!
//! `--max-instance-memory` bounds one instance, but not how many of them
//! grow at once: 128 request slots of 512 MiB each could ask for 64 GiB, and
//! the kernel's OOM killer would stop the whole server for the one client
//! that sent those requests. So every store's limiter takes what its
//! memories grow by from one shared budget, and gives it back when the
//! store is dropped. A grow the budget cannot cover fails the way a grow
//! over the per-instance limit does: `memory.grow` returns -1, CPython
//! raises `MemoryError`, and that request fails while the others go on.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmtime::{ResourceLimiter, Result, StoreLimits};

use crate::app::ComponentConfig;

/// The linear memory all instances hold, against its cap.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, none of it used.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// The bytes all instances hold now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if the budget has them.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&after| after <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// The default cap: three quarters of the memory the machine has for this
/// process (its cgroup's `memory.max` where that is lower than the RAM),
/// which leaves the rest to the host itself and to everything else; at
/// least `at_least` (one instance's limit). 16 GiB when neither can be read.
pub fn default_limit(at_least: usize) -> usize {
    let machine = physical_memory().unwrap_or(16 << 30);
    let memory = cgroup_memory_max().map_or(machine, |cgroup| cgroup.min(machine));
    (memory / 4 * 3).max(at_least)
}

fn physical_memory() -> Option<usize> {
    // SAFETY: `sysinfo` only writes the struct it is given.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        return None;
    }
    usize::try_from(info.totalram)
        .ok()?
        .checked_mul(info.mem_unit as usize)
}

/// cgroup v2's limit on this process's memory (`max`: none).
fn cgroup_memory_max() -> Option<usize> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
    let max = std::fs::read_to_string(format!("/sys/fs/cgroup{path}/memory.max")).ok()?;
    max.trim().parse().ok()
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
            component,
            warned: false,
        }
    }

    fn refused(&mut self, more: usize) {
        if std::mem::replace(&mut self.warned, true) {
            return;
        }
        let component = self
            .component
            .as_ref()
            .map_or("?", |config| config.id.as_str());
        tracing::warn!(
            component,
            "an instance of component `{component}` was refused {} MiB more memory: all instances together hold {} MiB of the {} MiB allowed for them, so its request fails\n\nhint: raise `spin up --max-total-memory`, or serve fewer requests at once (`--max-concurrent-requests`)",
            mib(more),
            mib(self.budget.used()),
            mib(self.budget.limit),
        );
    }
}

fn mib(bytes: usize) -> usize {
    bytes.div_ceil(1 << 20)
}

impl ResourceLimiter for InstanceLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        if !self.own.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        let more = desired.saturating_sub(current);
        if !self.budget.take(more) {
            self.refused(more);
            return Ok(false);
        }
        self.held += more;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.own.memory_grow_failed(error)
    }

    fn table_growing(
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

    fn limits(budget: &Arc<MemoryBudget>, own: usize) -> InstanceLimits {
        InstanceLimits::new(crate::app::store_limits(own), budget.clone(), None)
    }

    #[test]
    fn instances_share_one_budget_and_give_it_back_when_dropped() {
        const MIB: usize = 1 << 20;
        let budget = Arc::new(MemoryBudget::new(10 * MIB));
        let mut first = limits(&budget, 8 * MIB);
        let mut second = limits(&budget, 8 * MIB);
        assert!(first.memory_growing(0, 6 * MIB, None).unwrap());
        // Within its own limit, over what the budget has left.
        assert!(!second.memory_growing(0, 6 * MIB, None).unwrap());
        assert!(second.memory_growing(0, 4 * MIB, None).unwrap());
        assert_eq!(budget.used(), 10 * MIB);
        // Over its own limit, whatever the budget has.
        drop(second);
        assert!(!first.memory_growing(6 * MIB, 9 * MIB, None).unwrap());
        // A failure wasmtime reports gives nothing back early: it may be of
        // a grow never asked about, after one that took place.
        assert!(first.memory_growing(6 * MIB, 7 * MIB, None).unwrap());
        first
            .memory_grow_failed(wasmtime::format_err!("no"))
            .unwrap();
        assert_eq!(budget.used(), 7 * MIB);
        drop(first);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn the_default_leaves_a_quarter_of_the_machine_and_fits_one_instance() {
        let machine = physical_memory().unwrap();
        assert!(default_limit(1 << 20) <= machine / 4 * 3);
        assert_eq!(default_limit(usize::MAX), usize::MAX);
    }
}
