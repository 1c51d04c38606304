//! Why a manifest could not be rendered, and what to do about it.

use crate::names;

/// A reason [`scaffold`](crate::scaffold) refused its options.
///
/// Each variant keeps the value that was wrong. [`ScaffoldError::hint`] says
/// what to do; the CLI prints it once, after the cause chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// No image reference was given.
    #[error("no image reference given")]
    EmptyImage,

    /// The image reference does not follow the OCI reference grammar.
    #[error("`{image}` is not an image reference: {reason}")]
    InvalidImage {
        /// The reference as given.
        image: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No Kubernetes name can be derived from the image's last path segment.
    #[error("cannot name the app after image `{image}`: {reason}")]
    UnnamableImage {
        /// The reference as given.
        image: String,
        /// Why its last path segment does not make a name.
        reason: String,
    },

    /// The app name given is not a valid Kubernetes name.
    #[error("`{name}` is not a valid SpinApp name: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The executor is not a Kubernetes resource name.
    #[error("`{executor}` is not a SpinAppExecutor name: {reason}")]
    InvalidExecutor {
        /// The executor as given.
        executor: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A variable name breaks Spin's lower snake_case rule.
    #[error("`{name}` is not a Spin variable name: {reason}")]
    InvalidVariableName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The same variable was given twice.
    #[error("variable `{name}` is given more than once")]
    DuplicateVariable {
        /// The repeated name.
        name: String,
    },

    /// An image pull secret name is not a Kubernetes Secret name.
    #[error("`{name}` is not a Secret name: {reason}")]
    InvalidPullSecret {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Zero replicas without autoscaling: the spin-operator webhook rejects it.
    #[error("a SpinApp without autoscaling needs at least 1 replica, not 0")]
    ZeroReplicas,

    /// A replica count together with autoscaling: the webhook rejects it.
    #[error("replicas ({replicas}) cannot be set when autoscaling is enabled")]
    ReplicasWithAutoscaling {
        /// The replica count given.
        replicas: u32,
    },

    /// More replicas than the CRD's int32 field holds.
    #[error("{replicas} replicas is more than a SpinApp can hold (at most {max})", max = i32::MAX)]
    TooManyReplicas {
        /// The replica count given.
        replicas: u32,
    },

    /// The YAML serializer failed (not expected for these documents).
    #[error("failed to render the manifest as YAML")]
    Render(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ScaffoldError {
    /// What the user can do about the error, as one line without the
    /// `hint: ` prefix; `None` when there is nothing they can do.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::EmptyImage => {
                "pass the app's registry reference, as pushed by `spin registry push`: `--from ghcr.io/me/hello:v1`".into()
            }
            Self::InvalidImage { image, .. } => match names::strip_scheme(image) {
                Some(bare) => format!("drop the scheme: `--from {bare}`"),
                None => "write it as `[registry/]path[:tag][@sha256:digest]` with a lowercase path, e.g. `--from ghcr.io/me/hello:v1`".into(),
            },
            Self::UnnamableImage { .. } => {
                "name the app yourself with `--name my-app` (lowercase letters, digits and `-`, starting with a letter)".into()
            }
            Self::InvalidName { name, .. } => match names::sanitize(name) {
                Some(fixed) => format!("use `--name {fixed}`; a SpinApp name is lowercase letters, digits and `-`, starts with a letter and has at most 63 characters"),
                None => "use a name of lowercase letters, digits and `-` that starts with a letter and has at most 63 characters, e.g. `--name my-app`".into(),
            },
            Self::InvalidExecutor { .. } => {
                "use `--executor containerd-shim-spin` (the default), or a name listed by `kubectl get spinappexecutors`".into()
            }
            Self::InvalidVariableName { name, .. } => match names::repair_snake(name) {
                Some(fixed) => format!("write it as `--variable {fixed}=...`; it must match a name in the app's `[variables]`"),
                None => "variable names are lower snake_case (e.g. `--variable api_key=...`) and must match a name in the app's `[variables]`".into(),
            },
            Self::DuplicateVariable { name } => {
                format!("give `--variable {name}=...` once")
            }
            Self::InvalidPullSecret { .. } => {
                "give the name of a Secret in the app's namespace, as listed by `kubectl get secrets`".into()
            }
            Self::ZeroReplicas => {
                "pass `--replicas 1` or more; to scale to zero, enable autoscaling and let HPA or KEDA manage the replicas".into()
            }
            Self::ReplicasWithAutoscaling { .. } => {
                "drop `--replicas`; with autoscaling, set the minimum on the HorizontalPodAutoscaler or KEDA ScaledObject".into()
            }
            Self::TooManyReplicas { .. } => format!("pass `--replicas` of at most {}", i32::MAX),
            Self::Render(_) => return None,
        };
        Some(hint)
    }
}
