//! The language model, through async-openai against any OpenAI-compatible
//! endpoint. Requests go through our own transport: rate-limited with
//! governor, retried with backoff on 429 and 5xx (honouring `Retry-After`), and
//! bounded in time and concurrency. The answer must follow a JSON schema; a
//! malformed one is asked again once.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessageArgs, ChatCompletionRequestUserMessageArgs,
    CreateChatCompletionRequestArgs, ResponseFormat, ResponseFormatJsonSchema,
};
use futures_core::future::BoxFuture;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::connectors::http::retry_after;
use crate::domain::verification::{ModelVerdict, Tokens, Verdict};

/// How to reach the model.
#[derive(Clone)]
pub struct LlmConfig {
    /// Up to and including `/v1`, e.g. `http://127.0.0.1:8089/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Upper bound of one judgement, retries included.
    pub timeout: Duration,
    /// Retries of one HTTP call on 429, 5xx and dropped connections.
    pub max_retries: u32,
    pub requests_per_minute: u32,
    pub max_concurrency: usize,
    pub max_output_tokens: u32,
    pub backoff_base: Duration,
}

// The key never reaches a log line.
impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the model endpoint refused the request: HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("the model endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the model's answer did not follow the schema: {0}")]
    Malformed(String),
}

/// One judgement: the model's verdicts and what they cost.
#[derive(Clone, Debug)]
pub struct Judgement {
    pub verdicts: Vec<ModelVerdict>,
    pub tokens: Tokens,
    pub model: String,
    pub latency: Duration,
}

#[derive(Clone, Debug)]
pub struct Llm {
    client: Client<OpenAIConfig>,
    config: LlmConfig,
    permits: Arc<Semaphore>,
}

impl Llm {
    pub fn new(config: LlmConfig) -> Self {
        let openai = OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(config.api_key.clone().unwrap_or_else(|| "none".into()));
        let transport = Transport::new(&config);
        let client = Client::with_config(openai).with_http_service(transport);
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        Self {
            client,
            config,
            permits,
        }
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// Asks the model to judge `requirement_ids`; a malformed answer is asked
    /// for once more before giving up.
    pub async fn judge(
        &self,
        system: &str,
        user: &str,
        requirement_ids: &[String],
    ) -> Result<Judgement, LlmError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let started = Instant::now();
        let work = async {
            let mut tokens = Tokens::default();
            let mut last_error = None;
            for _ in 0..2 {
                let (content, used, model) = self.call(system, user, requirement_ids).await?;
                tokens.prompt += used.prompt;
                tokens.completion += used.completion;
                match parse_answer(&content, requirement_ids) {
                    Ok(verdicts) => {
                        return Ok(Judgement {
                            verdicts,
                            tokens,
                            model,
                            latency: started.elapsed(),
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "malformed model answer; asking once more");
                        last_error = Some(e);
                    }
                }
            }
            Err(last_error.expect("two attempts failed"))
        };
        match tokio::time::timeout(self.config.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::Timeout(self.config.timeout)),
        }
    }

    async fn call(
        &self,
        system: &str,
        user: &str,
        ids: &[String],
    ) -> Result<(String, Tokens, String), LlmError> {
        let malformed = |e: OpenAIError| LlmError::Malformed(e.to_string());
        let request = CreateChatCompletionRequestArgs::default()
            .model(&self.config.model)
            .messages([
                ChatCompletionRequestSystemMessageArgs::default()
                    .content(system)
                    .build()
                    .map_err(malformed)?
                    .into(),
                ChatCompletionRequestUserMessageArgs::default()
                    .content(user)
                    .build()
                    .map_err(malformed)?
                    .into(),
            ])
            .temperature(0.0)
            .max_completion_tokens(self.config.max_output_tokens)
            .response_format(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    name: "requirement_verdicts".into(),
                    description: None,
                    schema: answer_schema(ids),
                    strict: Some(true),
                },
            })
            .build()
            .map_err(malformed)?;
        let response = self.client.chat().create(request).await.map_err(classify)?;
        let content = response
            .choices
            .first()
            .and_then(|c| c.message.content.clone())
            .ok_or_else(|| LlmError::Malformed("the answer has no content".into()))?;
        let tokens = response
            .usage
            .map(|u| Tokens {
                prompt: u64::from(u.prompt_tokens),
                completion: u64::from(u.completion_tokens),
            })
            .unwrap_or_default();
        Ok((content, tokens, response.model))
    }
}

