//! The services an app is granted (`allowed_outbound_hosts` entries for
//! Redis, PostgreSQL, MySQL and MQTT), triggered by (Redis triggers) or
//! configured with (Redis key-value stores, the model service of
//! `[llm_compute]`) answer a TCP connection. Only
//! reachability is checked: no handshake, no credentials.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use spin_manifest::{App, Component, Location};
use spin_outbound_networking::{AllowedHosts, Host, OutboundTarget};
use spin_runtime::capabilities::variables::ApplicationVariables;
use spin_runtime::runtime_config::{KeyValueBackend, LlmCompute, RuntimeConfig};

use super::report::Finding;
use super::sources::file_name;

/// How long a service may take to accept a connection (name lookup
/// included) before it counts as not answering.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A service the app will connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Where it is, with the scheme's default port filled in.
    pub target: OutboundTarget,
    /// Who uses it: ``component `cache` at spin.toml:12``.
    pub users: Vec<String>,
    /// How to correct the address, if it is the wrong one.
    pub fix: String,
}

/// The services an app uses, each once, in the order first seen.
#[derive(Debug, Default)]
pub struct Services(Vec<Service>);

impl Services {
    fn add(&mut self, target: OutboundTarget, user: String, fix: String) {
        match self.0.iter_mut().find(|s| s.target == target) {
            Some(service) => service.users.push(user),
            None => self.0.push(Service {
                target,
                users: vec![user],
                fix,
            }),
        }
    }

    /// A component's grants. Entries naming a variable are expanded with
    /// `variables` (the values `spin up` would use); an entry that cannot
    /// be expanded is not checked, and an entry that does not parse is a
    /// problem, as it stops `spin up`.
    pub fn add_grants(
        &mut self,
        app: &App,
        component: &Component,
        variables: Option<&ApplicationVariables>,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        for entry in &component.allowed_outbound_hosts {
            let at = location(app, entry.location);
            let user = format!("component `{}` at {at}", component.id);
            let text = match expand(&entry.value, variables) {
                Some(text) => text,
                None => {
                    if is_service_entry(&entry.value) {
                        findings.push(Finding::skipped(
                            format!("service `{}`", entry.value),
                            format!("{user}: a variable in it has no value here; not checked"),
                        ));
                    }
                    continue;
                }
            };
            match AllowedHosts::parse(&[&text]) {
                Ok(allowed) => {
                    for target in allowed.exact_targets().filter(is_service) {
                        let fix = format!("correct the `allowed_outbound_hosts` entry at {at}");
                        self.add(target, user.clone(), fix);
                    }
                }
                Err(error) => {
                    let diagnostic = app
                        .error_at(
                            entry.location,
                            "allowed_outbound_hosts",
                            format!("invalid entry {:?}: {}", error.entry, error.problem),
                        )
                        .with_hint(error.hint);
                    findings.push(Finding::problem_with_diagnostic(
                        format!("component `{}`", component.id),
                        format!(
                            "`allowed_outbound_hosts` entry {:?} is invalid",
                            entry.value
                        ),
                        &diagnostic.to_string(),
                    ));
                }
            }
        }
        findings
    }

    /// The Redis servers the app's Redis triggers subscribe to.
    pub fn add_redis_triggers(
        &mut self,
        app: &App,
        variables: Option<&ApplicationVariables>,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        for trigger in &app.redis_triggers {
            let Some(address) = trigger.address.as_ref().or(app.redis_address.as_ref()) else {
                continue;
            };
            let at = location(app, trigger.location);
            let user = format!("Redis trigger of component `{}` at {at}", trigger.component);
            let fix = format!("correct the Redis trigger's `address` ({at})");
            let target = expand(address, variables)
                .and_then(|url| OutboundTarget::parse_connection_url(&url).ok());
            match target {
                Some(target) => self.add(target, user, fix),
                None => findings.push(Finding::skipped(
                    format!("service `{address}`"),
                    format!("{user}: not a `redis://` address here; not checked"),
                )),
            }
        }
        findings
    }

    /// The runtime config's Redis key-value stores.
    pub fn add_key_value_stores(&mut self, config: &RuntimeConfig, file: &Path) -> Vec<Finding> {
        let mut findings = Vec::new();
        let file = file_name(file);
        for (label, backend) in &config.key_value_stores {
            let KeyValueBackend::Redis { url } = backend else {
                continue;
            };
            let user = format!("key-value store `{label}` in {file}");
            match OutboundTarget::parse_connection_url(url) {
                Ok(target) => self.add(
                    target,
                    user,
                    format!("correct the `url` of `[key_value_store.{label}]` in `{file}`"),
                ),
                Err(error) => findings.push(Finding::problem_from(
                    format!("key-value store `{label}`"),
                    (&error).into(),
                )),
            }
        }
        findings
    }

