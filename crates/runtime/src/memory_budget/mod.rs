//! One cap on the linear memory of every instance the server holds at once.
//!
//! `--max-instance-memory` bounds one instance, but not how many of them
//! grow at once: 128 request slots of 512 MiB each could ask for 64 GiB, and
//! the kernel's OOM killer would stop the whole server for the one client
//! that sent those requests. So every store's limiter takes what its
//! memories grow by from one shared budget, and gives it back when the
//! store is dropped ([`InstanceLimits`]).
//!
//! When the budget runs short, memory is first asked back from instances
//! that hold it while idle (kept for reuse), and a store that needs more
//! waits for what others give back:
//! - a new instance waits up to its deadline (by default the budget's
//!   `new_instance_wait`, `--max-queue-wait`): it holds little yet, and a
//!   burst of requests is served as memory comes back instead of failing.
//!   New instances are let in in the order they came ([`Turns`]): once one
//!   waits, a later one queues behind it even when what it needs is free.
//!   Past the wait its instantiation fails with [`NoMemoryForInstance`], which the
//!   HTTP trigger answers `503` with `Retry-After`;
//! - a running instance waits [`GROW_WAIT`] at most: it holds memory while
//!   it waits, so instances that all wait on each other must not wait long.
//!   Past it, `memory.grow` returns -1, CPython raises `MemoryError`, and
//!   that request fails while the others go on.

mod cgroup;
mod instance_limits;

pub(crate) use instance_limits::InstanceLimits;
pub use instance_limits::NoMemoryForInstance;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The longest a running instance waits for memory to grow by.
pub const GROW_WAIT: Duration = Duration::from_millis(200);

/// The linear memory all instances hold, against its cap.
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    /// How long a new instance may wait for memory.
    new_instance_wait: Duration,
    /// Woken whenever memory is given back (running instances' grows wait
    /// on it).
    freed: Notify,
    /// New instances waiting for memory, in the order they came.
    turns: Mutex<Turns>,
    /// How many stores wait for memory now.
    waiting: AtomicUsize,
    /// Woken when a store starts to wait: idle instances then go.
    wanted: Notify,
    /// Pools of idle instances, which give them up on request.
    idle_pools: Mutex<Vec<Weak<dyn IdleInstances>>>,
    /// Whether a new instance was refused since one was last let in (the
    /// refusal is logged once for a run of them).
    refusing: AtomicBool,
}

impl std::fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit)
            .field("used", &self.used())
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Somewhere idle instances are kept for reuse, holding their memory.
pub trait IdleInstances: Send + Sync {
    /// Drops every idle instance kept, giving its memory back.
    fn release(&self);
}

impl MemoryBudget {
    /// A budget of `limit` bytes, none of it used, where a new instance
    /// waits up to `new_instance_wait` for memory.
    pub fn new(limit: usize, new_instance_wait: Duration) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            new_instance_wait,
            freed: Notify::new(),
            turns: Mutex::default(),
            waiting: AtomicUsize::new(0),
            wanted: Notify::new(),
            idle_pools: Mutex::default(),
            refusing: AtomicBool::new(false),
        }
    }

    /// The bytes all instances hold now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether a store waits for memory now: an idle instance should go.
    pub fn is_wanted(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) > 0
    }

    /// Asks `pool` for its idle instances whenever a store waits for memory.
    pub fn add_idle_pool(&self, pool: Weak<dyn IdleInstances>) {
        self.idle_pools.lock().expect("idle pools lock").push(pool);
    }

    /// Takes `bytes` if the budget has them.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&after| after <= self.limit)
            })
            .is_ok()
    }

    /// Takes `bytes`, waiting up to `wait` for others to give them back;
    /// whether they were taken.
    async fn take_or_wait(&self, bytes: usize, wait: Duration) -> bool {
        if self.take(bytes) {
            return true;
        }
        // No wait makes room for more than the whole cap.
        if wait.is_zero() || bytes > self.limit {
            return false;
        }
        let deadline = Instant::now() + wait;
        let _waiting = Waiting::start(self);
        self.release_idle();
        loop {
            // Registered before the budget is read, so that memory given
            // back in between still wakes this wait.
            let freed = self.freed.notified();
            let mut freed = std::pin::pin!(freed);
            freed.as_mut().enable();
            if self.take(bytes) {
                return true;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return self.take(bytes);
            }
        }
    }

    /// Takes `bytes` for a new instance, in its turn: at once if no other
    /// new instance waits, else after those that came before it, waiting
    /// until `deadline` at most; whether they were taken.
    async fn take_in_turn(&self, bytes: usize, deadline: Instant) -> bool {
        if bytes == 0 {
            return true;
        }
        let turn = {
            let mut turns = self.turns.lock().expect("turns lock");
            if turns.queue.is_empty() && self.take(bytes) {
                return true;
            }
            // No wait makes room for more than the whole cap.
            if bytes > self.limit {
                return false;
            }
            if Instant::now() >= deadline {
                // No time to wait, but idle instances go at once.
                let first = turns.queue.is_empty();
                drop(turns);
                self.release_idle();
                return first && self.take(bytes);
            }
            turns.push(bytes)
        };
        let _waiting = Waiting::start(self);
        // Gone from the queue however this ends (a request dropped while it
        // waits included); memory granted too late goes back.
        let mut queued = Queued { budget: self, turn };
        self.release_idle();
        // Memory may have come back before the turn was queued.
        self.serve_turns();
        tokio::select! {
            () = queued.turn.granted.notified() => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
        queued.keep()
    }

    /// Lets in the waiting new instances, first come first, while the
    /// first one's memory is free.
    fn serve_turns(&self) {
        let mut turns = self.turns.lock().expect("turns lock");
        while let Some(first) = turns.queue.front() {
            if !self.take(first.bytes) {
                break;
            }
            first.given.store(true, Ordering::Relaxed);
            first.granted.notify_one();
            turns.queue.pop_front();
        }
    }

    /// Drops the idle instances of every pool at once (those of
    /// `wasi:http@0.3` components go when their workers see
    /// [`MemoryWanted`]).
    fn release_idle(&self) {
        let pools: Vec<_> = {
            let mut pools = self.idle_pools.lock().expect("idle pools lock");
            pools.retain(|pool| pool.strong_count() > 0);
            pools.iter().filter_map(Weak::upgrade).collect()
        };
        for pool in pools {
            pool.release();
        }
    }

    fn give_back(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        self.used.fetch_sub(bytes, Ordering::Relaxed);
        self.serve_turns();
        self.freed.notify_waiters();
    }
}

