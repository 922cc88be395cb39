//! Hostile JSON requests: broken and deep bodies, huge strings, unicode tricks,
//! wrong content types and methods, odd paths and queries, bad credentials.

use reqwest::Method;
use serde_json::json;

use super::{Case, Ctx, Raw, refused, snapshot};
use crate::helpers::{id, on_both_backends, spawn_app_with};
use crate::hostile::no_rate_limits;

/// Small, so an oversized body is cheap to send.
const BODY_MAX: usize = 96 * 1024;

fn post(c: &Ctx, path: &str, body: impl Into<Vec<u8>>) -> Raw {
    Raw::json(c, Method::POST, path, body)
}

/// A project body for the context's client with `field` set to `value`.
fn project_with(c: &Ctx, field: &str, value: serde_json::Value) -> Raw {
    let mut body =
        json!({ "client_id": c.client_id, "title": "Invoices", "spec": "Automate them" });
    body[field] = value;
    post(c, "/projects", body.to_string())
}

/// A contact body with `field` set to `value`.
fn contact_with(c: &Ctx, field: &str, value: serde_json::Value) -> Raw {
    let mut body = json!({ "full_name": "Ewa Nowak", "email": "ewa@nowak.pl" });
    body[field] = value;
    post(c, "/contacts", body.to_string())
}

fn deep(open: &str, n: usize) -> String {
    open.repeat(n)
}

fn transition(c: &Ctx, body: impl Into<Vec<u8>>) -> Raw {
    post(c, &format!("/projects/{}/transitions", c.project_id), body)
}

fn bearer(value: &[u8]) -> Raw {
    Raw::new(Method::GET, "/projects").header("authorization", value.to_vec())
}

const BAD: Option<&str> = Some("bad_request");
const INVALID: Option<&str> = Some("validation_failed");
const MEDIA: Option<&str> = Some("unsupported_media_type");
const UNAUTHORIZED: Option<&str> = Some("unauthorized");