    /// The runtime config's model service (`[llm_compute] type =
    /// "remote_http"`).
    pub fn add_model_service(&mut self, config: &RuntimeConfig, file: &Path) {
        let LlmCompute::Remote(remote) = &config.llm_compute else {
            return;
        };
        let file = file_name(file);
        // The URL was checked when the file loaded.
        if let Ok(target) = OutboundTarget::parse_connection_url(remote.url.as_str()) {
            self.add(
                target,
                format!("the model service of `[llm_compute]` in {file}"),
                format!("correct the `url` of `[llm_compute]` in `{file}`"),
            );
        }
    }

    /// Connects to every service at once; each gets [`CONNECT_TIMEOUT`].
    pub async fn check(self) -> Vec<Finding> {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, service) in self.0.into_iter().enumerate() {
            tasks.spawn(async move {
                let reach = reach(&service.target).await;
                (index, finding(&service, &reach))
            });
        }
        let mut findings = tasks.join_all().await;
        findings.sort_by_key(|(index, _)| *index);
        findings.into_iter().map(|(_, f)| f).collect()
    }
}

/// The schemes of services a TCP connection can check.
const SERVICE_SCHEMES: &[&str] = &["redis", "postgres", "mysql", "mqtt"];

fn is_service(target: &OutboundTarget) -> bool {
    SERVICE_SCHEMES.contains(&target.scheme.as_str())
}

fn is_service_entry(entry: &str) -> bool {
    entry.split_once("://").is_some_and(|(scheme, _)| {
        SERVICE_SCHEMES.contains(&scheme.trim().to_ascii_lowercase().as_str())
    })
}

/// `text` with its `{{ variable }}`s filled in, when they all have values.
fn expand(text: &str, variables: Option<&ApplicationVariables>) -> Option<String> {
    if !text.contains("{{") {
        return Some(text.to_owned());
    }
    variables?.expand(text).ok()
}

fn location(app: &App, location: Location) -> String {
    format!("{}:{}", file_name(&app.path), location.line)
}

/// What happened when connecting.
#[derive(Debug)]
pub enum Reach {
    /// A connection was accepted.
    Answered(SocketAddr),
    /// Nothing listens there.
    Refused,
    /// No answer within [`CONNECT_TIMEOUT`].
    TimedOut,
    /// The host name does not resolve.
    Unresolved,
    /// Any other failure.
    Failed(std::io::Error),
}

async fn reach(target: &OutboundTarget) -> Reach {
    match tokio::time::timeout(CONNECT_TIMEOUT, connect(target)).await {
        Ok(reach) => reach,
        Err(_) => Reach::TimedOut,
    }
}

/// Tries each address the host resolves to, as a client would.
async fn connect(target: &OutboundTarget) -> Reach {
    let host = match &target.host {
        Host::Ip(ip) => ip.to_string(),
        Host::Domain(domain) => domain.clone(),
    };
    let Ok(addrs) = tokio::net::lookup_host((host.as_str(), target.port)).await else {
        return Reach::Unresolved;
    };
    let mut last = Reach::Unresolved;
    for addr in addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => return Reach::Answered(addr),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = Reach::Refused;
            }
            Err(error) => last = Reach::Failed(error),
        }
    }
    last
}

/// The finding for `service`, given how connecting went.
pub fn finding(service: &Service, reach: &Reach) -> Finding {
    let target = &service.target;
    let subject = format!("service `{target}`");
    let users = format!("used by {}", service.users.join(", "));
    let fix = &service.fix;
    match reach {
        // A name may resolve to several addresses: say which one answered.
        Reach::Answered(addr) => match &target.host {
            Host::Domain(_) => Finding::ok(subject, format!("answers at {addr} ({users})")),
            Host::Ip(_) => Finding::ok(subject, format!("answers ({users})")),
        },
        Reach::Refused => Finding::problem(subject, format!("refused the connection ({users})"))
            .hint(format!("{}, or {fix}", start_hint(target))),
        Reach::TimedOut => Finding::problem(
            subject,
            format!(
                "did not answer within {}s ({users})",
                CONNECT_TIMEOUT.as_secs()
            ),
        )
        .hint(format!(
            "check that {}:{} is the right address and that no firewall drops connections to it, or {fix}",
            target.host, target.port
        )),
        Reach::Unresolved => Finding::problem(
            subject,
            format!("the host `{}` does not resolve ({users})", target.host),
        )
        .hint(format!("check the host name, or {fix}")),
        Reach::Failed(error) => {
            Finding::problem(subject, format!("cannot connect: {error} ({users})"))
                .hint(format!("check the address and the network, or {fix}"))
        }
    }
}

