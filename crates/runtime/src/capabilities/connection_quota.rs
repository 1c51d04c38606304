//! The application's outbound connection caps (the runtime config's
//! `max_connections` of each `[outbound_*]` table and `[outbound_networking]
//! max_total_connections`, as in Spin; see `spin-runtime-config`'s
//! `connection_limits`).
//!
//! A connection takes a permit of its kind's cap and one of the total as it
//! is made, and gives both back when the guest closes it (or its instance
//! ends); an outbound HTTP connection keeps its permits while it sits idle in
//! the pool. A connection past a cap waits for a permit, up to `spin up
//! --outbound-connection-wait`, then fails (`too-many-connections`,
//! `connection-limit-reached`, or a connection failure that says so). The
//! kind's permit is taken first, so no total permit is held while waiting
//! behind connections of the same kind.
//!
//! A guest's own socket (`[outbound_networking] max_socket_connections`)
//! never waits: past a cap it fails at once, as in Spin, because a guest
//! that holds sockets while it waits for another could wait for itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::runtime_config::connection_limits::{ConnectionLimits, Limit, Outbound};

/// How long a connection waits for a permit unless `spin up` says otherwise.
pub const DEFAULT_CONNECTION_WAIT: Duration = Duration::from_secs(30);

/// One cap's permits.
struct Permits {
    semaphore: Arc<Semaphore>,
    limit: Limit,
    /// The kind capped, or `None` for the total.
    kind: Option<Outbound>,
    /// Whether a wait was logged since a permit was last free at once.
    waiting: AtomicBool,
    /// Whether a refusal was logged since a permit was last free at once.
    refused: AtomicBool,
}

impl Permits {
    fn new(limit: &Limit, kind: Option<Outbound>) -> Arc<Self> {
        // Beyond what a semaphore holds, no cap is reached anyway.
        let permits = limit.max.min(Semaphore::MAX_PERMITS);
        Arc::new(Self {
            semaphore: Arc::new(Semaphore::new(permits)),
            limit: limit.clone(),
            kind,
            waiting: AtomicBool::new(false),
            refused: AtomicBool::new(false),
        })
    }

    fn reached(&self, wait: Duration) -> QuotaReached {
        QuotaReached {
            first: !self.refused.swap(true, Ordering::Relaxed),
            kind: self.kind,
            limit: self.limit.clone(),
            wait,
        }
    }

    /// A permit if one is free now.
    fn try_acquire(&self) -> Result<OwnedSemaphorePermit, QuotaReached> {
        match self.semaphore.clone().try_acquire_owned() {
            Ok(permit) => {
                self.refused.store(false, Ordering::Relaxed);
                Ok(permit)
            }
            Err(_) => Err(self.reached(Duration::ZERO)),
        }
    }

    /// A permit, waiting until `deadline` (`wait` after the connection
    /// began waiting) at the latest.
    async fn acquire(
        &self,
        wait: Duration,
        deadline: tokio::time::Instant,
    ) -> Result<OwnedSemaphorePermit, QuotaReached> {
        if let Ok(permit) = self.semaphore.clone().try_acquire_owned() {
            self.waiting.store(false, Ordering::Relaxed);
            self.refused.store(false, Ordering::Relaxed);
            return Ok(permit);
        }
        if self.limit.max == 0 {
            return Err(self.reached(wait));
        }
        if !self.waiting.swap(true, Ordering::Relaxed) {
            let (setting, noun) = describe(self.kind);
            tracing::warn!(
                "the application's {noun} connections are at the runtime config's `{setting}` ({}, at {}); new ones wait up to {wait:?} for one to close (logged once until one is free at once)\n\nhint: {}",
                self.limit.max,
                self.limit.origin,
                hint(self.kind)
            );
        }
        tokio::time::timeout_at(deadline, self.semaphore.clone().acquire_owned())
            .await
            .map_err(|_| self.reached(wait))?
            .map_err(|_| self.reached(wait))
    }
}

/// The setting and the noun for a cap of `kind` (`None`: the total).
fn describe(kind: Option<Outbound>) -> (&'static str, &'static str) {
    match kind {
        Some(kind) => (kind.setting(), kind.noun()),
        None => ("[outbound_networking] max_total_connections", "outbound"),
    }
}

/// What to do when the cap of `kind` (`None`: the total) is reached.
fn hint(kind: Option<Outbound>) -> &'static str {
    match kind {
        Some(Outbound::Http) => {
            "raise `[outbound_http] max_connections`; idle pooled connections count too, and `connection_pooling = false` closes them at once"
        }
        Some(Outbound::Socket) => {
            "raise `[outbound_networking] max_socket_connections`, or have the component close sockets sooner (each open socket holds a permit until it is closed or its instance ends)"
        }
        Some(_) => {
            "raise the cap, or have the component close connections sooner (each open connection holds a permit until it is closed or its request ends)"
        }
        None => {
            "raise `[outbound_networking] max_total_connections`; it counts every kind together, idle pooled outbound HTTP connections included"
        }
    }
}

