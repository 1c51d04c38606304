//! `fermyon:spin/llm` (Spin 1): the same calls, its own copies of the
//! types.

use super::LlmState;
use crate::capabilities::bindings::llm as v2;
use crate::capabilities::bindings::v1::llm::{
    EmbeddingsResult, EmbeddingsUsage, Error, Host, InferencingParams, InferencingResult,
    InferencingUsage,
};

fn v1_error(error: v2::Error) -> Error {
    match error {
        v2::Error::ModelNotSupported => Error::ModelNotSupported,
        v2::Error::RuntimeError(m) => Error::RuntimeError(m),
        v2::Error::InvalidInput(m) => Error::InvalidInput(m),
    }
}

impl Host for LlmState {
    async fn infer(
        &mut self,
        model: String,
        prompt: String,
        params: Option<InferencingParams>,
    ) -> wasmtime::Result<Result<InferencingResult, Error>> {
        let params = params.map(|p| v2::InferencingParams {
            max_tokens: p.max_tokens,
            repeat_penalty: p.repeat_penalty,
            repeat_penalty_last_n_token_count: p.repeat_penalty_last_n_token_count,
            temperature: p.temperature,
            top_k: p.top_k,
            top_p: p.top_p,
        });
        Ok(LlmState::infer(self, model, prompt, params)
            .await
            .map(|r| InferencingResult {
                text: r.text,
                usage: InferencingUsage {
                    prompt_token_count: r.usage.prompt_token_count,
                    generated_token_count: r.usage.generated_token_count,
                },
            })
            .map_err(v1_error))
    }

    async fn generate_embeddings(
        &mut self,
        model: String,
        text: Vec<String>,
    ) -> wasmtime::Result<Result<EmbeddingsResult, Error>> {
        Ok(self
            .embed(model, text)
            .await
            .map(|r| EmbeddingsResult {
                embeddings: r.embeddings,
                usage: EmbeddingsUsage {
                    prompt_token_count: r.usage.prompt_token_count,
                },
            })
            .map_err(v1_error))
    }
}
