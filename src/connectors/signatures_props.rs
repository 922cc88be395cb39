//! Property tests of the webhook signature checks: random bodies, signatures
//! and timestamps never verify; a correct signature does; and any one-byte
//! change to the body or the signature (or a stale timestamp) is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use sha1::Sha1;
use sha2::Sha256;
use time::OffsetDateTime;

use super::signatures::{HUBSPOT_MAX_AGE_MS, hub_hmac, hubspot_v3, sign_hub_hmac, trello};

const URI: &str = "https://hub.example/api/v1/webhooks/hubspot";
const CALLBACK: &str = "https://hub.example/api/v1/webhooks/trello";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

fn now_ms() -> i64 {
    (now().unix_timestamp_nanos() / 1_000_000) as i64
}

fn hubspot_sign(secret: &str, body: &[u8], ts: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("POST{URI}").as_bytes());
    mac.update(body);
    mac.update(ts.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

fn hubspot(secret: &str, body: &[u8], ts: &str, signature: &str) -> bool {
    hubspot_v3(secret, "POST", URI, body, Some(ts), Some(signature), now()).is_ok()
}

fn trello_sign(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    BASE64.encode(mac.finalize().into_bytes())
}

/// Trello's "binary" form: the low byte of each character of body + URL.
fn low_bytes(text: &str) -> Vec<u8> {
    text.chars().map(|c| (u32::from(c) & 0xFF) as u8).collect()
}

fn trello_ok(secret: &str, body: &[u8], signature: &str) -> bool {
    trello(secret, body, CALLBACK, Some(signature)).is_ok()
}

/// `bytes` with byte `at` changed by `mask` (never zero).
fn flipped(bytes: &[u8], at: prop::sample::Index, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = at.index(out.len());
    out[i] ^= mask;
    out
}

/// `text` with one character replaced by a different printable ASCII one.
fn changed_char(text: &str, at: prop::sample::Index, by: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let i = at.index(bytes.len());
    let replacement = b' ' + (bytes[i] - b' ' + 1 + by % 94) % 95;
    bytes[i] = replacement;
    String::from_utf8(bytes).expect("ASCII in, ASCII out")
}

fn secret() -> impl Strategy<Value = String> {
    "[ -~]{1,40}"
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..512)
}