/// The new instances waiting for memory, first come first.
#[derive(Default)]
struct Turns {
    queue: VecDeque<Arc<Turn>>,
}

impl Turns {
    fn push(&mut self, bytes: usize) -> Arc<Turn> {
        let turn = Arc::new(Turn {
            bytes,
            given: AtomicBool::new(false),
            granted: Notify::new(),
        });
        self.queue.push_back(turn.clone());
        turn
    }
}

/// One new instance's place in [`Turns`].
struct Turn {
    bytes: usize,
    /// Set (under the turns' lock) when its memory was taken for it.
    given: AtomicBool,
    /// Told once `given` is set.
    granted: Notify,
}

/// A [`Turn`] in the queue: taken out when dropped, its memory given back
/// if it was granted and not kept.
struct Queued<'a> {
    budget: &'a MemoryBudget,
    turn: Arc<Turn>,
}

impl Queued<'_> {
    /// Whether the memory was granted; the caller keeps it if so.
    fn keep(&mut self) -> bool {
        let mut turns = self.budget.turns.lock().expect("turns lock");
        turns.queue.retain(|t| !Arc::ptr_eq(t, &self.turn));
        // Swapped under the lock, so a drop after this gives nothing back.
        self.turn.given.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if self.keep() {
            self.budget.give_back(self.turn.bytes);
        } else {
            // It may have kept those behind it waiting: they may fit now.
            self.budget.serve_turns();
        }
    }
}

/// A store counted as waiting for memory while this lives (the wait may be
/// dropped with its request).
struct Waiting<'a>(&'a MemoryBudget);

impl<'a> Waiting<'a> {
    fn start(budget: &'a MemoryBudget) -> Self {
        budget.waiting.fetch_add(1, Ordering::Relaxed);
        budget.wanted.notify_waiters();
        Self(budget)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Tells an idle instance that a store waits for memory, so that it goes
/// and gives its memory back.
pub struct MemoryWanted {
    budget: Arc<MemoryBudget>,
    notified: Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
}

impl MemoryWanted {
    /// A watch on `budget`.
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        let notified = Self::arm(&budget);
        Self { budget, notified }
    }

    fn arm(budget: &Arc<MemoryBudget>) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        let budget = budget.clone();
        Box::pin(async move { budget.wanted.notified().await })
    }