/// Sorts async-openai's errors into ours. llama.cpp sends an integer `code`,
/// which async-openai fails to parse: its 4xx arrive as `JSONDeserialize` with
/// the raw body, whose `error.code` carries the status.
fn classify(e: OpenAIError) -> LlmError {
    match e {
        OpenAIError::ApiError(api) => LlmError::Refused {
            status: api.status_code.as_u16(),
            message: api.api_error.message,
        },
        OpenAIError::JSONDeserialize(err, body) => {
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            match parsed["error"]["code"].as_u64() {
                Some(status) => LlmError::Refused {
                    status: status as u16,
                    message: parsed["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                },
                None => LlmError::Malformed(format!(
                    "{err}: {}",
                    body.chars().take(200).collect::<String>()
                )),
            }
        }
        OpenAIError::Reqwest(e) => LlmError::Unreachable(e.to_string()),
        other => LlmError::Unreachable(other.to_string()),
    }
}

/// The JSON schema of an answer: one verdict per listed requirement, with
/// bounded strings (a grammar does not stop a runaway string by itself).
pub fn answer_schema(ids: &[String]) -> serde_json::Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["requirements"],
        "properties": {
            "requirements": {
                "type": "array",
                "maxItems": ids.len().max(1),
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "verdict", "evidence", "page", "reason", "confidence"],
                    "properties": {
                        "id": { "type": "string", "enum": ids },
                        "verdict": { "type": "string", "enum": ["met", "not_met", "unclear"] },
                        "evidence": { "type": "string", "maxLength": 240 },
                        "page": { "type": "integer", "minimum": 1 },
                        "reason": { "type": "string", "maxLength": 240 },
                        "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
                    }
                }
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    requirements: Vec<RawVerdict>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerdict {
    id: String,
    verdict: Verdict,
    evidence: String,
    page: i64,
    reason: String,
    confidence: f64,
}

/// Parses an answer, holding it to the schema: known ids, pages from 1, a
/// confidence in [0, 1]. The first verdict per requirement counts.
pub fn parse_answer(content: &str, ids: &[String]) -> Result<Vec<ModelVerdict>, LlmError> {
    let answer: Answer =
        serde_json::from_str(content.trim()).map_err(|e| LlmError::Malformed(e.to_string()))?;
    let mut out: Vec<ModelVerdict> = Vec::new();
    for raw in answer.requirements {
        if !ids.contains(&raw.id) {
            return Err(LlmError::Malformed(format!(
                "unknown requirement id `{}`",
                raw.id
            )));
        }
        if raw.page < 1 || !(0.0..=1.0).contains(&raw.confidence) {
            return Err(LlmError::Malformed(format!(
                "requirement `{}`: page or confidence out of range",
                raw.id
            )));
        }
        if out.iter().any(|v| v.id == raw.id) {
            continue;
        }
        out.push(ModelVerdict {
            id: raw.id,
            verdict: raw.verdict,
            evidence: raw.evidence,
            page: u32::try_from(raw.page).unwrap_or(u32::MAX),
            reason: raw.reason,
            confidence: raw.confidence,
        });
    }
    Ok(out)
}

/// The HTTP transport under async-openai: governor's rate limit before each
/// attempt, and retries on 429, 5xx and connection failures with exponential
/// backoff, waiting at least what `Retry-After` asks.
#[derive(Clone)]
struct Transport {
    http: reqwest::Client,
    limiter: Arc<DefaultDirectRateLimiter>,
    max_retries: u32,
    backoff_base: Duration,
}

impl Transport {
    fn new(config: &LlmConfig) -> Self {
        crate::init_tls();
        let per_minute = NonZeroU32::new(config.requests_per_minute.max(1)).expect("at least one");
        let http = reqwest::Client::builder()
            .user_agent(concat!("ssot-lite/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client builds");
        Self {
            http,
            limiter: Arc::new(RateLimiter::direct(Quota::per_minute(per_minute))),
            max_retries: config.max_retries,
            backoff_base: config.backoff_base,
        }
    }
}

impl tower::Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let mut attempt = 0;
            loop {
                this.limiter.until_ready().await;
                let request = factory.build().await?;
                let backoff = crate::jobs::backoff(
                    i64::from(attempt) + 1,
                    this.backoff_base,
                    Duration::from_secs(30),
                );
                match this.http.execute(request).await {
                    Ok(response)
                        if attempt < this.max_retries
                            && (response.status() == 429
                                || response.status().is_server_error()) =>
                    {
                        let wait =
                            retry_after(response.headers()).map_or(backoff, |ra| ra.max(backoff));
                        tracing::warn!(status = %response.status(), ?wait, attempt, "model endpoint busy; retrying");
                        tokio::time::sleep(wait).await;
                    }
                    Ok(response) => return Ok(response),
                    Err(e) if attempt < this.max_retries && (e.is_connect() || e.is_timeout()) => {
                        tracing::warn!(error = %e, attempt, "model endpoint unreachable; retrying");
                        tokio::time::sleep(backoff).await;
                    }
                    Err(e) => return Err(OpenAIError::Reqwest(e)),
                }
                attempt += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["issued_by_insurer".into(), "signed".into()]
    }

    #[test]
    fn answers_are_held_to_the_schema() {
        let good = r#"{"requirements":[{"id":"signed","verdict":"met","evidence":"Podpis","page":2,"reason":"signed","confidence":0.9},
                      {"id":"signed","verdict":"not_met","evidence":"","page":1,"reason":"dup","confidence":0.1}]}"#;
        let v = parse_answer(good, &ids()).unwrap();
        assert_eq!((v.len(), v[0].verdict, v[0].page), (1, Verdict::Met, 2));
        for bad in [
            "not json",
            r#"{"requirements":[{"id":"other","verdict":"met","evidence":"","page":1,"reason":"","confidence":1}]}"#,
            r#"{"requirements":[{"id":"signed","verdict":"approved","evidence":"","page":1,"reason":"","confidence":1}]}"#,
            r#"{"requirements":[{"id":"signed","verdict":"met","evidence":"","page":0,"reason":"","confidence":1}]}"#,
            r#"{"requirements":[{"id":"signed","verdict":"met","evidence":"","page":1,"reason":"","confidence":7}]}"#,
        ] {
            assert!(parse_answer(bad, &ids()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_schema_names_only_the_requirements_asked_and_bounds_strings() {
        let s = answer_schema(&ids());
        let item = &s["properties"]["requirements"]["items"]["properties"];
        assert_eq!(item["id"]["enum"], json!(ids()));
        assert_eq!(item["evidence"]["maxLength"], 240);
    }
}