/// Logs `reached` for `component` if it is the first refusal since a
/// permit was last free at once.
fn log_refusal(component: &str, reached: &QuotaReached) {
    if reached.first {
        tracing::warn!(
            "component `{component}`: {reached} (logged once until a permit is free at once again)\n\nhint: {}",
            reached.hint()
        );
    }
}

/// No permit came in time (or the cap is 0).
#[derive(Debug)]
pub struct QuotaReached {
    /// The first refusal since a permit was last free at once (the one
    /// worth a log line).
    first: bool,
    /// The kind capped, or `None` for the total.
    kind: Option<Outbound>,
    limit: Limit,
    wait: Duration,
}

impl QuotaReached {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        hint(self.kind)
    }
}

impl std::fmt::Display for QuotaReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (setting, noun) = describe(self.kind);
        let Limit { max, origin } = &self.limit;
        match max {
            0 => write!(
                f,
                "too many connections: the runtime config's `{setting}` (at {origin}) is 0, so no {noun} connection may be made"
            ),
            max if self.wait.is_zero() => write!(
                f,
                "too many connections: the application already has {max} {noun} connections open, the runtime config's `{setting}` (at {origin})"
            ),
            max => write!(
                f,
                "too many connections: the application already has {max} {noun} connections open, the runtime config's `{setting}` (at {origin}), and none closed within {:?}",
                self.wait
            ),
        }
    }
}

impl std::error::Error for QuotaReached {}

/// A connection's permits, given back when it is dropped. Without caps it
/// holds nothing.
#[derive(Debug, Default)]
pub struct ConnectionPermit {
    _own: Option<OwnedSemaphorePermit>,
    _total: Option<OwnedSemaphorePermit>,
}

/// The application's caps, one per kind and the total.
pub struct ConnectionQuotas {
    per_kind: HashMap<Outbound, Arc<Permits>>,
    total: Option<Arc<Permits>>,
    wait: Duration,
}

impl Default for ConnectionQuotas {
    fn default() -> Self {
        Self::new(&ConnectionLimits::default(), DEFAULT_CONNECTION_WAIT)
    }
}

impl ConnectionQuotas {
    /// The caps of `limits`; a connection waits up to `wait` for a permit.
    pub fn new(limits: &ConnectionLimits, wait: Duration) -> Self {
        Self {
            per_kind: limits
                .per_kind
                .iter()
                .map(|(kind, limit)| (*kind, Permits::new(limit, Some(*kind))))
                .collect(),
            total: limits.total.as_ref().map(|limit| Permits::new(limit, None)),
            wait,
        }
    }

    /// How long a connection waits for a permit.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// The most connections of `kind` that may be open at once (the lower
    /// of its own cap and the total), if any cap applies.
    pub fn cap(&self, kind: Outbound) -> Option<usize> {
        let own = self.per_kind.get(&kind).map(|p| p.limit.max);
        let total = self.total.as_ref().map(|p| p.limit.max);
        match (own, total) {
            (Some(own), Some(total)) => Some(own.min(total)),
            (own, total) => own.or(total),
        }
    }

    /// [`Self::acquire`] for a connection of the guest `component`, whose
    /// refusal is logged with its hint (the guest sees only an error code).
    pub async fn acquire_for(
        &self,
        component: &str,
        kind: Outbound,
    ) -> Result<ConnectionPermit, QuotaReached> {
        self.acquire(kind)
            .await
            .inspect_err(|r| log_refusal(component, r))
    }

    /// The permits for one new connection of `kind` if they are free now,
    /// without waiting (a guest's own socket); a refusal is logged as by
    /// [`Self::acquire_for`].
    pub fn try_acquire_for(
        &self,
        component: &str,
        kind: Outbound,
    ) -> Result<ConnectionPermit, QuotaReached> {
        let own = self
            .per_kind
            .get(&kind)
            .map(|permits| permits.try_acquire())
            .transpose();
        let total = || self.total.as_ref().map(|p| p.try_acquire()).transpose();
        let permit = own.and_then(|own| {
            Ok(ConnectionPermit {
                _own: own,
                _total: total()?,
            })
        });
        permit.inspect_err(|r| log_refusal(component, r))
    }

