//! `[outbound_mqtt]`: the largest message a component may publish
//! (`max_payload_size_bytes`, as in Spin; no limit by default) and the cap
//! on MQTT connections (`max_connections`, recorded with the other caps in
//! [`crate::connection_limits`]). `spin-runtime`'s `capabilities/mqtt`
//! applies them.

use crate::connection_limits::{ConnectionLimits, Outbound};
use crate::error::RuntimeConfigError;
use crate::table::Table;

/// What `[outbound_mqtt]` says besides its cap on connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundMqttConfig {
    /// The most bytes one published message may carry (`None`: no limit
    /// but the host's own, 16 MiB).
    pub max_payload_size_bytes: Option<usize>,
}

/// `[outbound_mqtt]`; `max_connections` is recorded in `limits`.
pub(crate) fn parse_table(
    table: &Table,
    limits: &mut ConnectionLimits,
) -> Result<OutboundMqttConfig, RuntimeConfigError> {
    table.check_keys(&["max_connections", "max_payload_size_bytes"])?;
    limits.read(table, "max_connections", Some(Outbound::Mqtt))?;
    let max_payload_size_bytes = match table.get("max_payload_size_bytes") {
        Some((key, value)) => Some(table.size(key, value)?),
        None => None,
    };
    Ok(OutboundMqttConfig {
        max_payload_size_bytes,
    })
}

#[cfg(test)]
mod tests {
    use crate::parse::tests::{parse_err, parse_ok};
    use crate::{ErrorKind, Outbound};

    #[test]
    fn spin_s_keys_are_read() {
        let config =
            parse_ok("[outbound_mqtt]\nmax_payload_size_bytes = 65536\nmax_connections = 3\n");
        assert_eq!(config.outbound_mqtt.max_payload_size_bytes, Some(65536));
        assert_eq!(
            config.connection_limits.of(Outbound::Mqtt).map(|l| l.max),
            Some(3)
        );
        assert_eq!(
            parse_ok("[outbound_mqtt]\n")
                .outbound_mqtt
                .max_payload_size_bytes,
            None
        );
        let err = parse_err("[outbound_mqtt]\nmax_payload_size_bytes = \"big\"\n");
        assert_eq!(err.line(), Some(2));
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
    }
}
