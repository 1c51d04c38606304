//! The allow list of database and broker connections (PostgreSQL, MySQL,
//! Redis, MQTT): whether a component may reach an address, checked against
//! its `allowed_outbound_hosts` and the runtime config's blocked networks
//! before any connection is opened. It needs only the component's grants,
//! never the instance.

use crate::app::ComponentConfig;
use spin_outbound_networking::{Host, OutboundTarget, TargetError, redact_url, suggestion};
use std::net::IpAddr;
use std::sync::Arc;

/// Why a component may not open a connection to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboundDenied {
    /// The address is not a `scheme://host[:port]` URL.
    InvalidAddress,
    /// The component's `allowed_outbound_hosts` does not list it.
    NotAllowed,
}

impl OutboundDenied {
    /// The refusal as the text of a guest-visible `connection-failed` error.
    pub(crate) fn reason(self, service: &Service, address: &str) -> String {
        match self {
            Self::InvalidAddress => {
                format!(
                    "`{}` is not a {}:// address",
                    redact_url(address),
                    service.schemes[0]
                )
            }
            Self::NotAllowed => {
                "the destination is not allowed by the component's allowed_outbound_hosts".into()
            }
        }
    }
}

/// A database or broker address that passed the allow list.
pub(crate) struct CheckedAddress {
    /// The full URL, for credentials, database name and options.
    pub url: url::Url,
    /// The host to connect to: exactly the one that was checked, so that no
    /// client library re-parses the URL differently (an address, once
    /// [`unblocked`] has pinned one).
    pub host: String,
    /// The host as the URL names it, for TLS to check the server's
    /// certificate against (it stays a name when `host` is pinned).
    pub name: String,
    /// The port, the scheme's well-known one when the URL gave none.
    pub port: u16,
}

impl CheckedAddress {
    /// The user name and password in the URL, percent-decoded.
    pub fn credentials(&self) -> (Option<String>, Option<String>) {
        let decode = |s: &str| percent_decode(s);
        let user = Some(self.url.username())
            .filter(|u| !u.is_empty())
            .map(decode);
        (user, self.url.password().map(decode))
    }

    /// The URL's path without its leading `/`, e.g. a database name.
    pub fn path_name(&self) -> Option<String> {
        Some(self.url.path().trim_start_matches('/'))
            .filter(|p| !p.is_empty())
            .map(percent_decode)
    }
}

/// `%XX` escapes decoded (a `+` stays a `+`: this is a URL, not a form).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A service reached through a connection URL, and the URL schemes that
/// name it: an allow-list entry for one protocol must not open another.
pub(crate) struct Service {
    /// The name used in logs.
    pub name: &'static str,
    /// The schemes accepted, the usual one first.
    pub schemes: &'static [&'static str],
}

pub(crate) const POSTGRES: Service = Service {
    name: "PostgreSQL",
    schemes: &["postgres", "postgresql"],
};
pub(crate) const MYSQL: Service = Service {
    name: "MySQL",
    schemes: &["mysql"],
};
/// `mqtts` (TLS) is not supported yet: refusing it keeps credentials from
/// crossing the network in clear.
pub(crate) const MQTT: Service = Service {
    name: "MQTT",
    schemes: &["mqtt"],
};
/// `rediss` is Redis over TLS.
pub(crate) const REDIS: Service = Service {
    name: "Redis",
    schemes: &["redis", "rediss"],
};

