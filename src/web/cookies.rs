//! The pages' cookies, in one place: the session, the form token of a
//! visitor not signed in, and the language a visitor chose.

use axum::http::{HeaderMap, HeaderValue, header};

pub const SESSION: &str = "ssot_session";
pub const CSRF: &str = "ssot_csrf";
pub const LANGUAGE: &str = "ssot_lang";

/// The value of cookie `name` in the request, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// How cookies are set for this hub.
#[derive(Clone, Copy, Debug)]
pub struct CookiePolicy {
    /// Send only over HTTPS.
    pub secure: bool,
}

impl CookiePolicy {
    fn build(self, name: &str, value: &str, same_site: &str, max_age: Option<i64>) -> HeaderValue {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        HeaderValue::from_str(&cookie).expect("cookie values are hex or fixed words")
    }

    /// The session cookie: `Lax`, so following a link from an e-mail to the
    /// hub arrives signed in, while cross-site posts carry no session.
    pub fn session(self, secret: &str, max_age_secs: i64) -> HeaderValue {
        self.build(SESSION, secret, "Lax", Some(max_age_secs))
    }

    pub fn clear_session(self) -> HeaderValue {
        self.build(SESSION, "", "Lax", Some(0))
    }

    /// The form token of a visitor without a session: `Strict`, never sent
    /// by another site.
    pub fn csrf(self, token: &str) -> HeaderValue {
        self.build(CSRF, token, "Strict", None)
    }

    pub fn language(self, code: &str) -> HeaderValue {
        self.build(LANGUAGE, code, "Lax", Some(365 * 24 * 3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others_and_set_with_their_flags() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ssot_session=abc; b=2"),
        );
        assert_eq!(get(&headers, SESSION), Some("abc"));
        assert_eq!(get(&headers, CSRF), None);
        let set = CookiePolicy { secure: true }.session("abc", 60);
        let set = set.to_str().unwrap();
        for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Max-Age=60", "Path=/"] {
            assert!(set.contains(flag), "{set}");
        }
        let plain = CookiePolicy { secure: false }.csrf("t");
        assert!(!plain.to_str().unwrap().contains("Secure"));
        assert!(plain.to_str().unwrap().contains("SameSite=Strict"));
    }
}
