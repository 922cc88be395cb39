//! Request rate limits with `governor`: per client address, per token, a
//! stricter one for uploads, and a lockout after repeated failed sign-ins
//! (answers of 401) from one address. Over a limit the answer is 429 with
//! `Retry-After`. Keys are kept in memory and swept of idle ones each minute.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// Requests per minute for each kind of limit; 0 switches one off.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitSettings {
    pub per_address: u32,
    pub per_token: u32,
    pub uploads: u32,
    pub sign_in_failures: u32,
    /// Take the client's address from the last `X-Forwarded-For` entry (set
    /// by the reverse proxy in front), not from the connection.
    pub trust_forwarded_for: bool,
}

type Keyed<K> = DefaultKeyedRateLimiter<K>;

fn keyed<K: Clone + Hash + Eq>(per_minute: u32) -> Option<Keyed<K>> {
    NonZeroU32::new(per_minute).map(|n| Keyed::keyed(Quota::per_minute(n)))
}

/// Counts failures per key and, once a key has used up its quota of `n` a
/// minute, refuses it outright until the quota lets it try again: after the
/// `n`-th failure in a burst the next attempt must wait.
#[derive(Debug)]
pub struct Throttle<K: Clone + Hash + Eq> {
    failures: Keyed<K>,
    locked: Mutex<HashMap<K, Instant>>,
}

impl<K: Clone + Hash + Eq> Throttle<K> {
    pub fn per_minute(n: NonZeroU32) -> Self {
        // The failure that empties the bucket is the one that locks, so the
        // bucket holds one fewer than the quota (governor needs at least one).
        let burst = NonZeroU32::new(n.get() - 1).unwrap_or(NonZeroU32::MIN);
        Self {
            failures: Keyed::keyed(Quota::per_minute(n).allow_burst(burst)),
            locked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait, if it is locked out.
    pub fn wait(&self, key: &K) -> Option<Duration> {
        let locked = self.locked.lock().expect("the lockout map is not poisoned");
        locked
            .get(key)
            .and_then(|until| until.checked_duration_since(Instant::now()))
    }

    /// Records a failure; the quota's last one locks the key out.
    pub fn failed(&self, key: &K) {
        if let Err(not_until) = self.failures.check_key(key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut locked = self.locked.lock().expect("the lockout map is not poisoned");
            locked.insert(key.clone(), Instant::now() + wait);
        }
    }

    fn sweep(&self) {
        self.failures.retain_recent();
        let now = Instant::now();
        let mut locked = self.locked.lock().expect("the lockout map is not poisoned");
        locked.retain(|_, until| *until > now);
    }
}

/// Which limit refused a request, as named in the answer.
const PER_ADDRESS: &str = "per_address";
const PER_TOKEN: &str = "per_token";
const UPLOADS: &str = "uploads";
const SIGN_IN: &str = "sign_in_failures";

/// The limiters of one server; cheap to clone.
#[derive(Clone, Debug)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    per_address: Option<Keyed<IpAddr>>,
    per_token: Option<Keyed<[u8; 32]>>,
    uploads: Option<Keyed<[u8; 32]>>,
    sign_in: Option<Throttle<IpAddr>>,
    /// Failed sign-ins per account (the hash of the address typed), for the pages.
    sign_in_account: Option<Throttle<[u8; 32]>>,
    trust_forwarded_for: bool,
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                per_address: keyed(settings.per_address),
                per_token: keyed(settings.per_token),
                uploads: keyed(settings.uploads),
                sign_in: NonZeroU32::new(settings.sign_in_failures).map(Throttle::per_minute),
                sign_in_account: NonZeroU32::new(settings.sign_in_failures)
                    .map(Throttle::per_minute),
                trust_forwarded_for: settings.trust_forwarded_for,
            }),
        }
    }

    /// Forgets keys whose limits are back to full, so memory stays bounded.
    pub fn sweep(&self) {
        let i = &self.inner;
        if let Some(l) = &i.per_address {
            l.retain_recent();
            l.shrink_to_fit();
        }
        for l in [&i.per_token, &i.uploads].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(t) = &i.sign_in {
            t.sweep();
        }
        if let Some(t) = &i.sign_in_account {
            t.sweep();
        }
    }

    /// The client's address: the connection's peer, or what the trusted
    /// proxy in front appended to `X-Forwarded-For`.
    pub fn client_address(&self, req: &Request) -> Option<IpAddr> {
        self.client_address_of(req.headers(), req.extensions())
    }

    /// [`Self::client_address`] from a request's parts.
    pub fn client_address_of(
        &self,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Option<IpAddr> {
        if self.inner.trust_forwarded_for
            && let Some(forwarded) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return Some(forwarded);
        }
        extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
    }

    /// The per-address sign-in throttle.
    pub fn sign_in(&self) -> Option<&Throttle<IpAddr>> {
        self.inner.sign_in.as_ref()
    }

    /// How long a sign-in as `account` (a lower-cased e-mail) from `address`
    /// must wait, when either is locked out.
    pub fn sign_in_wait(&self, account: &str, address: Option<IpAddr>) -> Option<Duration> {
        let i = &self.inner;
        let by_account = i
            .sign_in_account
            .as_ref()
            .and_then(|t| t.wait(&digest(account.as_bytes())));
        let by_address = i
            .sign_in
            .as_ref()
            .zip(address)
            .and_then(|(t, a)| t.wait(&a));
        by_account.max(by_address)
    }

    /// Counts a wrong password for `account`; the address is counted by the
    /// middleware from the answer's 401.
    pub fn sign_in_failed(&self, account: &str) {
        if let Some(t) = &self.inner.sign_in_account {
            t.failed(&digest(account.as_bytes()));
        }
    }

    fn check(&self, req: &Request, address: Option<IpAddr>) -> Result<(), ApiError> {
        let i = &self.inner;
        // The pages answer a locked-out sign-in themselves, as a page; the
        // rest of them stay usable for a signed-in person at that address.
        if let (Some(t), Some(a)) = (&i.sign_in, address)
            && req.uri().path().starts_with("/api/")
            && let Some(wait) = t.wait(&a)
        {
            return Err(refused(wait, SIGN_IN));
        }
        if let (Some(l), Some(a)) = (&i.per_address, address) {
            l.check_key(&a).map_err(|n| refused_at(&n, PER_ADDRESS))?;
        }
        let caller = bearer_key(req);
        if let (Some(l), Some(key)) = (&i.per_token, caller) {
            l.check_key(&key).map_err(|n| refused_at(&n, PER_TOKEN))?;
        }
        if let Some(l) = &i.uploads
            && is_upload(req)
        {
            // Uploads count per token, or per address without one.
            let key = caller.or_else(|| address.map(|a| digest(a.to_string().as_bytes())));
            if let Some(key) = key {
                l.check_key(&key).map_err(|n| refused_at(&n, UPLOADS))?;
            }
        }
        Ok(())
    }
}