impl ComponentConfig {
    /// Checks a connection URL (`redis://…`, `postgres://user:pw@host/db`,
    /// `mqtt://…`) against the component's allowed hosts. A refusal is
    /// logged with the manifest line that would allow it, since the guest
    /// only sees an error code.
    pub(crate) fn connection_allowed(
        &self,
        service: &Service,
        address: &str,
    ) -> Result<CheckedAddress, OutboundDenied> {
        let target = OutboundTarget::parse_connection_url(address).map_err(|err| {
            // The other errors may quote the URL, credentials and all; a
            // scheme not the service's is reported as such below.
            if let TargetError::MissingPort { scheme, host } = &err
                && service.schemes.contains(&scheme.as_str())
            {
                tracing::error!(
                    "component `{}` asked for {}: {err}\n\nhint: write the port in the address (`{scheme}://{host}:<port>`), and the same in `allowed_outbound_hosts`",
                    self.id,
                    service.name,
                );
            }
            OutboundDenied::InvalidAddress
        })?;
        let url = url::Url::parse(address).map_err(|_| OutboundDenied::InvalidAddress)?;
        if !service.schemes.contains(&target.scheme.as_str()) {
            tracing::error!(
                "component `{}` asked for {} at `{}`, which is not a {} address",
                self.id,
                service.name,
                redact_password(&url),
                service
                    .schemes
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(" or "),
            );
            return Err(OutboundDenied::InvalidAddress);
        }
        if !self.allowed_hosts.allows(&target) {
            tracing::error!(
                "component `{}` is not allowed to connect to {} at `{}`\n\nhint: to allow it, add this to the component in `{}`:\n    {}",
                self.id,
                service.name,
                redact_password(&url),
                self.manifest_path.display(),
                suggestion(&target, false),
            );
            return Err(OutboundDenied::NotAllowed);
        }
        let host = match &target.host {
            Host::Domain(domain) => domain.clone(),
            Host::Ip(ip) => ip.to_string(),
        };
        Ok(CheckedAddress {
            url,
            name: host.clone(),
            host,
            port: target.port,
        })
    }
}

/// Why an address was refused before any connection.
pub(crate) enum AddressRefused {
    /// Not an address of the service, or not in the allow list.
    Denied(OutboundDenied),
    /// In a network the runtime config blocks: the guest-visible reason.
    Blocked(String),
}

/// The allow-list check and the blocked-networks check of a connection
/// from `component` to `service` at `address`, in that order, as every
/// database and broker client needs them.
pub(crate) async fn checked_address(
    component: &Arc<ComponentConfig>,
    service: &Service,
    address: &str,
) -> Result<CheckedAddress, AddressRefused> {
    let mut checked = component
        .connection_allowed(service, address)
        .map_err(AddressRefused::Denied)?;
    unblocked(component.clone(), service, &mut checked)
        .await
        .map_err(AddressRefused::Blocked)?;
    Ok(checked)
}

/// With `[outbound_networking] block_networks` configured, resolves a
/// checked address's host and points it at the first address outside the
/// blocked networks, so the client connects to the address that was
/// checked. When every address is blocked, logs the component, host,
/// address and rule, and returns the guest-visible reason. (A free function
/// holding its own `Arc`: a `&HostState` may not be held across an await.)
pub(crate) async fn unblocked(
    component: Arc<ComponentConfig>,
    service: &Service,
    checked: &mut CheckedAddress,
) -> Result<(), String> {
    let blocked = component.services.blocked_networks();
    if blocked.is_empty() {
        return Ok(());
    }
    let addrs: Vec<IpAddr> = match checked.host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((checked.host.as_str(), checked.port))
            .await
            .map_err(|e| format!("cannot resolve `{}`: {e}", checked.host))?
            .map(|a| a.ip())
            .collect(),
    };
    if let Some(addr) = addrs.iter().find(|a| blocked.blocking(**a).is_none()) {
        checked.host = addr.to_string();
        return Ok(());
    }
    let Some((addr, rule)) = addrs
        .first()
        .and_then(|a| blocked.blocking(*a).map(|rule| (a, rule)))
    else {
        return Err(format!("`{}` has no address", checked.host));
    };
    tracing::error!(
        "component `{}` may not connect to {} at `{}`: {}:{} is {addr}, which is blocked by {rule}\n\nhint: the runtime config file forbids this address; use a server outside the blocked networks, or change the rule",
        component.id,
        service.name,
        redact_password(&checked.url),
        checked.host,
        checked.port,
    );
    Err(format!(
        "{}:{} is {addr}, in a network the runtime configuration blocks",
        checked.host, checked.port
    ))
}

/// `url` with any password replaced, for logs.
pub(crate) fn redact_password(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}
