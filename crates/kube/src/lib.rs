//! SpinKube manifests for `spin kube scaffold`.
//!
//! [`scaffold`] renders a `SpinApp` (`core.spinkube.dev/v1alpha1`) for an app
//! pushed to an OCI registry, and, when a runtime config is given, a `Secret`
//! holding it as a second YAML document, as the spin-kube plugin's
//! `spin kube scaffold` does. Apply the output with `kubectl apply -f`.
//!
//! ```
//! use spin_kube::{ScaffoldOptions, scaffold};
//!
//! let mut opts = ScaffoldOptions::new("ghcr.io/me/hello-py:v1");
//! opts.variables.push(("greeting".into(), "hello".into()));
//! let yaml = scaffold(&opts).unwrap();
//! assert_eq!(
//!     yaml,
//!     "\
//! apiVersion: core.spinkube.dev/v1alpha1
//! kind: SpinApp
//! metadata:
//!   name: hello-py
//! spec:
//!   image: ghcr.io/me/hello-py:v1
//!   executor: containerd-shim-spin
//!   replicas: 2
//!   variables:
//!   - name: greeting
//!     value: hello
//! "
//! );
//! ```
//!
//! Everything is checked before anything is rendered: the image reference
//! against the OCI grammar, names against the Kubernetes rules, variable
//! names against Spin's, and replicas against the spin-operator webhook, so
//! a manifest this crate prints is one the cluster accepts. Each
//! [`ScaffoldError`] says what to do in [`ScaffoldError::hint`].

#![deny(missing_docs)]

mod error;
mod manifest;
mod names;

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;

pub use error::ScaffoldError;
use manifest::{
    LocalObjectReference, ObjectMeta, RuntimeConfig, SPINAPP_API_VERSION, Secret, SpinApp,
    SpinAppSpec, SpinVar,
};

/// The executor `scaffold` names unless told otherwise: the containerd shim
/// that SpinKube installs.
pub const DEFAULT_EXECUTOR: &str = "containerd-shim-spin";

/// Replicas when none are given, as in spin-kube's `--replicas` default.
pub const DEFAULT_REPLICAS: u32 = 2;

/// The key in the runtime-config `Secret` that the operator reads.
pub const RUNTIME_CONFIG_KEY: &str = "runtime-config.toml";

/// What to scaffold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldOptions {
    /// The app's OCI reference, as pushed by `spin registry push`.
    ///
    /// Example: `ghcr.io/me/hello-py:v1`
    pub image: String,
    /// The SpinApp's name. `None` derives it from the image's last path
    /// segment (`hello-py` for `localhost:5000/hello-py:v1`).
    pub name: Option<String>,
    /// How many pods to run. `None` means [`DEFAULT_REPLICAS`], or none at
    /// all when autoscaling is enabled.
    pub replicas: Option<u32>,
    /// Leave the replica count to an external autoscaler (HPA or KEDA),
    /// which must then be set up separately; `replicas` must be `None`.
    pub enable_autoscaling: bool,
    /// The SpinAppExecutor that runs the app.
    ///
    /// Example: `containerd-shim-spin` (the default)
    pub executor: String,
    /// Values for the app's variables, as `(name, value)` pairs, written in
    /// this order. Names are lower snake_case, as in `spin.toml`.
    pub variables: Vec<(String, String)>,
    /// A Spin runtime config file's TOML text, stored in a `Secret` named
    /// `<name>-runtime-config` that the SpinApp loads it from.
    pub runtime_config: Option<String>,
    /// Secrets in the app's namespace that hold credentials for pulling the
    /// image.
    pub image_pull_secrets: Vec<String>,
}

impl ScaffoldOptions {
    /// Options for `image` with every other setting at its default.
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            ..Self::default()
        }
    }
}

impl Default for ScaffoldOptions {
    fn default() -> Self {
        Self {
            image: String::new(),
            name: None,
            replicas: None,
            enable_autoscaling: false,
            executor: DEFAULT_EXECUTOR.to_owned(),
            variables: Vec::new(),
            runtime_config: None,
            image_pull_secrets: Vec::new(),
        }
    }
}

