//! Checks of the signatures vendors put on their webhooks (and ours, on the
//! Google Forms intake). Pure functions: the HTTP layer hands over the raw
//! body and headers; comparisons are constant-time (`Mac::verify_slice`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;
use time::OffsetDateTime;

/// HubSpot refuses to count a request older than this as fresh.
pub const HUBSPOT_MAX_AGE_MS: i128 = 5 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no {0} header")]
    Missing(&'static str),
    #[error("the signature header is not well-formed")]
    Malformed,
    #[error("the request is too old or from the future (timestamp {0})")]
    Stale(i64),
    #[error("the signature does not match")]
    Mismatch,
}

/// HubSpot's v3 signature: base64(HMAC-SHA256(client secret, method + uri +
/// body + timestamp)), with the timestamp (epoch ms) at most five minutes off.
pub fn hubspot_v3(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("X-HubSpot-Request-Timestamp"))?;
    let signature = signature.ok_or(SignatureError::Missing("X-HubSpot-Signature-v3"))?;
    let ms: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Malformed)?;
    let now_ms = now.unix_timestamp_nanos() / 1_000_000;
    if (now_ms - i128::from(ms)).abs() > HUBSPOT_MAX_AGE_MS {
        return Err(SignatureError::Stale(ms));
    }
    let expected = BASE64
        .decode(signature.trim())
        .map_err(|_| SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.trim().as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Trello's signature: base64(HMAC-SHA1(app secret, body + callback URL)).
/// Trello hashes the text as a Node "binary" string, which keeps only the low
/// byte of each character; both that and the plain UTF-8 bytes are accepted,
/// as either needs the secret.
pub fn trello(
    secret: &str,
    body: &[u8],
    callback_url: &str,
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing("X-Trello-Webhook"))?;
    let expected = BASE64
        .decode(signature.trim())
        .map_err(|_| SignatureError::Malformed)?;
    let check = |message: &[u8]| {
        let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(message);
        mac.verify_slice(&expected).is_ok()
    };
    let utf8 = [body, callback_url.as_bytes()].concat();
    if check(&utf8) {
        return Ok(());
    }
    // Trello's bodies are UTF-8. Decoding anything else lossily would make
    // every invalid byte the same character, and so interchangeable.
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(SignatureError::Mismatch);
    };
    let binary: Vec<u8> = text
        .chars()
        .chain(callback_url.chars())
        .map(|c| (u32::from(c) & 0xFF) as u8)
        .collect();
    if check(&binary) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Our own signature for senders without one (the Apps Script that posts Google
/// Forms answers): `sha256=` and the hex HMAC-SHA256 of the body.
pub fn hub_hmac(secret: &str, body: &[u8], signature: Option<&str>) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing("X-SSoT-Signature"))?;
    let hex_digest = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Signs like [`hub_hmac`] checks (for tests and senders written in Rust).
pub fn sign_hub_hmac(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hubspot_sign(secret: &str, uri: &str, body: &str, ts: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("POST{uri}{body}{ts}").as_bytes());
        BASE64.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn hubspot_signatures_must_match_and_be_fresh() {
        let now = OffsetDateTime::now_utc();
        let ts = (now.unix_timestamp_nanos() / 1_000_000).to_string();
        let uri = "https://hub.example/api/v1/webhooks/hubspot";
        let body = r#"[{"objectId":51}]"#;
        let good = hubspot_sign("s3cret", uri, body, &ts);
        let check = |sig: &str, ts: &str, body: &str| {
            hubspot_v3(
                "s3cret",
                "POST",
                uri,
                body.as_bytes(),
                Some(ts),
                Some(sig),
                now,
            )
        };
        assert_eq!(check(&good, &ts, body), Ok(()));
        assert_eq!(
            check(&good, &ts, r#"[{"objectId":52}]"#),
            Err(SignatureError::Mismatch)
        );
        let forged = hubspot_sign("guess", uri, body, &ts);
        assert_eq!(check(&forged, &ts, body), Err(SignatureError::Mismatch));
        let old = (now.unix_timestamp_nanos() / 1_000_000 - 6 * 60 * 1000).to_string();
        let stale = hubspot_sign("s3cret", uri, body, &old);
        assert!(matches!(
            check(&stale, &old, body),
            Err(SignatureError::Stale(_))
        ));
        assert_eq!(check("%%%", &ts, body), Err(SignatureError::Malformed));
        assert_eq!(
            hubspot_v3("s3cret", "POST", uri, body.as_bytes(), Some(&ts), None, now),
            Err(SignatureError::Missing("X-HubSpot-Signature-v3"))
        );
    }

    #[test]
    fn trello_signatures_cover_body_and_callback_url() {
        let url = "https://hub.example/api/v1/webhooks/trello";
        let body = r#"{"action":{"type":"commentCard","data":{"text":"Dzięki!"}}}"#;
        let sign = |message: &[u8]| {
            let mut mac = Hmac::<Sha1>::new_from_slice(b"app-secret").unwrap();
            mac.update(message);
            BASE64.encode(mac.finalize().into_bytes())
        };
        let utf8 = sign(&[body.as_bytes(), url.as_bytes()].concat());
        assert_eq!(
            trello("app-secret", body.as_bytes(), url, Some(&utf8)),
            Ok(())
        );
        let binary: Vec<u8> = format!("{body}{url}")
            .chars()
            .map(|c| (u32::from(c) & 0xFF) as u8)
            .collect();
        assert_eq!(
            trello("app-secret", body.as_bytes(), url, Some(&sign(&binary))),
            Ok(())
        );
        let other_url = sign(&[body.as_bytes(), b"https://evil.example/"].concat());
        assert_eq!(
            trello("app-secret", body.as_bytes(), url, Some(&other_url)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            trello("app-secret", body.as_bytes(), url, None),
            Err(SignatureError::Missing("X-Trello-Webhook"))
        );
    }

    #[test]
    fn our_own_signature_round_trips() {
        let sig = sign_hub_hmac("shared", b"{\"response_id\":\"r1\"}");
        assert_eq!(
            hub_hmac("shared", b"{\"response_id\":\"r1\"}", Some(&sig)),
            Ok(())
        );
        assert_eq!(
            hub_hmac("shared", b"{\"response_id\":\"r2\"}", Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            hub_hmac("shared", b"x", Some("md5=00")),
            Err(SignatureError::Malformed)
        );
    }
}