    /// Ready while a store waits for memory; otherwise wakes `cx` when one
    /// starts to.
    pub fn poll_wanted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // Registered before the count is read, so that a store starting to
        // wait in between still wakes this one. A wake-up is only a cue to
        // look: the count says whether memory is still wanted.
        // A new wait may be told at once (by a store that starts to wait
        // in between): re-armed until one is left waiting, never polled
        // again once done.
        while self.notified.as_mut().poll(cx).is_ready() {
            self.notified = Self::arm(&self.budget);
        }
        if self.budget.is_wanted() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The default cap: the memory the machine has for this process (its
/// cgroup's limit where that is lower than the RAM) less what the server
/// keeps for itself, a quarter of it and at least 128 MiB (its own code, the
/// compiled components, connections), though never more than three
/// quarters; 16 GiB of memory is assumed when neither can be read. It may
/// be below `--max-instance-memory`: in a container of 256 MiB, one instance
/// growing to 512 MiB would bring in the kernel's OOM killer all the same.
pub fn default_limit() -> usize {
    let machine = physical_memory().unwrap_or(16 << 30);
    let memory = cgroup::memory_limit().map_or(machine, |cgroup| cgroup.min(machine));
    memory - server_reserve(memory)
}

/// The default cap on SQLite's memory (`spin up --max-sqlite-memory`): an
/// eighth of the memory the machine has for this process (its cgroup's
/// limit when lower), at least 32 MiB, at most 1 GiB: part of what the
/// server keeps for itself beside the instances' budget.
pub fn default_sqlite_limit() -> usize {
    let machine = physical_memory().unwrap_or(16 << 30);
    let memory = cgroup::memory_limit().map_or(machine, |cgroup| cgroup.min(machine));
    sqlite_share(memory)
}

fn sqlite_share(memory: usize) -> usize {
    (memory / 8).clamp(32 << 20, 1 << 30)
}

/// What the server keeps for itself out of `memory`.
fn server_reserve(memory: usize) -> usize {
    (memory / 4).max(128 << 20).min(memory / 4 * 3)
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

fn mib(bytes: usize) -> usize {
    bytes.div_ceil(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[tokio::test]
    async fn a_wait_ends_when_memory_is_given_back() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        assert!(budget.take_or_wait(8 * MIB, Duration::ZERO).await);
        let giver = {
            let budget = budget.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                budget.give_back(8 * MIB);
            })
        };
        let started = Instant::now();
        assert!(budget.take_or_wait(4 * MIB, Duration::from_secs(5)).await);
        assert!(started.elapsed() < Duration::from_secs(5));
        giver.await.unwrap();
        assert_eq!(budget.used(), 4 * MIB);
        assert!(!budget.is_wanted());
    }

    #[tokio::test]
    async fn a_wait_gives_up_at_its_end() {
        let budget = MemoryBudget::new(10 * MIB, Duration::from_secs(5));
        assert!(budget.take_or_wait(8 * MIB, Duration::ZERO).await);
        assert!(
            !budget
                .take_or_wait(4 * MIB, Duration::from_millis(20))
                .await
        );
        assert!(!budget.take_or_wait(4 * MIB, Duration::ZERO).await);
        assert_eq!(budget.used(), 8 * MIB);
        assert!(!budget.is_wanted());
    }

    #[tokio::test]
    async fn new_instances_are_let_in_in_the_order_they_came() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        assert!(budget.take(8 * MIB));
        let deadline = Instant::now() + Duration::from_secs(5);
        let order = Arc::new(Mutex::new(Vec::new()));
        let wait = |name: &'static str, bytes: usize| {
            let (budget, order) = (budget.clone(), order.clone());
            tokio::spawn(async move {
                let granted = budget.take_in_turn(bytes, deadline).await;
                order.lock().unwrap().push(name);
                granted
            })
        };
        let first = wait("first", 4 * MIB);
        tokio::task::yield_now().await;
        let second = wait("second", 4 * MIB);
        tokio::task::yield_now().await;
        // 2 MiB are free, all this one needs: it still waits its turn.
        let third = wait("third", 2 * MIB);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(order.lock().unwrap().is_empty());
        assert_eq!(budget.used(), 8 * MIB);
        // 6 MiB free: the first comes in; the second does not fit, and the
        // third stays behind it.
        budget.give_back(4 * MIB);
        assert!(first.await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(*order.lock().unwrap(), ["first"]);
        assert_eq!(budget.used(), 8 * MIB);
        budget.give_back(4 * MIB);
        assert!(second.await.unwrap());
        assert!(third.await.unwrap());
        assert_eq!(*order.lock().unwrap(), ["first", "second", "third"]);
        assert_eq!(budget.used(), 10 * MIB);
        assert!(budget.turns.lock().unwrap().queue.is_empty());
    }

