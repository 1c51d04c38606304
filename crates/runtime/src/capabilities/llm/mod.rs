//! Large language models, served to guests through Spin's
//! `fermyon:spin/llm@2.0.0` ([`v2`]; spin-sdk 3.x to 5.x and `spin py2wasm`'s
//! `spin_llm` import it; Spin 4 has no newer version).
//!
//! As in Spin, a component may use only the models its manifest lists in
//! `ai_models`, and the models run where the runtime config's
//! `[llm_compute]` says: `type = "remote_http"` sends each call to a model
//! service ([`remote`]: Spin's protocol, or OpenAI's with `api_type =
//! "open_ai"`). This host runs no models itself: under `type = "spin"` (and
//! with no table) a call fails with an error the guest can catch, as in a
//! Spin built without local models.

mod remote;
mod v1;
mod v2;

/// This capability's runtime-config table, `[llm_compute]`: parsed by the
/// pure `spin-runtime-config` crate.
pub use spin_runtime_config::llm as runtime_config;

use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use crate::app::ComponentConfig;
use crate::capabilities::bindings;
use crate::capabilities::bindings::llm::{
    EmbeddingsResult, Error, InferencingParams, InferencingResult,
};
use runtime_config::LlmCompute;

/// Where the application's model calls go, shared by its instances.
pub struct LlmEngine {
    remote: Option<remote::RemoteModels>,
}

impl std::fmt::Debug for LlmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmEngine")
            .field("remote", &self.remote.as_ref().map(|r| r.url()))
            .finish_non_exhaustive()
    }
}

impl Default for LlmEngine {
    fn default() -> Self {
        Self::new(&LlmCompute::Local).expect("no service to set up")
    }
}

impl LlmEngine {
    /// The engine `[llm_compute]` describes. Fails when its token cannot be
    /// sent in a header.
    pub fn new(compute: &LlmCompute) -> anyhow::Result<Self> {
        let remote = match compute {
            LlmCompute::Local => None,
            LlmCompute::Remote(config) => Some(remote::RemoteModels::new(config.clone())?),
        };
        Ok(Self { remote })
    }

    /// At start: warns, once, when `components` (those whose manifest
    /// lists `ai_models`) will have their calls refused for want of a
    /// model service.
    pub(crate) fn warn_if_unserved<'a>(&self, components: impl IntoIterator<Item = &'a str>) {
        if self.remote.is_some() {
            return;
        }
        let ids: Vec<String> = components.into_iter().map(|c| format!("`{c}`")).collect();
        if ids.is_empty() {
            return;
        }
        let (who, lists) = match ids.len() {
            1 => ("component", "lists"),
            _ => ("components", "list"),
        };
        tracing::warn!(
            "{who} {} {lists} `ai_models`, and no model service is configured: every language model call will fail (this host runs no models itself)\n\nhint: {NO_SERVICE_HINT}",
            ids.join(", ")
        );
    }

    /// The service, or the error a call gets without one.
    fn service(&self) -> Result<&remote::RemoteModels, Error> {
        if let Some(remote) = &self.remote {
            return Ok(remote);
        }
        // Said once at start (`warn_if_unserved`): a call reaches here
        // only with a model its manifest lists.
        Err(Error::RuntimeError(
            "this host does not run language models itself: its runtime config must send them to a model service (`[llm_compute] type = \"remote_http\"`)".into(),
        ))
    }
}

/// What to do when no model service is configured.
const NO_SERVICE_HINT: &str = "send the calls to a model service: give the runtime config file (`--runtime-config-file`) an `[llm_compute]` table with `type = \"remote_http\"`, `url` and `auth_token` (`api_type = \"open_ai\"` for an OpenAI-compatible service)";

/// The most of one answer a call reads (as Spin: 128 MiB), and never more
/// than the host reads for one result (`--max-result-size`, 64 MiB by
/// default): an answer grows when parsed (an embedding of a few bytes of
/// JSON is a vector in memory).
const MAX_ANSWER_BYTES: usize = 128 << 20;

/// Spin's sampling settings when the guest gives none.
const DEFAULT_PARAMS: InferencingParams = InferencingParams {
    max_tokens: 100,
    repeat_penalty: 1.1,
    repeat_penalty_last_n_token_count: 64,
    temperature: 0.8,
    top_k: 40,
    top_p: 0.9,
};

/// What one instance may do: use its component's `ai_models`.
pub struct LlmState {
    component: Arc<ComponentConfig>,
}

impl LlmState {
    /// The state of an instance of `component`.
    pub(crate) fn new(component: Arc<ComponentConfig>) -> Self {
        Self { component }
    }

    /// Whether the manifest grants `model`; a refusal is logged with the
    /// line to add, and the guest gets Spin's error.
    fn check_model(&self, model: &str) -> Result<(), Error> {
        if self.component.ai_models.iter().any(|m| m == model) {
            return Ok(());
        }
        tracing::error!(
            "component `{}` used the model `{model}`, which it is not allowed to use\n\nhint: add `ai_models = [\"{model}\"]` to the component in `{}`",
            self.component.id,
            self.component.manifest_path.display()
        );
        Err(Error::InvalidInput(format!(
            "The component does not have access to use '{model}'. To give the component access, add '{model}' to the 'ai_models' key for the component in your spin.toml manifest"
        )))
    }

    /// The service a call of `model` goes to and the most of its answer
    /// it may read, once the manifest grants the model.
    fn call(&self, model: &str) -> Result<(&remote::RemoteModels, usize), Error> {
        self.check_model(model)?;
        let services = &self.component.services;
        let most = services.max_result_bytes().min(MAX_ANSWER_BYTES);
        Ok((services.llm.service()?, most))
    }

    /// Completes `prompt` with `model`.
    async fn infer(
        &self,
        model: String,
        prompt: String,
        params: Option<InferencingParams>,
    ) -> Result<InferencingResult, Error> {
        let (service, most) = self.call(&model)?;
        let params = params.unwrap_or(DEFAULT_PARAMS);
        service
            .infer(&model, prompt, params, most)
            .await
            .inspect_err(|e| self.log_failure("an inference", &model, e))
    }

    /// One embedding of each of `text` by `model`.
    async fn embed(&self, model: String, text: Vec<String>) -> Result<EmbeddingsResult, Error> {
        let (service, most) = self.call(&model)?;
        service
            .embed(&model, text, most)
            .await
            .inspect_err(|e| self.log_failure("embeddings", &model, e))
    }

    /// The host's side of a failed call: the guest sees the error, the
    /// operator which component and service it was.
    fn log_failure(&self, what: &str, model: &str, error: &Error) {
        let message = match error {
            Error::ModelNotSupported => "the model is not supported",
            Error::RuntimeError(m) | Error::InvalidInput(m) => m,
        };
        tracing::warn!(
            "component `{}`: {what} with `{model}` failed: {message}",
            self.component.id
        );
    }
}

/// The `HasData` projection of the LLM interface: its functions see an
/// [`LlmState`] and nothing else of the instance.
pub struct Llm;

impl HasData for Llm {
    type Data<'a> = &'a mut LlmState;
}

/// Registers the LLM interface, reaching the instance's [`LlmState`]
/// through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut LlmState,
) -> anyhow::Result<()> {
    bindings::llm::add_to_linker::<T, Llm>(linker, get)?;
    bindings::v1::llm::add_to_linker::<T, Llm>(linker, get)?;
    Ok(())
}