/// How to get a service answering at `target`: a command to start it when
/// it should run on this machine, else what to check on the remote one.
fn start_hint(target: &OutboundTarget) -> String {
    let port = target.port;
    let (name, example) = match target.scheme.as_str() {
        "redis" => ("Redis", format!("redis-server --port {port}")),
        "postgres" => (
            "PostgreSQL",
            format!("docker run -d -p {port}:5432 -e POSTGRES_PASSWORD=<password> postgres"),
        ),
        "mysql" => (
            "MySQL",
            format!("docker run -d -p {port}:3306 -e MYSQL_ROOT_PASSWORD=<password> mysql"),
        ),
        "mqtt" => ("an MQTT broker", format!("mosquitto -p {port}")),
        other => (other, String::new()),
    };
    let local = match &target.host {
        Host::Ip(ip) => ip.is_loopback(),
        Host::Domain(domain) => domain == "localhost",
    };
    if local && !example.is_empty() {
        format!("start {name} on port {port}, e.g. `{example}`")
    } else {
        format!(
            "check that {name} runs on `{}` and accepts connections on port {port} from this machine",
            target.host
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doctor::report::Status;

    const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "a"
[variables]
cache_host = { default = "127.0.0.1" }
db_host = { required = true }
[component.web]
source = "app.wasm"
allowed_outbound_hosts = [
    "redis://{{ cache_host }}",
    "postgres://{{ db_host }}",
    "mysql://*:*",
    "https://example.com",
    "mqtt://broker.internal:8883",
    "redis://127.0.0.1:6379",
]
[component.worker]
source = "app.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1", "postgres://db:5432..5440"]
[[trigger.http]]
route = "/..."
component = "web"
"#;

    fn app() -> App {
        spin_manifest::parse(MANIFEST, Path::new("spin.toml")).unwrap()
    }

    fn target(url: &str) -> OutboundTarget {
        OutboundTarget::parse_connection_url(url).unwrap()
    }

    #[test]
    fn grants_name_their_default_ports_and_each_service_appears_once() {
        let app = app();
        let mut services = Services::default();
        let mut findings = Vec::new();
        for component in &app.components {
            findings.extend(services.add_grants(&app, component, None));
        }
        let found: Vec<(String, Vec<String>)> = services
            .0
            .iter()
            .map(|s| (s.target.to_string(), s.users.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "mqtt://broker.internal:8883".to_owned(),
                    vec!["component `web` at spin.toml:14".to_owned()]
                ),
                (
                    "redis://127.0.0.1:6379".to_owned(),
                    vec![
                        "component `web` at spin.toml:15".to_owned(),
                        "component `worker` at spin.toml:19".to_owned()
                    ]
                ),
            ]
        );
        // Without variable values, the templated entries are noted, not checked.
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings.iter().all(|f| f.status == Status::Skipped));
    }

    #[test]
    fn an_invalid_entry_is_a_problem_pointing_at_its_line() {
        let manifest = "spin_manifest_version = 2\n[application]\nname = \"a\"\n[component.web]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"redis://cache:99999\"]\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n";
        let app = spin_manifest::parse(manifest, Path::new("spin.toml")).unwrap();
        let findings = Services::default().add_grants(&app, &app.components[0], None);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].status, Status::Problem);
        assert!(
            findings[0]
                .details
                .iter()
                .any(|l| l.contains("spin.toml:6")),
            "{:?}",
            findings[0]
        );
        assert!(findings[0].hint.is_some());
    }

    #[test]
    fn a_refused_local_service_is_told_how_to_start() {
        let service = Service {
            target: target("redis://127.0.0.1:6390"),
            users: vec!["component `web` at spin.toml:9".into()],
            fix: "correct the `allowed_outbound_hosts` entry at spin.toml:9".into(),
        };
        let finding = finding(&service, &Reach::Refused);
        assert_eq!(finding.status, Status::Problem);
        assert_eq!(
            finding.message,
            "refused the connection (used by component `web` at spin.toml:9)"
        );
        assert_eq!(
            finding.hint.as_deref(),
            Some(
                "start Redis on port 6390, e.g. `redis-server --port 6390`, or correct the `allowed_outbound_hosts` entry at spin.toml:9"
            )
        );
        let answered = finding_for(&service, "127.0.0.1:6390");
        assert_eq!(answered.status, Status::Ok);
        assert_eq!(answered.hint, None);
        let named = Service {
            target: target("redis://localhost:6390"),
            ..service
        };
        assert!(
            finding_for(&named, "[::1]:6390")
                .message
                .starts_with("answers at [::1]:6390 (")
        );
    }

    fn finding_for(service: &Service, addr: &str) -> Finding {
        finding(service, &Reach::Answered(addr.parse().unwrap()))
    }

    #[test]
    fn a_remote_service_is_not_told_to_start_locally() {
        let hint = start_hint(&target("postgres://db.example.com"));
        assert_eq!(
            hint,
            "check that PostgreSQL runs on `db.example.com` and accepts connections on port 5432 from this machine"
        );
        assert!(start_hint(&target("mysql://localhost:3307")).contains("-p 3307:3306"));
        assert!(start_hint(&target("mqtt://[::1]")).contains("mosquitto -p 1883"));
    }
}