    #[tokio::test]
    async fn a_turn_given_up_leaves_the_queue_and_its_memory() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        assert!(budget.take(8 * MIB));
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!budget.take_in_turn(4 * MIB, soon).await);
        // Dropped while it waits (its request went away).
        let dropped = {
            let budget = budget.clone();
            tokio::spawn(async move {
                budget
                    .take_in_turn(4 * MIB, Instant::now() + Duration::from_secs(5))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        dropped.abort();
        let _ = dropped.await;
        assert!(budget.turns.lock().unwrap().queue.is_empty());
        assert!(!budget.is_wanted());
        budget.give_back(8 * MIB);
        assert_eq!(budget.used(), 0);
        // With no one waiting, a new instance takes what is free at once.
        assert!(budget.take_in_turn(10 * MIB, Instant::now()).await);
    }

    #[tokio::test]
    async fn those_behind_a_turn_given_up_are_let_in() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        assert!(budget.take(8 * MIB));
        let first = {
            let budget = budget.clone();
            tokio::spawn(async move {
                let soon = Instant::now() + Duration::from_millis(30);
                budget.take_in_turn(4 * MIB, soon).await
            })
        };
        tokio::task::yield_now().await;
        // Fits in what is free, but waits behind the first...
        let second = {
            let budget = budget.clone();
            tokio::spawn(async move {
                let later = Instant::now() + Duration::from_secs(5);
                budget.take_in_turn(2 * MIB, later).await
            })
        };
        // ...until the first gives up: no memory came back meanwhile.
        assert!(!first.await.unwrap());
        assert!(second.await.unwrap());
        assert_eq!(budget.used(), 10 * MIB);
    }

    #[tokio::test]
    async fn memory_granted_to_a_turn_dropped_goes_back() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        assert!(budget.take(8 * MIB));
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move {
                let later = Instant::now() + Duration::from_secs(5);
                budget.take_in_turn(4 * MIB, later).await
            })
        };
        while budget.turns.lock().unwrap().queue.is_empty() {
            tokio::task::yield_now().await;
        }
        // Granted at once, and dropped before the waiter runs again.
        budget.give_back(4 * MIB);
        assert_eq!(budget.used(), 8 * MIB);
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(budget.used(), 4 * MIB);
        assert!(budget.turns.lock().unwrap().queue.is_empty());
    }

    /// A pool holding one idle instance's memory.
    struct Pool {
        budget: Arc<MemoryBudget>,
        held: Mutex<usize>,
    }

    impl IdleInstances for Pool {
        fn release(&self) {
            let held = std::mem::take(&mut *self.held.lock().unwrap());
            self.budget.give_back(held);
        }
    }

    #[tokio::test]
    async fn idle_pools_are_asked_for_their_instances_first() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        assert!(budget.take_or_wait(8 * MIB, Duration::ZERO).await);
        let pool = Arc::new(Pool {
            budget: budget.clone(),
            held: Mutex::new(8 * MIB),
        });
        budget.add_idle_pool(Arc::downgrade(&pool) as Weak<dyn IdleInstances>);
        let started = Instant::now();
        assert!(budget.take_or_wait(4 * MIB, Duration::from_secs(5)).await);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(budget.used(), 4 * MIB);
    }

    #[tokio::test]
    async fn an_idle_instance_hears_that_memory_is_wanted() {
        let budget = Arc::new(MemoryBudget::new(10 * MIB, Duration::from_secs(5)));
        let mut wanted = MemoryWanted::new(budget.clone());
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(wanted.poll_wanted(&mut cx).is_pending());
        assert!(budget.take_or_wait(8 * MIB, Duration::ZERO).await);
        // The idle instance goes, and gives its memory back.
        let idle = {
            let budget = budget.clone();
            tokio::spawn(async move {
                std::future::poll_fn(|cx| wanted.poll_wanted(cx)).await;
                budget.give_back(8 * MIB);
            })
        };
        assert!(budget.take_or_wait(4 * MIB, Duration::from_secs(5)).await);
        idle.await.unwrap();
        assert_eq!(budget.used(), 4 * MIB);
    }

    #[test]
    fn the_server_keeps_a_quarter_and_at_least_128_mib() {
        assert_eq!(server_reserve(24 << 30), 6 << 30);
        assert_eq!(server_reserve(1 << 30), 256 * MIB);
        assert_eq!(server_reserve(256 * MIB), 128 * MIB);
        // Never all of it.
        assert_eq!(server_reserve(128 * MIB), 96 * MIB);
    }

    #[test]
    fn sqlite_gets_an_eighth_between_32_mib_and_1_gib() {
        assert_eq!(sqlite_share(24 << 30), 1 << 30);
        assert_eq!(sqlite_share(1 << 30), 128 * MIB);
        assert_eq!(sqlite_share(128 * MIB), 32 * MIB);
    }

    #[test]
    fn the_default_leaves_a_quarter_of_the_machine() {
        let machine = physical_memory().unwrap();
        assert!(default_limit() <= machine / 4 * 3);
        assert!(default_limit() > 0);
    }
}
