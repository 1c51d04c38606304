//! `[outbound_http]`: the outbound HTTP client's connections (Spin's keys):
//! whether idle ones are kept for reuse, and how many may be open at once
//! for the whole application (recorded with the other caps, in
//! [`crate::connection_limits`]). The outbound HTTP capability
//! (`spin-runtime`'s `capabilities/outbound_http`) applies them.

use crate::connection_limits::{ConnectionLimits, Limit, Outbound};
use crate::error::{ErrorKind, RuntimeConfigError};
use crate::table::Table;

/// What `[outbound_http]` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundHttpConfig {
    /// Keep idle upstream connections for the next request
    /// (`connection_pooling`, default `true`).
    pub connection_pooling: bool,
    /// Where the deprecated `max_concurrent_requests` was used, if it was
    /// (`spin up` warns, as Spin does).
    pub deprecated_key: Option<String>,
}

impl Default for OutboundHttpConfig {
    fn default() -> Self {
        Self {
            connection_pooling: true,
            deprecated_key: None,
        }
    }
}

/// `[outbound_http]`; `max_connections` is recorded in `limits`. Spin's
/// deprecated `max_concurrent_requests = n` allows `n + 1` connections, as
/// it does in Spin.
pub(crate) fn parse_table(
    table: &Table,
    limits: &mut ConnectionLimits,
) -> Result<OutboundHttpConfig, RuntimeConfigError> {
    const KEYS: &[&str] = &[
        "connection_pooling",
        "max_connections",
        "max_concurrent_requests",
    ];
    table.check_keys(KEYS)?;
    let mut config = OutboundHttpConfig::default();
    if let Some(pooling) = table.boolean("connection_pooling")? {
        config.connection_pooling = pooling;
    }
    let current = table.get("max_connections");
    let deprecated = table.get("max_concurrent_requests");
    if let (Some(_), Some((key, _))) = (current, deprecated) {
        return Err(table.file.error(
            key.span(),
            ErrorKind::ConflictingKeys {
                table: table.name.clone(),
                kept: "max_connections",
                dropped: "max_concurrent_requests",
            },
        ));
    }
    limits.read(table, "max_connections", Some(Outbound::Http))?;
    if let Some((key, value)) = deprecated {
        let origin = table.file.origin(&key.span());
        let max = table.count(key, value)?.saturating_add(1);
        limits.set(
            Some(Outbound::Http),
            Limit {
                max,
                origin: origin.clone(),
            },
        );
        config.deprecated_key = Some(origin);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::tests::{parse_err, parse_ok};

    #[test]
    fn spin_s_keys_and_defaults() {
        assert_eq!(parse_ok("").outbound_http, OutboundHttpConfig::default());
        let max = |text| {
            parse_ok(text)
                .connection_limits
                .of(Outbound::Http)
                .map(|l| l.max)
        };
        // Pooling stays on unless turned off (Spin's documented default).
        let config = parse_ok("[outbound_http]\nmax_connections = 10\n");
        assert_eq!(max("[outbound_http]\nmax_connections = 10\n"), Some(10));
        assert!(config.outbound_http.connection_pooling);
        let config = parse_ok("[outbound_http]\nconnection_pooling = false\n").outbound_http;
        assert!(!config.connection_pooling);
        assert_eq!(max("[outbound_http]\nmax_connections = 0\n"), Some(0));
        // The old key allowed one more than it said.
        assert_eq!(
            max("[outbound_http]\nmax_concurrent_requests = 0\n"),
            Some(1)
        );
        let old = parse_ok("[outbound_http]\nmax_concurrent_requests = 0\n").outbound_http;
        assert_eq!(old.deprecated_key.as_deref(), Some("conf/rc.toml:2"));
    }

    #[test]
    fn mistakes_are_located() {
        let err = parse_err("[outbound_http]\nmax_connections = 4\nmax_concurrent_requests = 4\n");
        assert_eq!(err.line(), Some(3));
        assert!(
            err.to_string().contains("use `max_connections` only"),
            "{err}"
        );
        let err = parse_err("[outbound_http]\nmax_connections = -1\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        let err = parse_err("[outbound_http]\nconnection_pooling = \"yes\"\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        let err = parse_err("[outbound_http]\nmax_connection = 4\n");
        assert!(err.to_string().contains("`max_connections`"), "{err}");
    }
}