    /// The permits for one new connection of `kind`: its kind's first, then
    /// the total's, both within one wait.
    pub async fn acquire(&self, kind: Outbound) -> Result<ConnectionPermit, QuotaReached> {
        if self.total.is_none() && !self.per_kind.contains_key(&kind) {
            return Ok(ConnectionPermit::default());
        }
        let now = tokio::time::Instant::now();
        // A wait too long for the clock is a wait of a year.
        let deadline = now
            .checked_add(self.wait)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        let own = match self.per_kind.get(&kind) {
            Some(permits) => Some(permits.acquire(self.wait, deadline).await?),
            None => None,
        };
        let total = match &self.total {
            Some(permits) => Some(permits.acquire(self.wait, deadline).await?),
            None => None,
        };
        Ok(ConnectionPermit {
            _own: own,
            _total: total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_kind: &[(Outbound, usize)], total: Option<usize>) -> ConnectionLimits {
        let limit = |max| Limit {
            max,
            origin: "rc.toml:2".into(),
        };
        ConnectionLimits {
            total: total.map(limit),
            per_kind: per_kind.iter().map(|(k, max)| (*k, limit(*max))).collect(),
        }
    }

    #[tokio::test]
    async fn permits_are_waited_for_and_refused_past_the_wait() {
        let quotas = Arc::new(ConnectionQuotas::new(
            &limits(&[(Outbound::Redis, 1)], None),
            Duration::from_millis(50),
        ));
        let first = quotas.acquire(Outbound::Redis).await.unwrap();
        let err = quotas.acquire(Outbound::Redis).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("already has 1 Redis connections open, the runtime config's `[outbound_redis] max_connections` (at rc.toml:2)"),
            "{text}"
        );
        // Other kinds are not capped by it.
        assert!(quotas.acquire(Outbound::Postgres).await.is_ok());
        // A permit given back lets the next connection in.
        let waiting = {
            let quotas = quotas.clone();
            tokio::spawn(async move { quotas.acquire(Outbound::Redis).await.is_ok() })
        };
        // It waits...
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished());
        drop(first);
        assert!(waiting.await.unwrap());
    }

    #[tokio::test]
    async fn the_total_counts_every_kind_and_is_taken_after_the_kind_s_own() {
        let quotas = ConnectionQuotas::new(
            &limits(&[(Outbound::Mqtt, 1)], Some(2)),
            Duration::from_millis(20),
        );
        assert_eq!(quotas.cap(Outbound::Http), Some(2));
        assert_eq!(quotas.cap(Outbound::Mqtt), Some(1));
        let _redis = quotas.acquire(Outbound::Redis).await.unwrap();
        let mqtt = quotas.acquire(Outbound::Mqtt).await.unwrap();
        let err = quotas.acquire(Outbound::Postgres).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("2 outbound connections open, the runtime config's `[outbound_networking] max_total_connections`"),
            "{err}"
        );
        assert!(err.hint().contains("max_total_connections"));
        // Waiting behind its own kind's cap, a connection holds no permit of
        // the total: the PostgreSQL connection gets the one MQTT gives back.
        let err = quotas.acquire(Outbound::Mqtt).await.unwrap_err();
        assert!(err.to_string().contains("[outbound_mqtt]"), "{err}");
        drop(mqtt);
        assert!(quotas.acquire(Outbound::Postgres).await.is_ok());
    }

    #[tokio::test]
    async fn a_cap_of_zero_refuses_at_once_and_a_huge_one_is_no_cap() {
        let quotas = ConnectionQuotas::new(
            &limits(&[(Outbound::Mysql, 0), (Outbound::Http, usize::MAX)], None),
            Duration::from_secs(60),
        );
        let started = tokio::time::Instant::now();
        let err = quotas.acquire(Outbound::Mysql).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(
            err.to_string()
                .contains("is 0, so no MySQL connection may be made"),
            "{err}"
        );
        // A cap past what a semaphore can hold (a hostile runtime config)
        // is no cap, not a panic.
        assert!(quotas.acquire(Outbound::Http).await.is_ok());
        // Without caps, nothing is held.
        let free = ConnectionQuotas::default();
        let socket = free.try_acquire_for("c", Outbound::Socket).unwrap();
        assert!(socket._own.is_none() && socket._total.is_none());
        assert_eq!(free.cap(Outbound::Redis), None);
        let permit = free.acquire(Outbound::Redis).await.unwrap();
        assert!(permit._own.is_none() && permit._total.is_none());
    }

    #[test]
    fn sockets_take_their_own_permit_and_the_total_s_without_waiting() {
        let quotas = ConnectionQuotas::new(
            &limits(&[(Outbound::Socket, 2)], Some(3)),
            Duration::from_secs(3600),
        );
        let first = quotas.try_acquire_for("c", Outbound::Socket).unwrap();
        let _second = quotas.try_acquire_for("c", Outbound::Socket).unwrap();
        // The socket cap refuses at once, whatever the wait.
        let err = quotas.try_acquire_for("c", Outbound::Socket).unwrap_err();
        let text = err.to_string();
        assert!(
            text.ends_with("already has 2 socket connections open, the runtime config's `[outbound_networking] max_socket_connections` (at rc.toml:2)"),
            "{text}"
        );
        assert!(err.hint().contains("max_socket_connections"));
        // A socket given back lets the next one in.
        drop(first);
        let _third = quotas.try_acquire_for("c", Outbound::Socket).unwrap();

        // The total counts sockets with the other kinds; refused by it, a
        // socket keeps no permit of its own kind.
        let quotas = ConnectionQuotas::new(
            &limits(&[(Outbound::Socket, 2)], Some(2)),
            Duration::from_secs(3600),
        );
        let _redis = quotas.try_acquire_for("c", Outbound::Redis).unwrap();
        let _socket = quotas.try_acquire_for("c", Outbound::Socket).unwrap();
        let err = quotas.try_acquire_for("c", Outbound::Socket).unwrap_err();
        assert!(err.to_string().contains("max_total_connections"), "{err}");
        let own = &quotas.per_kind[&Outbound::Socket].semaphore;
        assert_eq!(own.available_permits(), 1);
    }
}
