//! `[outbound_networking]`: the networks no outbound connection may reach
//! (checked by `spin-runtime`'s `capabilities/allow_list.rs` and by the
//! outbound HTTP client), the cap on the guests' own sockets and the cap on
//! connections of every kind together (see [`crate::connection_limits`]).

use crate::connection_limits::ConnectionLimits;
use crate::error::{ErrorKind, RuntimeConfigError};
use crate::table::Table;
use spin_outbound_networking::{BlockRule, BlockedNetworks, BlockedRange};

/// `[outbound_networking]`: `block_networks`, returned, and
/// `max_socket_connections` and `max_total_connections`, recorded in
/// `limits`.
pub(crate) fn parse_table(
    table: &Table,
    limits: &mut ConnectionLimits,
) -> Result<BlockedNetworks, RuntimeConfigError> {
    const KEYS: &[&str] = &[
        "block_networks",
        "max_socket_connections",
        "max_total_connections",
    ];
    table.check_keys(KEYS)?;
    limits.read(
        table,
        "max_socket_connections",
        Some(crate::connection_limits::Outbound::Socket),
    )?;
    limits.read(table, "max_total_connections", None)?;
    let Some((key, value)) = table.get("block_networks") else {
        return Ok(BlockedNetworks::default());
    };
    const EXPECTED: &str = "an array of CIDR blocks or \"private\"";
    let file = table.file;
    let rules = table
        .strings(key, value, EXPECTED)?
        .into_iter()
        .map(|(text, span)| {
            let range = BlockedRange::parse(&text).ok_or_else(|| {
                file.error(
                    span.clone(),
                    ErrorKind::InvalidBlockedNetwork { entry: text },
                )
            })?;
            Ok(BlockRule {
                range,
                origin: file.origin(&span),
            })
        })
        .collect::<Result<_, RuntimeConfigError>>()?;
    Ok(BlockedNetworks::new(rules))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::tests::{parse_err, parse_ok};

    #[test]
    fn outbound_networking_blocks_networks_with_their_origin() {
        let config = parse_ok(
            "state_dir = \"s\"\n[outbound_networking]\nblock_networks = [\n  \"127.0.0.0/8\",\n  \"private\",\n  \"8.8.8.8/16\",\n  \"::1\",\n]\n",
        );
        let rules = config.blocked_networks.rules();
        let shown: Vec<String> = rules.iter().map(|r| r.range.to_string()).collect();
        assert_eq!(shown, ["127.0.0.0/8", "private", "8.8.0.0/16", "::1/128"]);
        assert_eq!(rules[0].origin, "conf/rc.toml:4");
        assert_eq!(rules[3].origin, "conf/rc.toml:7");
        assert!(
            parse_ok("[outbound_networking]\n")
                .blocked_networks
                .is_empty()
        );
        assert!(
            parse_ok("[outbound_networking]\nblock_networks = []\n")
                .blocked_networks
                .is_empty()
        );
    }

    #[test]
    fn outbound_networking_mistakes_are_located() {
        let err = parse_err("[outbound_networking]\nblock_networks = [\"10.0.0.0/33\"]\n");
        assert_eq!(err.line(), Some(2));
        let text = err.to_string();
        assert!(
            text.starts_with("`10.0.0.0/33` is not a network to block"),
            "{text}"
        );
        assert!(text.contains("hint: write a CIDR block"), "{text}");
        let err = parse_err("[outbound_networking]\nblock_networks = \"private\"\n");
        assert!(err.to_string().contains("must be an array"), "{err}");
        let err = parse_err("[outbound_networking]\nblock_networks = [1]\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        // The key is `block_networks`, as in Spin.
        let err = parse_err("[outbound_networking]\nblocked_networks = [\"private\"]\n");
        assert!(
            matches!(err.kind(), ErrorKind::UnknownKey { key, .. } if key == "blocked_networks")
        );
        let err = parse_err("[outbound_networking]\nmax_socket_connections = -1\n");
        assert_eq!(err.line(), Some(2));
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
    }

    #[test]
    fn the_socket_cap_is_read_with_its_origin_and_checked_against_the_total() {
        use crate::connection_limits::Outbound;
        let config = parse_ok(
            "[outbound_networking]\nmax_total_connections = 4\nmax_socket_connections = 6\n",
        );
        let limits = &config.connection_limits;
        let socket = limits.of(Outbound::Socket).unwrap();
        assert_eq!((socket.max, socket.origin.as_str()), (6, "conf/rc.toml:3"));
        let shadowed = limits.shadowed();
        assert_eq!(shadowed.len(), 1, "{shadowed:?}");
        assert!(
            shadowed[0]
                .contains("`[outbound_networking] max_socket_connections` (6, at conf/rc.toml:3)"),
            "{shadowed:?}"
        );
    }
}