/// A body as Trello sends one: JSON text, maybe with Polish letters.
fn text_body() -> impl Strategy<Value = String> {
    "\\{\"action\":\\{\"data\":\\{\"text\":\"[a-zA-Z0-9 ąęłńóśźżĄĘŁŃÓŚŹŻ!?.,]{1,80}\"\\}\\}\\}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hubspot_random_signatures_and_timestamps_never_verify(
        secret in secret(), body in body(), signature in "[A-Za-z0-9+/=]{0,60}", ts in any::<i64>(),
    ) {
        prop_assert!(!hubspot(&secret, &body, &ts.to_string(), &signature));
        prop_assert!(hubspot_v3(&secret, "POST", URI, &body, None, Some(&signature), now()).is_err());
        prop_assert!(hubspot_v3(&secret, "POST", URI, &body, Some(&ts.to_string()), None, now()).is_err());
    }

    #[test]
    fn hubspot_a_correct_signature_verifies_and_any_one_byte_change_fails(
        secret in secret(), body in body(), skew in -HUBSPOT_MAX_AGE_MS as i64..=HUBSPOT_MAX_AGE_MS as i64,
        at in any::<prop::sample::Index>(), mask in 1..=255u8, by in any::<u8>(),
    ) {
        let ts = (now_ms() + skew).to_string();
        let signature = hubspot_sign(&secret, &body, &ts);
        prop_assert!(hubspot(&secret, &body, &ts, &signature));
        prop_assert!(!hubspot(&secret, &flipped(&body, at, mask), &ts, &signature));
        prop_assert!(!hubspot(&secret, &body, &ts, &changed_char(&signature, at, by)));
        let other = format!("{secret}x");
        prop_assert!(!hubspot(&other, &body, &ts, &signature));
    }

    #[test]
    fn hubspot_a_correctly_signed_stale_request_is_refused(
        secret in secret(), body in body(), age in HUBSPOT_MAX_AGE_MS as i64 + 1..i64::MAX / 4, past in any::<bool>(),
    ) {
        let ms = if past { now_ms().saturating_sub(age) } else { now_ms().saturating_add(age) };
        let ts = ms.to_string();
        prop_assert!(!hubspot(&secret, &body, &ts, &hubspot_sign(&secret, &body, &ts)));
    }

    #[test]
    fn trello_random_signatures_never_verify(
        secret in secret(), body in body(), signature in "[A-Za-z0-9+/=]{0,40}",
    ) {
        prop_assert!(!trello_ok(&secret, &body, &signature));
        prop_assert!(trello(&secret, &body, CALLBACK, None).is_err());
    }

    #[test]
    fn trello_a_correct_signature_verifies_in_both_forms(secret in secret(), body in text_body()) {
        let utf8 = trello_sign(&secret, format!("{body}{CALLBACK}").as_bytes());
        let binary = trello_sign(&secret, &low_bytes(&format!("{body}{CALLBACK}")));
        prop_assert!(trello_ok(&secret, body.as_bytes(), &utf8));
        prop_assert!(trello_ok(&secret, body.as_bytes(), &binary));
        prop_assert!(trello(&secret, body.as_bytes(), "https://evil.example/", Some(&utf8)).is_err());
    }

    #[test]
    fn trello_any_one_byte_change_fails_under_the_utf8_signature(
        secret in secret(), body in body(), at in any::<prop::sample::Index>(), mask in 1..=255u8, by in any::<u8>(),
    ) {
        let signature = trello_sign(&secret, &[body.as_slice(), CALLBACK.as_bytes()].concat());
        prop_assert!(trello_ok(&secret, &body, &signature));
        prop_assert!(!trello_ok(&secret, &flipped(&body, at, mask), &signature));
        prop_assert!(!trello_ok(&secret, &body, &changed_char(&signature, at, by)));
    }

    #[test]
    fn trello_any_one_byte_change_to_an_ascii_body_fails_under_the_binary_signature(
        secret in secret(), body in "[ -~]{1,200}", at in any::<prop::sample::Index>(), mask in 1..=255u8,
    ) {
        let signature = trello_sign(&secret, &low_bytes(&format!("{body}{CALLBACK}")));
        prop_assert!(trello_ok(&secret, body.as_bytes(), &signature));
        prop_assert!(!trello_ok(&secret, &flipped(body.as_bytes(), at, mask), &signature));
    }

    #[test]
    fn hub_hmac_random_signatures_never_verify(
        secret in secret(), body in body(), signature in "(sha256=)?[0-9a-f]{0,64}",
    ) {
        prop_assert!(hub_hmac(&secret, &body, Some(&signature)).is_err());
        prop_assert!(hub_hmac(&secret, &body, None).is_err());
    }

    #[test]
    fn hub_hmac_a_correct_signature_verifies_and_any_one_byte_change_fails(
        secret in secret(), body in body(), at in any::<prop::sample::Index>(), mask in 1..=255u8, by in any::<u8>(),
    ) {
        let signature = sign_hub_hmac(&secret, &body);
        prop_assert!(hub_hmac(&secret, &body, Some(&signature)).is_ok());
        prop_assert!(hub_hmac(&secret, &flipped(&body, at, mask), Some(&signature)).is_err());
        let changed = changed_char(&signature, at, by);
        // Hex is read in either case: the same digest, not a change.
        if !changed.eq_ignore_ascii_case(&signature) {
            prop_assert!(hub_hmac(&secret, &body, Some(&changed)).is_err(), "{changed}");
        }
    }
}

#[test]
fn trello_an_invalid_utf8_body_is_not_read_as_another() {
    // Decoded lossily, every invalid byte became U+FFFD, whose low byte is
    // 0xFD: a body signed as [0xFD] verified as [0xFE], [0x80], ...
    let signature = trello_sign("app-secret", &[&[0xFD][..], CALLBACK.as_bytes()].concat());
    assert!(trello_ok("app-secret", &[0xFD], &signature));
    for forged in [0xFE, 0x80, 0xFF] {
        assert!(
            !trello_ok("app-secret", &[forged], &signature),
            "{forged:#x}"
        );
    }
}

/// Trello's binary form cannot tell apart characters with the same low
/// byte, such as 'ę' and a combining mark one lead byte away.
#[test]
#[ignore = "bug: Trello's binary-form check keeps only each character's low byte, so a one-byte change to a non-ASCII body still verifies"]
fn trello_a_one_byte_change_to_a_non_ascii_body_fails_under_the_binary_signature() {
    let body = "{\"action\":{\"data\":{\"text\":\"Dzięki, zatwierdzam\"}}}";
    let signature = trello_sign("app-secret", &low_bytes(&format!("{body}{CALLBACK}")));
    assert!(trello_ok("app-secret", body.as_bytes(), &signature));
    // 'ę' is C4 99 (U+0119); CC 99 is U+0319, whose low byte is also 0x19.
    let forged = body.replace('ę', "\u{319}");
    assert_eq!(forged.len(), body.len());
    assert!(!trello_ok("app-secret", forged.as_bytes(), &signature));
}
