//! Spin's caps on outbound connections: `max_connections` in
//! `[outbound_http]`, `[outbound_redis]`, `[outbound_pg]`,
//! `[outbound_mysql]` and `[outbound_mqtt]` (one kind of connection each),
//! `[outbound_networking] max_socket_connections` (the guest's own WASI
//! sockets) and `[outbound_networking] max_total_connections` (every kind
//! together, sockets included). `spin-runtime`'s
//! `capabilities/connection_quota.rs` enforces them.

use std::collections::BTreeMap;

use crate::error::RuntimeConfigError;
use crate::table::Table;

/// A kind of outbound connection, each with its own optional cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outbound {
    /// The outbound HTTP client's upstream connections, idle pooled ones
    /// included.
    Http,
    /// Guest Redis connections.
    Redis,
    /// Guest PostgreSQL connections.
    Postgres,
    /// Guest MySQL connections.
    Mysql,
    /// Guest MQTT connections.
    Mqtt,
    /// The guest's own TCP and UDP sockets (`wasi:sockets`).
    Socket,
}

impl Outbound {
    /// The runtime config setting that caps this kind, as
    /// `[table] key`.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Http => "[outbound_http] max_connections",
            Self::Redis => "[outbound_redis] max_connections",
            Self::Postgres => "[outbound_pg] max_connections",
            Self::Mysql => "[outbound_mysql] max_connections",
            Self::Mqtt => "[outbound_mqtt] max_connections",
            Self::Socket => "[outbound_networking] max_socket_connections",
        }
    }

    /// What the connections are, for messages ("Redis connections").
    pub fn noun(self) -> &'static str {
        match self {
            Self::Http => "outbound HTTP",
            Self::Redis => "Redis",
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MySQL",
            Self::Mqtt => "MQTT",
            Self::Socket => "socket",
        }
    }

    /// The kind `[outbound_<name>]` caps, for the three tables that hold
    /// nothing but `max_connections` (Redis, PostgreSQL, MySQL).
    pub(crate) fn of_table(name: &str) -> Option<Self> {
        Some(match name {
            "outbound_redis" => Self::Redis,
            "outbound_pg" => Self::Postgres,
            "outbound_mysql" => Self::Mysql,
            _ => return None,
        })
    }
}

/// One cap, with where it was set (`rc.toml:3`), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// The most connections open at once; `0` refuses every one.
    pub max: usize,
    /// `<file>:<line>` of the setting.
    pub origin: String,
}

/// Every cap the runtime config sets. None is set by default: Spin has no
/// default caps either.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `[outbound_networking] max_total_connections`: every kind together.
    pub total: Option<Limit>,
    /// Each kind's own cap.
    pub per_kind: BTreeMap<Outbound, Limit>,
}

impl ConnectionLimits {
    /// The cap on `kind` alone.
    pub fn of(&self, kind: Outbound) -> Option<&Limit> {
        self.per_kind.get(&kind)
    }

    /// True when no cap is set.
    pub fn is_empty(&self) -> bool {
        self.total.is_none() && self.per_kind.is_empty()
    }

    /// Caps that can never be reached because the total is lower, worth a
    /// warning (Spin warns too): each message names both settings.
    pub fn shadowed(&self) -> Vec<String> {
        let Some(total) = &self.total else {
            return Vec::new();
        };
        self.per_kind
            .iter()
            .filter(|(_, limit)| limit.max > total.max)
            .map(|(kind, limit)| {
                format!(
                    "`{}` ({}, at {}) is higher than `[outbound_networking] max_total_connections` ({}, at {}), so the total is the cap that applies",
                    kind.setting(),
                    limit.max,
                    limit.origin,
                    total.max,
                    total.origin
                )
            })
            .collect()
    }

    /// Records `key = <count>` of `table` as the cap `kind` (or the total).
    pub(crate) fn read(
        &mut self,
        table: &Table,
        key: &str,
        kind: Option<Outbound>,
    ) -> Result<(), RuntimeConfigError> {
        let Some((key, value)) = table.get(key) else {
            return Ok(());
        };
        let limit = Limit {
            max: table.count(key, value)?,
            origin: table.file.origin(&key.span()),
        };
        self.set(kind, limit);
        Ok(())
    }

    /// Sets the cap of `kind`, or the total for `None`.
    pub(crate) fn set(&mut self, kind: Option<Outbound>, limit: Limit) {
        match kind {
            Some(kind) => {
                self.per_kind.insert(kind, limit);
            }
            None => self.total = Some(limit),
        }
    }
}

/// `[outbound_redis]`, `[outbound_pg]` or `[outbound_mysql]`:
/// `max_connections`, the only key Spin reads there.
pub(crate) fn parse_table(
    table: &Table,
    kind: Outbound,
    limits: &mut ConnectionLimits,
) -> Result<(), RuntimeConfigError> {
    table.check_keys(&["max_connections"])?;
    limits.read(table, "max_connections", Some(kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::parse::tests::{parse_err, parse_ok};

    #[test]
    fn each_kind_and_the_total_are_read_with_their_origin() {
        let config = parse_ok(
            "[outbound_redis]\nmax_connections = 2\n[outbound_pg]\nmax_connections = 3\n[outbound_mysql]\nmax_connections = 0\n[outbound_mqtt]\nmax_connections = 5\n[outbound_http]\nmax_connections = 6\n[outbound_networking]\nmax_total_connections = 4\n",
        );
        let limits = &config.connection_limits;
        let max = |kind| limits.of(kind).map(|l| l.max);
        assert_eq!(max(Outbound::Redis), Some(2));
        assert_eq!(max(Outbound::Postgres), Some(3));
        assert_eq!(max(Outbound::Mysql), Some(0));
        assert_eq!(max(Outbound::Mqtt), Some(5));
        assert_eq!(max(Outbound::Http), Some(6));
        let total = limits.total.as_ref().unwrap();
        assert_eq!((total.max, total.origin.as_str()), (4, "conf/rc.toml:12"));
        assert_eq!(limits.of(Outbound::Redis).unwrap().origin, "conf/rc.toml:2");
        // Caps above the total are pointed out, naming both lines.
        let shadowed = limits.shadowed();
        assert_eq!(shadowed.len(), 2, "{shadowed:?}");
        assert!(shadowed[0].contains("[outbound_http] max_connections` (6, at conf/rc.toml:10)"));
        assert!(shadowed[1].contains("[outbound_mqtt] max_connections` (5, at conf/rc.toml:8)"));
        assert!(
            shadowed[1].contains("(4, at conf/rc.toml:12)"),
            "{shadowed:?}"
        );
        // Nothing set, nothing capped.
        let none = parse_ok("[outbound_redis]\n");
        assert!(none.connection_limits.is_empty());
        assert!(none.connection_limits.shadowed().is_empty());
    }

    #[test]
    fn mistakes_are_located() {
        let err = parse_err("[outbound_pg]\nmax_connections = -1\n");
        assert_eq!(err.line(), Some(2));
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        let err = parse_err("[outbound_redis]\nmax_connection = 1\n");
        assert!(err.to_string().contains("`max_connections`"), "{err}");
        let err = parse_err("[outbound_networking]\nmax_total_connections = \"10\"\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        let err = parse_err("outbound_mqtt = 3\n");
        assert!(err.to_string().contains("must be a table"), "{err}");
    }
}