type Instant_ = <DefaultClock as Clock>::Instant;

fn refused_at(not_until: &governor::NotUntil<Instant_>, limit: &'static str) -> ApiError {
    refused(
        not_until.wait_time_from(DefaultClock::default().now()),
        limit,
    )
}

fn refused(wait: Duration, limit: &'static str) -> ApiError {
    ApiError::rate_limited(retry_after_secs(wait), limit)
}

/// `wait` in whole seconds, rounded up and at least one, for `Retry-After`:
/// a client waiting exactly this long gets in.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The bearer token's hash, so no secret is kept as a key in memory.
fn bearer_key(req: &Request) -> Option<[u8; 32]> {
    req.headers()
        .get(header::AUTHORIZATION)
        .map(|v| digest(v.as_bytes()))
}

fn is_upload(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// The middleware: refuses over-limit requests with 429, and counts each 401
/// against the caller's address.
pub async fn rate_limit(State(limits): State<RateLimits>, req: Request, next: Next) -> Response {
    let address = limits.client_address(&req);
    if let Err(refusal) = limits.check(&req, address) {
        tracing::info!(?address, "request refused by a rate limit");
        return refusal.into_response();
    }
    let res = next.run(req).await;
    if res.status() == StatusCode::UNAUTHORIZED
        && let (Some(t), Some(a)) = (limits.sign_in(), address)
    {
        t.failed(&a);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_locks_out_after_its_quota_of_failures() {
        let t = Throttle::per_minute(NonZeroU32::new(3).unwrap());
        let key = "203.0.113.7".parse::<IpAddr>().unwrap();
        for _ in 0..2 {
            assert!(t.wait(&key).is_none());
            t.failed(&key);
        }
        assert!(t.wait(&key).is_none(), "two failures are within the quota");
        t.failed(&key);
        let wait = t.wait(&key).expect("the third locks the address out");
        assert!(wait <= Duration::from_secs(20), "{wait:?}");
        let other = "203.0.113.8".parse::<IpAddr>().unwrap();
        assert!(t.wait(&other).is_none(), "other addresses are not affected");
    }

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        let e = refused(Duration::from_millis(1200), PER_TOKEN);
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        let res = e.into_response();
        assert_eq!(res.headers()[header::RETRY_AFTER], "2");
        let zero = refused(Duration::ZERO, PER_TOKEN).into_response();
        assert_eq!(zero.headers()[header::RETRY_AFTER], "1");
    }
}
