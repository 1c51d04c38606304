//! A model service over HTTP (`[llm_compute] type = "remote_http"`),
//! spoken to in Spin's protocol (`POST /infer`, `POST /embed`, the JSON of
//! Spin's `cloud-gpu` plugin) or OpenAI's (`POST /v1/chat/completions`,
//! `POST /v1/embeddings`). As in Spin, the paths replace any path of the
//! configured URL, and the token goes as `Authorization: bearer <token>`.

use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::json;

use super::runtime_config::{LlmApi, RemoteLlm};
use crate::capabilities::bindings::llm::{
    EmbeddingsResult, EmbeddingsUsage, Error, InferencingParams, InferencingResult,
    InferencingUsage,
};

/// How long connecting to the service may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The service and a client for it (its connections are reused).
pub(super) struct RemoteModels {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    config: RemoteLlm,
    authorization: HeaderValue,
}

impl RemoteModels {
    /// A client for `config`'s service; fails when the token cannot be a
    /// header value.
    pub(super) fn new(config: RemoteLlm) -> anyhow::Result<Self> {
        let mut authorization = HeaderValue::from_str(&format!("bearer {}", config.auth_token))
            .map_err(|_| {
                spin_hint::Hinted::new(
                    "the runtime config's `[llm_compute] auth_token` cannot be sent in an HTTP header",
                    "give it the token as issued, without line breaks or control characters",
                )
            })?;
        authorization.set_sensitive(true);
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(
                crate::capabilities::outbound_http::tls::default_config()
                    .as_ref()
                    .clone(),
            )
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            config,
            authorization,
        })
    }

    /// The service's address, for messages.
    pub(super) fn url(&self) -> &str {
        self.config.url.as_str()
    }

    /// Completes `prompt` with `model`, reading at most `max_bytes` of the
    /// answer.
    pub(super) async fn infer(
        &self,
        model: &str,
        prompt: String,
        params: InferencingParams,
        max_bytes: usize,
    ) -> Result<InferencingResult, Error> {
        match self.config.api {
            LlmApi::Spin => {
                let body = json!({
                    "model": model,
                    "prompt": prompt,
                    "options": {
                        "maxTokens": params.max_tokens,
                        "repeatPenalty": decimal(params.repeat_penalty),
                        "repeatPenaltyLastNTokenCount": params.repeat_penalty_last_n_token_count,
                        "temperature": decimal(params.temperature),
                        "topK": params.top_k,
                        "topP": decimal(params.top_p),
                    },
                });
                let answer: SpinInferred = self.post("/infer", body, max_bytes).await?;
                Ok(InferencingResult {
                    text: answer.text,
                    usage: InferencingUsage {
                        prompt_token_count: answer.usage.prompt_token_count,
                        generated_token_count: answer.usage.generated_token_count,
                    },
                })
            }
            LlmApi::OpenAi => {
                // The fields Spin sends: OpenAI's chat API has no top-k,
                // and some of its models refuse a temperature.
                let body = json!({
                    "model": model,
                    "messages": [{ "role": "user", "content": prompt }],
                    "max_completion_tokens": params.max_tokens,
                    "frequency_penalty": decimal(params.repeat_penalty),
                });
                let answer: OpenAiCompleted =
                    self.post("/v1/chat/completions", body, max_bytes).await?;
                Ok(InferencingResult {
                    text: answer
                        .choices
                        .into_iter()
                        .next()
                        .and_then(|c| c.message.content)
                        .unwrap_or_default(),
                    usage: InferencingUsage {
                        prompt_token_count: answer.usage.prompt_tokens,
                        generated_token_count: answer.usage.completion_tokens,
                    },
                })
            }
        }
    }

    /// Embeds each of `text` with `model`, reading at most `max_bytes` of
    /// the answer.
    pub(super) async fn embed(
        &self,
        model: &str,
        text: Vec<String>,
        max_bytes: usize,
    ) -> Result<EmbeddingsResult, Error> {
        match self.config.api {
            LlmApi::Spin => {
                let body = json!({ "model": model, "input": text });
                let answer: SpinEmbedded = self.post("/embed", body, max_bytes).await?;
                Ok(EmbeddingsResult {
                    embeddings: answer.embeddings,
                    usage: EmbeddingsUsage {
                        prompt_token_count: answer.usage.prompt_token_count,
                    },
                })
            }
            LlmApi::OpenAi => {
                let body = json!({ "model": model, "input": text });
                let answer: OpenAiEmbedded = self.post("/v1/embeddings", body, max_bytes).await?;
                Ok(EmbeddingsResult {
                    embeddings: answer.data.into_iter().map(|d| d.embedding).collect(),
                    usage: EmbeddingsUsage {
                        prompt_token_count: answer.usage.prompt_tokens,
                    },
                })
            }
        }
    }

    /// Posts `body` to `path` on the service and reads its JSON answer.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &'static str,
        body: serde_json::Value,
        max_bytes: usize,
    ) -> Result<T, Error> {
        let failed = |why: String| Error::RuntimeError(format!("POST {path}: {why}"));
        let url = self
            .config
            .url
            .join(path)
            .map_err(|e| failed(e.to_string()))?;
        let request = http::Request::post(url.as_str())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| failed(e.to_string()))?;
        let response = self.client.request(request).await.map_err(|e| {
            failed(format!(
                "the model service at {} cannot be reached: {e}",
                self.url()
            ))
        })?;
        let status = response.status();
        let bytes = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    failed(format!(
                        "the model service's answer is larger than {max_bytes} bytes, the most a call reads (`spin up --max-result-size`)"
                    ))
                } else {
                    failed(format!("reading the model service's answer: {e}"))
                }
            })?
            .to_bytes();
        // Both protocols report a failure as `{"error": {"message": ...}}`
        // (OpenAI's) or in plain text.
        if let Ok(ServiceError { error }) = serde_json::from_slice::<ServiceError>(&bytes) {
            return Err(failed(format!(
                "the model service answered: {}",
                error.message
            )));
        }
        if !status.is_success() {
            return Err(failed(format!(
                "the model service answered {status}: {}",
                excerpt(&bytes)
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            failed(format!(
                "the model service's answer is not what {} expects: {e}",
                match self.config.api {
                    LlmApi::Spin => "Spin's protocol (`api_type = \"default\"`)",
                    LlmApi::OpenAi => "OpenAI's protocol (`api_type = \"open_ai\"`)",
                }
            ))
        })
    }
}