/// The SpinApp name `scaffold` derives from an image reference: its last
/// path segment, lowercased, with each run of `.` and `_` made one `-`.
///
/// ```
/// assert_eq!(spin_kube::derive_name("localhost:5000/hello_py:v1").unwrap(), "hello-py");
/// ```
pub fn derive_name(image: &str) -> Result<String, ScaffoldError> {
    let segment = names::last_path_segment(image)?;
    let name = names::sanitize_raw(segment);
    names::check_app_name(&name).map_err(|reason| ScaffoldError::UnnamableImage {
        image: image.to_owned(),
        reason: if name == segment {
            format!("its last path segment `{segment}` is not a valid SpinApp name: {reason}")
        } else {
            format!("its last path segment `{segment}` gives `{name}`, not a valid SpinApp name: {reason}")
        },
    })?;
    Ok(name)
}

/// Renders the SpinApp for `opts`, followed by its runtime-config `Secret`
/// (after a `---` line) when `opts.runtime_config` is set.
pub fn scaffold(opts: &ScaffoldOptions) -> Result<String, ScaffoldError> {
    let name = match &opts.name {
        Some(name) => {
            names::last_path_segment(&opts.image)?;
            names::check_app_name(name).map_err(|reason| ScaffoldError::InvalidName {
                name: name.clone(),
                reason,
            })?;
            name.clone()
        }
        None => derive_name(&opts.image)?,
    };
    names::check_subdomain(&opts.executor).map_err(|reason| ScaffoldError::InvalidExecutor {
        executor: opts.executor.clone(),
        reason,
    })?;
    let replicas = replicas(opts)?;
    let variables = variables(&opts.variables)?;
    let mut image_pull_secrets = Vec::with_capacity(opts.image_pull_secrets.len());
    for secret in &opts.image_pull_secrets {
        names::check_subdomain(secret).map_err(|reason| ScaffoldError::InvalidPullSecret {
            name: secret.clone(),
            reason,
        })?;
        image_pull_secrets.push(LocalObjectReference { name: secret });
    }

    let secret = opts.runtime_config.as_ref().map(|toml| Secret {
        api_version: "v1",
        kind: "Secret",
        metadata: ObjectMeta {
            name: format!("{name}-runtime-config"),
        },
        type_: "Opaque",
        data: BTreeMap::from([(
            RUNTIME_CONFIG_KEY,
            base64::engine::general_purpose::STANDARD.encode(toml),
        )]),
    });
    let app = SpinApp {
        api_version: SPINAPP_API_VERSION,
        kind: "SpinApp",
        metadata: ObjectMeta { name },
        spec: SpinAppSpec {
            image: &opts.image,
            executor: &opts.executor,
            replicas,
            enable_autoscaling: opts.enable_autoscaling,
            variables,
            image_pull_secrets,
            runtime_config: secret.as_ref().map(|s| RuntimeConfig {
                load_from_secret: s.metadata.name.clone(),
            }),
        },
    };

    let mut out = to_yaml(&app)?;
    if let Some(secret) = &secret {
        out.push_str("---\n");
        out.push_str(&to_yaml(secret)?);
    }
    Ok(out)
}

/// One YAML document. Strings that a YAML 1.1 reader would take for another
/// type (`yes`, `1.0`, `1:20`) are quoted, and multi-line or long strings
/// stay on one line (escaped) rather than becoming block scalars.
fn to_yaml(document: &impl serde::Serialize) -> Result<String, ScaffoldError> {
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    serde_saphyr::to_string_with_options(document, options)
        .map_err(|e| ScaffoldError::Render(Box::new(e)))
}

/// `spec.replicas`, checked as the spin-operator webhook checks it.
fn replicas(opts: &ScaffoldOptions) -> Result<Option<u32>, ScaffoldError> {
    if opts.enable_autoscaling {
        return match opts.replicas {
            Some(replicas) => Err(ScaffoldError::ReplicasWithAutoscaling { replicas }),
            None => Ok(None),
        };
    }
    match opts.replicas.unwrap_or(DEFAULT_REPLICAS) {
        0 => Err(ScaffoldError::ZeroReplicas),
        replicas if i32::try_from(replicas).is_err() => {
            Err(ScaffoldError::TooManyReplicas { replicas })
        }
        replicas => Ok(Some(replicas)),
    }
}

fn variables(pairs: &[(String, String)]) -> Result<Vec<SpinVar<'_>>, ScaffoldError> {
    let mut seen = BTreeSet::new();
    let mut variables = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        names::check_lower_snake(name).map_err(|reason| ScaffoldError::InvalidVariableName {
            name: name.clone(),
            reason,
        })?;
        if !seen.insert(name) {
            return Err(ScaffoldError::DuplicateVariable { name: name.clone() });
        }
        variables.push(SpinVar { name, value });
    }
    Ok(variables)
}

#[cfg(test)]
mod tests;
