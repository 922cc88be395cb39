//! What every answer shares: security headers, the CORS policy, errors in the
//! one JSON shape, bounded request ids, rate limits, server timeouts, the
//! connection bound and upload quotas.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, id, on_both_backends, spawn_app, spawn_app_with};

/// The host and port the app listens on.
fn host(app: &TestApp) -> String {
    app.base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .to_owned()
}

async fn error_body(res: reqwest::Response) -> Value {
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "an error answers JSON, not `{content_type}`"
    );
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{body}"
    );
    body
}

fn assert_security_headers(res: &reqwest::Response) {
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{}", res.url());
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

on_both_backends! {
    async fn every_answer_carries_the_security_headers(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let cases = [
            (format!("{}/health", app.base), None),
            (format!("{}/contacts/{}", app.base, id(&anna)), Some(&app.operator)),
            (format!("{}/projects", app.base), None),
            (format!("{}/nowhere", app.base), Some(&app.operator)),
            (format!("{}/openapi.json", app.base), None),
        ];
        for (url, token) in cases {
            let mut req = app.http.get(&url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            assert_security_headers(&req.send().await.unwrap());
        }
    }
}

on_both_backends! {
    async fn a_wrong_method_answers_405_in_the_error_shape_with_allow(db) {
        let app = spawn_app(db).await;
        let res = app.http.delete(format!("{}/projects", app.base)).bearer_auth(&app.operator).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 405);
        let allow = res.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        assert_security_headers(&res);
        let body = error_body(res).await;
        assert_eq!(body["error"]["code"], "method_not_allowed");
        assert!(body["error"]["message"].as_str().unwrap().contains("DELETE"));
    }
}

on_both_backends! {
    async fn a_body_over_the_limit_answers_413_json_on_webhook_and_intake_routes(db) {
        let app = spawn_app_with(db, |s| s.max_body_bytes = 4096).await;
        let big = vec![b'x'; 8 * 1024];
        for path in ["/intake/google-forms", "/webhooks/hubspot", "/webhooks/trello", "/projects"] {
            let res = app.http.post(format!("{}{path}", app.base)).bearer_auth(&app.operator)
                .header("content-type", "application/json").body(big.clone()).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 413, "{path}");
            assert_eq!(error_body(res).await["error"]["code"], "payload_too_large", "{path}");
        }
    }
}

on_both_backends! {
    async fn a_preflight_is_refused_in_the_error_shape_unless_its_origin_is_allowed(db) {
        let app = spawn_app_with(db, |s| s.cors_allowed_origins = vec!["https://app.agency.pl".into()]).await;
        let preflight = |origin: &'static str| {
            app.http.request(reqwest::Method::OPTIONS, format!("{}/projects", app.base))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, content-type")
                .send()
        };
        let refused = preflight("https://evil.example").await.unwrap();
        assert_eq!(refused.status().as_u16(), 403);
        assert!(refused.headers().get("access-control-allow-origin").is_none());
        assert_eq!(error_body(refused).await["error"]["code"], "cors_not_allowed");

        let allowed = preflight("https://app.agency.pl").await.unwrap();
        assert!(allowed.status().is_success(), "{}", allowed.status());
        assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.agency.pl");
        let methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
        assert!(methods.contains("POST"), "{methods}");

        // A real request from the allowed origin can be read; from another it cannot.
        let ok = app.http.get(format!("{}/projects", app.base)).bearer_auth(&app.operator)
            .header("origin", "https://app.agency.pl").send().await.unwrap();
        assert_eq!(ok.headers()["access-control-allow-origin"], "https://app.agency.pl");
        let other = app.http.get(format!("{}/projects", app.base)).bearer_auth(&app.operator)
            .header("origin", "https://evil.example").send().await.unwrap();
        assert!(other.headers().get("access-control-allow-origin").is_none());
    }
}

on_both_backends! {
    async fn by_default_no_origin_may_call_the_api_from_a_browser(db) {
        let app = spawn_app(db).await;
        let res = app.http.request(reqwest::Method::OPTIONS, format!("{}/health", app.base))
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "GET")
            .send().await.unwrap();
        assert_eq!(res.status().as_u16(), 403);
        assert_eq!(error_body(res).await["error"]["code"], "cors_not_allowed");
    }
}

on_both_backends! {
    async fn request_ids_are_echoed_only_when_short_and_plain(db) {
        let app = spawn_app(db).await;
        let url = format!("{}/health", app.base);
        let echoed = |value: String| {
            let req = app.http.get(&url).header("x-request-id", value);
            async move { req.send().await.unwrap().headers()["x-request-id"].to_str().unwrap().to_owned() }
        };
        assert_eq!(echoed("abc-123".into()).await, "abc-123");
        let huge = echoed("a".repeat(20 * 1024)).await;
        assert!(huge.len() <= 64, "a 20 KB id is replaced, not echoed ({} bytes)", huge.len());
        let odd = echoed("<script>alert(1)</script>".into()).await;
        assert!(!odd.contains('<'), "{odd}");
    }
}

