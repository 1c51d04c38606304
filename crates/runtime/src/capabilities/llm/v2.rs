//! `fermyon:spin/llm@2.0.0`.

use super::LlmState;
use crate::capabilities::bindings::llm::{
    EmbeddingsResult, Error, Host, InferencingParams, InferencingResult,
};

impl Host for LlmState {
    async fn infer(
        &mut self,
        model: String,
        prompt: String,
        params: Option<InferencingParams>,
    ) -> wasmtime::Result<Result<InferencingResult, Error>> {
        Ok(LlmState::infer(self, model, prompt, params).await)
    }

    async fn generate_embeddings(
        &mut self,
        model: String,
        text: Vec<String>,
    ) -> wasmtime::Result<Result<EmbeddingsResult, Error>> {
        Ok(self.embed(model, text).await)
    }
}
