//! Registry credentials, kept where docker and Spin keep them:
//! `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`), whose
//! `credHelpers`/`credsStore` helpers are honoured when reading and, for
//! `credsStore`, when storing.

use anyhow::{Context as _, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use serde_json::{Map, Value};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use spin_hint::Hinted;

/// The credentials stored for `registry`, or anonymous access.
pub fn registry_auth(registry: &str) -> Result<RegistryAuth> {
    match docker_credential::get_credential(registry) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            Ok(RegistryAuth::Basic(user, password))
        }
        Ok(DockerCredential::IdentityToken(token)) => Ok(RegistryAuth::Bearer(token)),
        Err(
            CredentialRetrievalError::ConfigNotFound
            | CredentialRetrievalError::ConfigReadError
            | CredentialRetrievalError::NoCredentialConfigured,
        ) => Ok(RegistryAuth::Anonymous),
        Err(e) => Err(Hinted::new(
            format!("cannot read the stored credentials for `{registry}`: {e}"),
            format!(
                "check `{}` and its credential helper, or log in again with `spin registry login {registry}`",
                config_path().display()
            ),
        )
        .into()),
    }
}

/// Checks `username`/`password` against `server` and stores them.
pub async fn login(
    server: &str,
    username: &str,
    password: &str,
    insecure: bool,
) -> Result<PathBuf> {
    let server = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    // Any repository will do: the check is the registry's answer to the
    // credentials, not to the repository.
    let probe: Reference = crate::parse_reference(&format!("{server}/spin-login-check:latest"))?;
    let client = crate::client(insecure);
    let auth = RegistryAuth::Basic(username.to_owned(), password.to_owned());
    client
        .auth(&probe, &auth, RegistryOperation::Pull)
        .await
        .map_err(|e| crate::errors::explain(e, "logging in", &probe))?;
    // A registry with plain Basic auth (no token service) is only asked
    // when a request is made: list the probe's tags, which needs the
    // credentials; 404 means they were accepted.
    match client.list_tags(&probe, &auth, Some(1), None).await {
        Ok(_) => {}
        Err(oci_client::errors::OciDistributionError::RegistryError { envelope, .. })
            if envelope.errors.iter().all(|e| {
                matches!(
                    e.code,
                    oci_client::errors::OciErrorCode::NameUnknown
                        | oci_client::errors::OciErrorCode::NotFound
                )
            }) => {}
        Err(oci_client::errors::OciDistributionError::ServerError { code: 404, .. }) => {}
        Err(e) => return Err(crate::errors::explain(e, "logging in", &probe)),
    }
    store(server, username, password)
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir).join("config.json"),
        None => dirs::home_dir()
            .unwrap_or_default()
            .join(".docker")
            .join("config.json"),
    }
}

fn store(server: &str, username: &str, password: &str) -> Result<PathBuf> {
    let path = config_path();
    let mut config: Map<String, Value> = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            Hinted::new(
                format!("`{}` is not valid JSON", path.display()),
                "fix or remove the file, then log in again",
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", path.display())),
    };
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.get(server))
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(helper) = helper {
        store_with_helper(&helper, server, username, password)?;
        return Ok(path);
    }
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(auths) = auths else {
        anyhow::bail!("`auths` in `{}` is not an object", path.display());
    };
    let token = STANDARD.encode(format!("{username}:{password}"));
    auths.insert(server.to_owned(), serde_json::json!({ "auth": token }));
    let dir = path.parent().expect("the config path has a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let text = serde_json::to_vec_pretty(&config).expect("JSON always serialises");
    // The file holds a password: written whole, readable by this user only.
    spin_runtime::private_files::write_private(&path, &text)
        .with_context(|| format!("writing `{}`", path.display()))?;
    Ok(path)
}

fn store_with_helper(helper: &str, server: &str, username: &str, password: &str) -> Result<()> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("store")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| {
            Hinted::new(
                format!("cannot run the credential helper `{program}`"),
                "install it, or remove `credsStore`/`credHelpers` from the docker config to keep credentials in the file",
            )
        })?;
    let request =
        serde_json::json!({ "ServerURL": server, "Username": username, "Secret": password });
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(request.to_string().as_bytes())?;
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "`{program} store` failed ({status})");
    Ok(())
}
