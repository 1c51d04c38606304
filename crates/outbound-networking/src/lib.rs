//! The `allowed_outbound_hosts` allow list: which destinations a component
//! may reach.
//!
//! Entries follow Spin: `scheme://host[:port]`, where
//!
//! - the scheme may be `*` (any);
//! - the host is a domain, `*` (any), `*.example.com` (strict subdomains),
//!   an IP address, a CIDR block (`10.0.0.0/8`, `fd00::/8`), or `self` /
//!   `self.alt` (the application itself);
//! - the port is a number, `*`, a range `8000..9000` (end excluded, as in
//!   Spin), or omitted for the scheme's well-known port (http 80, https 443,
//!   redis 6379, mysql 3306, postgres 5432, mqtt 1883; other schemes must
//!   give one).
//!
//! `*://*:*` allows everything. Entries arrive with `{{ variable }}`
//! templates already resolved.
//!
//! Destinations are compared after normalization ([`OutboundTarget`]), so
//! `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/` and `http://127.0.0.1/` are
//! one address, and `http://allowed.com@evil.com/` is refused outright.
//!
//! As in Spin, an IP or CIDR entry allows IP-literal destinations only: a
//! name is allowed by a name entry, never by what it resolves to (so
//! `http://127.0.0.1:*` does not open `http://localhost:…`). Where resolved
//! addresses may go is the operator's decision, [`BlockedNetworks`]
//! (`[outbound_networking] block_networks`), checked on every address a
//! connection is made to.
//!
//! ```
//! use spin_outbound_networking::{AllowedHosts, OutboundTarget};
//!
//! let allowed = AllowedHosts::parse(&["https://*.example.com", "redis://10.0.0.0/8"]).unwrap();
//! assert!(allowed.allows(&OutboundTarget::parse_url("https://api.example.com/v1").unwrap()));
//! assert!(!allowed.allows(&OutboundTarget::parse_url("https://example.com/").unwrap()));
//! // A CIDR entry matches addresses, not names that resolve into it.
//! assert!(allowed.allows(&OutboundTarget::new("redis", "10.1.2.3", None).unwrap()));
//! assert!(!allowed.allows(&OutboundTarget::new("redis", "cache.internal", None).unwrap()));
//! ```

#![deny(missing_docs)]

mod blocked;
mod entry;
mod redact;
mod target;

use std::fmt;

pub use blocked::{BlockRule, BlockedNetworks, BlockedRange, is_private};
pub use entry::EntryProblem;
pub use redact::redact_url;
pub use target::{Host, OutboundTarget, SELF_ALT, TargetError};

use entry::Entry;
use target::well_known_port;

/// Spin 1's "allow any HTTP destination" entry, accepted for compatibility.
const INSECURE_ALLOW_ALL: &str = "insecure:allow-all";

/// A parsed allow list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

/// An entry of `allowed_outbound_hosts` that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AllowedHostError {
    /// Position of the entry in the list.
    pub index: usize,
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it.
    pub problem: EntryProblem,
    /// What to write instead, with a corrected example.
    pub hint: String,
}

impl fmt::Display for AllowedHostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid `allowed_outbound_hosts` entry {:?} (index {}): {}",
            self.entry, self.index, self.problem
        )
    }
}

/// The message with its hint kept apart, for the CLI to print last.
impl From<&AllowedHostError> for spin_hint::Hinted {
    fn from(error: &AllowedHostError) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint.clone())
    }
}

impl AllowedHosts {
    /// Parses `allowed_outbound_hosts`. Entries that are empty, `http://` or
    /// `https://` are skipped: they are what a template over an empty
    /// variable leaves behind, and Spin treats them as "no endpoint".
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowedHosts, AllowedHostError> {
        let mut parsed = Vec::with_capacity(entries.len());
        for (index, text) in entries.iter().map(AsRef::as_ref).enumerate() {
            if text.trim() == INSECURE_ALLOW_ALL {
                parsed.extend(Entry::insecure_allow_all());
                continue;
            }
            let entry = Entry::parse(text).map_err(|rejection| AllowedHostError {
                index,
                entry: text.to_owned(),
                problem: rejection.problem,
                hint: rejection.hint,
            })?;
            parsed.extend(entry);
        }
        Ok(Self { entries: parsed })
    }

