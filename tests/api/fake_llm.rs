//! A local OpenAI-compatible chat-completions server that answers as scripted:
//! an answer, garbage, a 429 with Retry-After, a 500, a llama.cpp-style 400 with
//! an integer code, or no answer at all. It records every request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub enum Reply {
    /// A well-formed completion whose message content is this JSON.
    Answer(Value),
    /// A completion whose content is this text (not the schema).
    Content(String),
    /// An HTTP error with an OpenAI-shaped body, and maybe Retry-After seconds.
    Status(u16, Option<u64>),
    /// llama.cpp's error body: an integer `code`.
    LlamaError(u16, &'static str),
    /// Never answers.
    Hang,
    /// Every requirement asked for is met, each quoting the first line of page 1
    /// (a correct, grounded answer for a document whose first line says it).
    GroundedMet,
}

#[derive(Clone, Default)]
struct Shared {
    script: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<(Instant, Value)>>>,
    /// Answers when the script is empty.
    fallback: Arc<Mutex<Option<Reply>>>,
}

pub struct FakeLlm {
    pub base_url: String,
    shared: Shared,
}

impl FakeLlm {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base_url, shared }
    }

    /// Queues replies, answered in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// The reply once the script runs out.
    pub fn always(&self, reply: Reply) {
        *self.shared.fallback.lock().unwrap() = Some(reply);
    }

    pub fn requests(&self) -> Vec<(Instant, Value)> {
        self.shared.requests.lock().unwrap().clone()
    }
}

/// A model answer for `requirements`, each as `(id, verdict, evidence, page, confidence)`.
pub fn answer(requirements: &[(&str, &str, &str, u32, f64)]) -> Value {
    let items: Vec<Value> = requirements
        .iter()
        .map(|(id, verdict, evidence, page, confidence)| {
            json!({ "id": id, "verdict": verdict, "evidence": evidence, "page": page, "reason": "as the document shows", "confidence": confidence })
        })
        .collect();
    json!({ "requirements": items })
}

async fn complete(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    shared
        .requests
        .lock()
        .unwrap()
        .push((Instant::now(), body.clone()));
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| shared.fallback.lock().unwrap().clone());
    let content = match reply {
        Some(Reply::Answer(v)) => v.to_string(),
        Some(Reply::Content(s)) => s,
        Some(Reply::Status(code, retry_after)) => {
            let mut headers = HeaderMap::new();
            if let Some(s) = retry_after {
                headers.insert(
                    "retry-after",
                    HeaderValue::from_str(&s.to_string()).unwrap(),
                );
            }
            let err = json!({ "error": { "message": "scripted failure", "type": "server_error", "param": null, "code": null } });
            return (StatusCode::from_u16(code).unwrap(), headers, Json(err)).into_response();
        }
        Some(Reply::LlamaError(code, kind)) => {
            let err = json!({ "error": { "code": code, "message": "the request exceeds the available context size", "type": kind } });
            return (StatusCode::from_u16(code).unwrap(), Json(err)).into_response();
        }
        Some(Reply::Hang) => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(Reply::GroundedMet) => grounded_met(&body).to_string(),
        None => return (StatusCode::INTERNAL_SERVER_ERROR, "script exhausted").into_response(),
    };
    let prompt_chars = body.to_string().len() as u64;
    Json(json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": body["model"],
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": prompt_chars / 4, "completion_tokens": 40, "total_tokens": prompt_chars / 4 + 40 }
    }))
    .into_response()
}

/// Reads the requirement ids from the schema and a quote from page 1 of the prompt.
fn grounded_met(body: &Value) -> Value {
    let ids: Vec<String> = body["response_format"]["json_schema"]["schema"]["properties"]["requirements"]["items"]["properties"]["id"]["enum"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let user = body["messages"][1]["content"].as_str().unwrap_or_default();
    let quote = user
        .split("=== page 1 ===")
        .nth(1)
        .and_then(|rest| rest.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or_default()
        .chars()
        .take(80)
        .collect::<String>();
    let items: Vec<(&str, &str, &str, u32, f64)> = ids
        .iter()
        .map(|id| (id.as_str(), "met", quote.as_str(), 1, 0.9))
        .collect();
    answer(&items)
}