on_both_backends! {
    async fn a_client_that_sends_no_headers_is_disconnected(db) {
        let app = spawn_app_with(db, |s| s.header_read_timeout_secs = 1).await;
        let mut tcp = TcpStream::connect(host(&app)).await.unwrap();
        tcp.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        // Never finish the headers: the server closes the connection.
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await;
        let n = read.expect("the server hangs up instead of waiting forever").unwrap_or(0);
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

on_both_backends! {
    async fn a_body_that_stops_arriving_answers_408(db) {
        let app = spawn_app_with(db, |s| s.body_idle_timeout_secs = 1).await;
        let mut tcp = TcpStream::connect(host(&app)).await.unwrap();
        let head = format!(
            "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"full_name\":",
            app.operator
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let answer = read_answer(&mut tcp).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"request_timeout\""), "{answer}");
        let contacts = app.get(&app.operator, "/contacts").await.expect(200);
        assert_eq!(contacts["items"], json!([]), "nothing was created");
    }
}

/// Reads from `tcp` until a whole JSON error body has arrived (or it closes).
async fn read_answer(tcp: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).ends_with("}}") {
        let read = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await;
        match read.expect("the server answers a stalled body").unwrap() {
            0 => break,
            n => answer.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

on_both_backends! {
    async fn connections_beyond_the_bound_wait_for_one_to_close(db) {
        let app = spawn_app_with(db, |s| s.max_connections = 1).await;
        // One idle connection holds the only slot.
        let holder = TcpStream::connect(host(&app)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let quick = reqwest::Client::builder().timeout(Duration::from_millis(700)).build().unwrap();
        assert!(quick.get(format!("{}/health", app.base)).send().await.is_err(), "no slot is free");
        drop(holder);
        let res = reqwest::Client::new().get(format!("{}/health", app.base)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "served once the slot is free");
    }
}

on_both_backends! {
    async fn a_token_over_its_rate_gets_429_with_retry_after_and_others_go_on(db) {
        let app = spawn_app_with(db, |s| s.rate_limit_per_token = 3).await;
        for _ in 0..3 {
            app.get(&app.operator, "/projects").await.expect(200);
        }
        let res = app.http.get(format!("{}/projects", app.base)).bearer_auth(&app.operator).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 429);
        let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let body = error_body(res).await;
        assert_eq!((body["error"]["code"].as_str(), body["error"]["details"]["limit"].as_str()), (Some("rate_limited"), Some("per_token")));
        app.get(&app.admin, "/projects").await.expect(200);
    }
}

on_both_backends! {
    async fn an_address_over_its_rate_gets_429(db) {
        let app = spawn_app_with(db, |s| s.rate_limit_per_address = 4).await;
        for _ in 0..4 {
            app.request(reqwest::Method::GET, None, "/health", None).await.expect(200);
        }
        let r = app.request(reqwest::Method::GET, None, "/health", None).await;
        assert_eq!((r.status.as_u16(), r.body["error"]["details"]["limit"].as_str()), (429, Some("per_address")));
    }
}

on_both_backends! {
    async fn repeated_failed_sign_ins_lock_the_address_out_even_for_a_good_token(db) {
        let app = spawn_app_with(db, |s| s.rate_limit_sign_in_failures = 5).await;
        for i in 0..5 {
            let r = app.get(&format!("ssot_{i:064}"), "/projects").await;
            assert_eq!(r.status.as_u16(), 401, "attempt {i}");
        }
        let r = app.get(&app.operator, "/projects").await;
        assert_eq!((r.status.as_u16(), r.body["error"]["details"]["limit"].as_str()), (429, Some("sign_in_failures")));
    }
}

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

fn unique_pdf(i: usize) -> Vec<u8> {
    [PDF, format!("% copy {i}\n").as_bytes()].concat()
}

on_both_backends! {
    async fn uploads_are_limited_more_strictly_than_other_requests(db) {
        let app = spawn_app_with(db, |s| s.rate_limit_uploads = 2).await;
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &["nda"]).await);
        let path = format!("/projects/{pid}/documents");
        for i in 0..2 {
            app.upload(&app.operator, &path, "nda", "nda.pdf", unique_pdf(i)).await.expect(201);
        }
        let r = app.upload(&app.operator, &path, "nda", "nda.pdf", unique_pdf(9)).await;
        assert_eq!((r.status.as_u16(), r.body["error"]["details"]["limit"].as_str()), (429, Some("uploads")));
        app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
    }
}

on_both_backends! {
    async fn a_subject_past_its_upload_quota_is_refused_and_nothing_is_stored(db) {
        let app = spawn_app_with(db, |s| { s.upload_quota_files = 2; s.upload_quota_bytes = 1_000_000; }).await;
        let anna = app.client_contact("Anna").await;
        let anna_t = app.token_for("client", &anna).await;
        let pid = id(&app.project(&anna, &["nda"]).await);
        let path = format!("/projects/{pid}/documents");
        for i in 0..2 {
            app.upload(&anna_t, &path, "nda", "nda.pdf", unique_pdf(i)).await.expect(201);
        }
        let before = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let r = app.upload(&anna_t, &path, "nda", "nda.pdf", unique_pdf(3)).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "quota_exceeded"), "{}", r.body);
        assert_eq!(r.body["error"]["details"]["max_files"], 2);
        assert_eq!(app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200), before);
        assert_eq!(app.upload_leftovers(), 0);

        // Bytes count too: another project, one file larger than its quota allows.
        let small = spawn_app_with(crate::helpers::TestDb::sqlite().await, |s| s.upload_quota_bytes = 1000).await;
        let piotr = small.client_contact("Piotr").await;
        let p2 = id(&small.project(&piotr, &["nda"]).await);
        let big = [PDF, &[b' '; 2000][..]].concat();
        let r = small.upload(&small.operator, &format!("/projects/{p2}/documents"), "nda", "nda.pdf", big).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "quota_exceeded"));
        assert_eq!(small.upload_leftovers(), 0);
    }
}