    /// An empty list: nothing is allowed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether the list allows `target` as named, before any DNS lookup.
    /// Scheme, host and port must all be allowed by one entry. An IP or CIDR
    /// entry matches IP-literal targets only, as in Spin: a name that
    /// resolves into the range is not allowed by it.
    pub fn allows(&self, target: &OutboundTarget) -> bool {
        self.entries.iter().any(|e| e.allows(target))
    }

    /// Whether requests to the application itself (a relative URL or
    /// `self.alt`) are allowed with `scheme`: by a `self`/`self.alt` entry or
    /// an any-host (`*`) entry for that scheme.
    pub fn allows_self(&self, scheme: &str) -> bool {
        self.entries.iter().any(|e| e.allows_self(scheme))
    }

    /// The destinations the list names one by one, in list order: entries
    /// whose scheme, host and port are each a single value, with the
    /// scheme's well-known port filled in (`redis://cache` is
    /// `redis://cache:6379`). Wildcards, CIDR blocks, port ranges and `self`
    /// name no single destination and are left out. `spin doctor` connects
    /// to these to check that granted services answer.
    ///
    /// ```
    /// use spin_outbound_networking::AllowedHosts;
    ///
    /// let allowed = AllowedHosts::parse(&["redis://cache", "postgres://*:*", "mqtt://10.0.0.0/8"]).unwrap();
    /// let targets: Vec<String> = allowed.exact_targets().map(|t| t.to_string()).collect();
    /// assert_eq!(targets, ["redis://cache:6379"]);
    /// ```
    pub fn exact_targets(&self) -> impl Iterator<Item = OutboundTarget> + '_ {
        self.entries.iter().filter_map(Entry::exact_target)
    }

    /// Whether some entry may allow a destination of `scheme` given as an
    /// address (`tcp` for a WASI TCP socket, say): one whose scheme is
    /// `scheme` or `*` and whose host is `*`, an IP address or a CIDR block.
    /// An entry naming a domain cannot match an address.
    ///
    /// ```
    /// use spin_outbound_networking::AllowedHosts;
    ///
    /// let allowed = AllowedHosts::parse(&["tcp://10.0.0.0/8:5432", "https://example.com"]).unwrap();
    /// assert!(allowed.grants_addresses("tcp"));
    /// assert!(!allowed.grants_addresses("udp"));
    /// assert!(AllowedHosts::parse(&["*://*:*"]).unwrap().grants_addresses("udp"));
    /// // Domains, `self` and subdomain patterns never match an address.
    /// let named = AllowedHosts::parse(&["*://api.example.com:443", "*://*.example.com:*", "*://self:*"]).unwrap();
    /// assert!(!named.grants_addresses("tcp"));
    /// ```
    pub fn grants_addresses(&self, scheme: &str) -> bool {
        self.entries.iter().any(|e| e.may_match_address(scheme))
    }

    /// The hosts that entries of `scheme` name by domain (`localhost`,
    /// `*.example.com`). Socket destinations are addresses, so such entries
    /// never match one (as in Spin); `spin up` warns about them.
    ///
    /// ```
    /// use spin_outbound_networking::AllowedHosts;
    ///
    /// let allowed = AllowedHosts::parse(&["tcp://localhost:6379", "tcp://127.0.0.1:5432", "*://db:1"]).unwrap();
    /// assert_eq!(allowed.domains_for("tcp"), ["localhost"]);
    /// ```
    pub fn domains_for(&self, scheme: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| e.names_domains_for(scheme))
            .collect()
    }
}

/// The manifest line that would allow `target`, for "not allowed" messages:
/// `allowed_outbound_hosts = ["https://example.com:8443"]`, or with `v1`, for
/// HTTP(S), the Spin 1 form `allowed_http_hosts = ["example.com:8443"]`. The
/// port is left out when it is the scheme's default; a `self.alt` target
/// gives the `self` entry.
pub fn suggestion(target: &OutboundTarget, v1: bool) -> String {
    let host = if target.is_self() {
        "self".to_owned()
    } else {
        target.host.to_string()
    };
    let port = if well_known_port(&target.scheme) == Some(target.port) {
        String::new()
    } else {
        format!(":{}", target.port)
    };
    if v1 && matches!(target.scheme.as_str(), "http" | "https") {
        format!("allowed_http_hosts = [\"{host}{port}\"]")
    } else {
        format!(
            "allowed_outbound_hosts = [\"{}://{host}{port}\"]",
            target.scheme
        )
    }
}