#[rustfmt::skip]
pub const CASES: [Case; 52] = [
    // Bodies that are not the JSON asked for.
    Case { name: "10 000 opening brackets", make: |c| post(c, "/projects", deep("[", 10_000)), status: 400, code: BAD },
    Case { name: "5 000 nested objects", make: |c| post(c, "/contacts", deep("{\"full_name\":", 5_000)), status: 400, code: BAD },
    Case { name: "intake nested 10 000 deep", make: |c| post(c, "/projects", format!("{{\"client_id\":\"{}\",\"title\":\"t\",\"spec\":\"s\",\"intake\":{{\"a\":{}1{}}}}}", c.client_id, deep("[", 10_000), deep("]", 10_000))), status: 400, code: BAD },
    Case { name: "a transition nested 10 000 deep", make: |c| transition(c, format!("{{\"action\":\"cancel\",\"reason\":{}", deep("{\"a\":", 10_000))), status: 400, code: BAD },
    Case { name: "a body over max_body_bytes", make: |c| project_with(c, "spec", json!("x".repeat(BODY_MAX + 1))), status: 413, code: Some("payload_too_large") },
    Case { name: "invalid UTF-8 in a string", make: |c| post(c, "/contacts", b"{\"full_name\":\"Ewa \xff\xfe\",\"email\":\"ewa@nowak.pl\"}".to_vec()), status: 400, code: BAD },
    Case { name: "a raw NUL byte", make: |c| post(c, "/contacts", b"{\"full_name\":\"Ewa\0\",\"email\":\"ewa@nowak.pl\"}".to_vec()), status: 400, code: BAD },
    Case { name: "a UTF-8 byte order mark", make: |c| post(c, "/contacts", "\u{feff}{\"full_name\":\"Ewa\",\"email\":\"ewa@nowak.pl\"}"), status: 400, code: BAD },
    Case { name: "trailing garbage", make: |c| post(c, "/contacts", "{\"full_name\":\"Ewa\",\"email\":\"ewa@nowak.pl\"} <script>"), status: 400, code: BAD },
    Case { name: "a key twice", make: |c| post(c, "/contacts", "{\"full_name\":\"Ewa\",\"full_name\":\"Eve\",\"email\":\"ewa@nowak.pl\"}"), status: 400, code: BAD },
    Case { name: "an array for an object", make: |c| post(c, "/contacts", "[{\"full_name\":\"Ewa\",\"email\":\"ewa@nowak.pl\"}]"), status: 400, code: BAD },
    Case { name: "an empty body", make: |c| post(c, "/contacts", ""), status: 400, code: BAD },
    Case { name: "null", make: |c| post(c, "/contacts", "null"), status: 400, code: BAD },
    Case { name: "a number beyond f64", make: |c| post(c, "/experts", "{\"full_name\":\"Jan\",\"email\":\"jan@x.pl\",\"hourly_rate\":1e400}"), status: 400, code: BAD },
    Case { name: "a capacity beyond u32", make: |c| post(c, "/experts", "{\"full_name\":\"Jan\",\"email\":\"jan@x.pl\",\"capacity\":4294967296}"), status: 400, code: BAD },
    Case { name: "a string for a number", make: |c| post(c, "/experts", "{\"full_name\":\"Jan\",\"email\":\"jan@x.pl\",\"capacity\":\"2\"}"), status: 400, code: BAD },
    Case { name: "an unknown action", make: |c| transition(c, "{\"action\":\"approve_everything\"}"), status: 400, code: BAD },
    Case { name: "an unknown field", make: |c| contact_with(c, "is_admin", json!(true)), status: 400, code: BAD },
    // Well-formed JSON that breaks the rules.
    Case { name: "a title of 50 000 characters", make: |c| project_with(c, "title", json!("t".repeat(50_000))), status: 422, code: INVALID },
    Case { name: "an escaped NUL in a name", make: |c| contact_with(c, "full_name", json!("Ewa\u{0}Nowak")), status: 422, code: INVALID },
    Case { name: "a newline in a name", make: |c| contact_with(c, "full_name", json!("Ewa\nNowak")), status: 422, code: INVALID },
    Case { name: "an RTL override in a tax id", make: |c| contact_with(c, "tax_id", json!("526\u{202e}-000-12-46")), status: 422, code: INVALID },
    Case { name: "a zero-width space in an e-mail", make: |c| contact_with(c, "email", json!("ewa\u{200b}@nowak.pl")), status: 422, code: INVALID },
    Case { name: "an RTL override in an e-mail", make: |c| contact_with(c, "email", json!("ewa\u{202e}lp.kawon@nowak.pl")), status: 422, code: INVALID },
    Case { name: "an e-mail with a display name", make: |c| contact_with(c, "email", json!("Ewa <ewa@nowak.pl>")), status: 422, code: INVALID },
    Case { name: "emoji as a phone number", make: |c| contact_with(c, "phone", json!("📞📞📞📞📞📞")), status: 422, code: INVALID },
    Case { name: "fullwidth digits as a tax id", make: |c| contact_with(c, "tax_id", json!("５２６０００１２４６")), status: 422, code: INVALID },
    Case { name: "an RTL override in a skill", make: |c| project_with(c, "skills", json!(["auto\u{202e}noitam"])), status: 422, code: INVALID },
    Case { name: "10 000 skills", make: |c| project_with(c, "skills", json!(vec!["x"; 10_000])), status: 422, code: INVALID },
    Case { name: "a document type with a path", make: |c| project_with(c, "required_documents", json!(["../../etc/passwd"])), status: 422, code: INVALID },
    Case { name: "intake answers over 64 KiB", make: |c| project_with(c, "intake", json!({ "notes": "n".repeat(70_000) })), status: 422, code: INVALID },
    Case { name: "an unknown client", make: |c| project_with(c, "client_id", json!("01234567-89ab-7def-8123-456789abcdef")), status: 422, code: INVALID },
    Case { name: "a negative rate", make: |c| post(c, "/experts", "{\"full_name\":\"Jan\",\"email\":\"jan@x.pl\",\"hourly_rate\":-1}"), status: 422, code: INVALID },
    Case { name: "a blank reason", make: |c| transition(c, "{\"action\":\"cancel\",\"reason\":\"\\u200b\\u00a0 \"}"), status: 422, code: INVALID },
    // The body in a form the API does not take.
    Case { name: "JSON sent as text/plain", make: |c| Raw::new(Method::POST, "/contacts").auth(c).header("content-type", "text/plain").body("{\"full_name\":\"Ewa\",\"email\":\"ewa@nowak.pl\"}"), status: 415, code: MEDIA },
    Case { name: "XML", make: |c| Raw::new(Method::POST, "/contacts").auth(c).header("content-type", "application/xml").body("<contact><full_name>Ewa</full_name></contact>"), status: 415, code: MEDIA },
    Case { name: "no content type", make: |c| Raw::new(Method::POST, "/contacts").auth(c).body("{\"full_name\":\"Ewa\",\"email\":\"ewa@nowak.pl\"}"), status: 415, code: MEDIA },
    Case { name: "a form post", make: |c| Raw::new(Method::POST, "/contacts").auth(c).header("content-type", "application/x-www-form-urlencoded").body("full_name=Ewa&email=ewa%40nowak.pl"), status: 415, code: MEDIA },
    // Methods, paths and queries.
    
    Case { name: "DELETE on a collection", make: |c| Raw::new(Method::DELETE, "/projects").auth(c), status: 405, code: None }, // TODO(json-errors)
    Case { name: "PUT on a project", make: |c| Raw::json(c, Method::PUT, &format!("/projects/{}", c.project_id), "{}"), status: 405, code: None }, // TODO(json-errors)
    Case { name: "a CORS preflight", make: |_| Raw::new(Method::OPTIONS, "/projects").header("origin", "https://evil.example").header("access-control-request-method", "DELETE"), status: 403, code: Some("cors_not_allowed") },
    Case { name: "an RTL override as a project id", make: |c| Raw::new(Method::GET, "/projects/%E2%80%AE1234").auth(c), status: 400, code: BAD },
    Case { name: "a traversal as a project id", make: |c| Raw::new(Method::GET, "/projects/..%2F..%2Fetc%2Fpasswd").auth(c), status: 400, code: BAD },
    Case { name: "a limit beyond u32", make: |c| Raw::new(Method::GET, "/projects?limit=99999999999999999999").auth(c), status: 400, code: BAD },
    Case { name: "invalid UTF-8 in a query", make: |c| Raw::new(Method::GET, "/projects?state=%FF%FE").auth(c), status: 400, code: BAD },
    Case { name: "SQL in a query", make: |c| Raw::new(Method::GET, "/projects?state=active'%20OR%20'1'='1").auth(c), status: 400, code: BAD },
    // Credentials.
    Case { name: "no Authorization header", make: |_| Raw::new(Method::GET, "/projects"), status: 401, code: UNAUTHORIZED },
    Case { name: "an empty bearer token", make: |_| bearer(b"Bearer "), status: 401, code: UNAUTHORIZED },
    Case { name: "basic credentials", make: |_| bearer(b"Basic b2xnYTpzZWNyZXQ="), status: 401, code: UNAUTHORIZED },
    Case { name: "a bearer token of 16 KB", make: |_| bearer(format!("Bearer ssot_{}", "a".repeat(16 * 1024)).as_bytes()), status: 401, code: UNAUTHORIZED },
    Case { name: "non-ASCII bytes in the token", make: |_| bearer(b"Bearer ssot_\xff\xfe\xc3\x28"), status: 401, code: UNAUTHORIZED },
    Case { name: "SQL as the token", make: |_| bearer(b"Bearer ' OR '1'='1"), status: 401, code: UNAUTHORIZED },
];

on_both_backends! {
    async fn hostile_requests_get_a_clear_4xx_and_change_nothing(db) {
        let app = spawn_app_with(db, |s| { s.max_body_bytes = BODY_MAX; no_rate_limits(s); }).await;
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        let c = Ctx { base: app.base.clone(), token: app.operator.clone(), client_id: id(&anna), project_id: pid };
        let before = snapshot(&app, &c).await;

        refused(&app, &c, &CASES).await;

        assert_eq!(snapshot(&app, &c).await, before, "nothing changed");
    }
}