/// `x` as the decimal the guest wrote (`1.1`, not the `1.100000023841858`
/// its `f32` widens to), for the JSON a service reads.
fn decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

/// The start of a body, as text, for a message.
fn excerpt(bytes: &[u8]) -> String {
    const MOST: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MOST)]);
    let text = text.trim();
    if bytes.len() > MOST {
        format!("{text}…")
    } else {
        text.to_owned()
    }
}

#[derive(Deserialize)]
struct ServiceError {
    error: ServiceErrorMessage,
}

#[derive(Deserialize)]
struct ServiceErrorMessage {
    message: String,
}

#[derive(Deserialize)]
struct SpinInferred {
    text: String,
    usage: SpinInferUsage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpinInferUsage {
    prompt_token_count: u32,
    generated_token_count: u32,
}

#[derive(Deserialize)]
struct SpinEmbedded {
    embeddings: Vec<Vec<f32>>,
    usage: SpinEmbedUsage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpinEmbedUsage {
    prompt_token_count: u32,
}

#[derive(Deserialize)]
struct OpenAiCompleted {
    choices: Vec<OpenAiChoice>,
    usage: OpenAiUsage,
}

#[derive(Deserialize)]
struct OpenAiChoice {
    message: OpenAiMessage,
}

#[derive(Deserialize)]
struct OpenAiMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct OpenAiUsage {
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

#[derive(Deserialize)]
struct OpenAiEmbedded {
    data: Vec<OpenAiEmbedding>,
    usage: OpenAiUsage,
}

#[derive(Deserialize)]
struct OpenAiEmbedding {
    embedding: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_settings_are_sent_as_written() {
        assert_eq!(json!({ "p": decimal(1.1) }).to_string(), r#"{"p":1.1}"#);
        assert_eq!(decimal(0.25), 0.25);
    }

    #[test]
    fn an_excerpt_is_short_and_marked_when_cut() {
        assert_eq!(excerpt(b"  no such model \n"), "no such model");
        let long = "x".repeat(500);
        let cut = excerpt(long.as_bytes());
        assert!(cut.ends_with('…') && cut.chars().count() == 201, "{cut}");
    }

    #[test]
    fn answers_of_both_protocols_parse() {
        let spin: SpinInferred = serde_json::from_str(
            r#"{"text":"hi","usage":{"promptTokenCount":3,"generatedTokenCount":1}}"#,
        )
        .unwrap();
        assert_eq!(
            (spin.text.as_str(), spin.usage.generated_token_count),
            ("hi", 1)
        );
        let open_ai: OpenAiEmbedded = serde_json::from_str(
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]}],"usage":{"prompt_tokens":2,"total_tokens":2}}"#,
        )
        .unwrap();
        assert_eq!(open_ai.data[0].embedding, [0.5, -1.0]);
        assert_eq!(open_ai.usage.prompt_tokens, 2);
        let refused: ServiceError =
            serde_json::from_str(r#"{"error":{"message":"bad key","type":"auth"}}"#).unwrap();
        assert_eq!(refused.error.message, "bad key");
    }
}
