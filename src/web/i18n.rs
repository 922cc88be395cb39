//! Translations and local formats. Every visible string is a key in the
//! Fluent files under `locales/` (Polish and English, the same keys in
//! both, checked by a test); dates are shown in the hub's time zone and
//! amounts in its currency, each as the reader's language writes them.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use time::OffsetDateTime;
use unic_langid::{LanguageIdentifier, langid};

use crate::domain::user::Locale;

static_loader! {
    static LOCALES = {
        locales: "./src/web/locales",
        fallback_language: "pl",
        // Unicode isolation marks would show up in attribute values and tests.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

const PL: LanguageIdentifier = langid!("pl");
const EN: LanguageIdentifier = langid!("en");

/// How amounts and times are shown, from the settings.
#[derive(Clone, Debug)]
pub struct Formats {
    pub currency: String,
    pub time_zone: jiff::tz::TimeZone,
}

/// The reader's language and the hub's formats: what templates translate
/// and format with.
#[derive(Clone, Debug)]
pub struct Tr {
    pub locale: Locale,
    formats: std::sync::Arc<Formats>,
}

impl Default for Formats {
    fn default() -> Self {
        Self {
            currency: "PLN".into(),
            time_zone: jiff::tz::TimeZone::get("Europe/Warsaw").unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }
}

impl Tr {
    pub fn new(locale: Locale, formats: std::sync::Arc<Formats>) -> Self {
        Self { locale, formats }
    }

    fn lang(&self) -> &'static LanguageIdentifier {
        static PL_ID: LanguageIdentifier = PL;
        static EN_ID: LanguageIdentifier = EN;
        match self.locale {
            Locale::Pl => &PL_ID,
            Locale::En => &EN_ID,
        }
    }

    /// The message `key`; the key itself when missing, so a gap shows
    /// rather than vanishing (the locale test keeps them from shipping).
    pub fn t(&self, key: &str) -> String {
        LOCALES
            .try_lookup(self.lang(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The message `key`, or `fallback` when there is none (names that come
    /// from data, such as an audit event's action).
    pub fn t_or(&self, key: &str, fallback: &str) -> String {
        LOCALES
            .try_lookup(self.lang(), key)
            .unwrap_or_else(|| fallback.to_owned())
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: impl ToString) -> String {
        self.t_with(key, &[(name, value.to_string())])
    }

    /// The message `key` with its arguments; numbers stay numbers, so
    /// plural rules apply.
    pub fn t_with(&self, key: &str, values: &[(&str, String)]) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        for (name, value) in values {
            let fluent = match value.parse::<f64>() {
                Ok(n) => FluentValue::from(n),
                Err(_) => FluentValue::from(value.as_str()),
            };
            args.insert(Cow::Owned((*name).to_owned()), fluent);
        }
        LOCALES
            .try_lookup_with_args(self.lang(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The language code for `<html lang>`.
    pub fn lang_code(&self) -> &'static str {
        self.locale.as_str()
    }

    /// A moment in the hub's time zone: `7.12.2026 15:40` or `7 Dec 2026, 15:40`.
    pub fn datetime(&self, at: impl Borrow<OffsetDateTime>) -> String {
        let at = at.borrow();
        let Ok(ts) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
            return String::new();
        };
        let local = ts.to_zoned_datetime(self.formats.time_zone.clone());
        match self.locale {
            Locale::Pl => local.strftime("%-d.%m.%Y %H:%M").to_string(),
            Locale::En => local.strftime("%-d %b %Y, %H:%M").to_string(),
        }
    }

    /// A calendar date: `7.12.2026` or `7 Dec 2026`.
    pub fn date(&self, date: impl Borrow<time::Date>) -> String {
        let date = date.borrow();
        let month = u8::from(date.month());
        match self.locale {
            Locale::Pl => format!("{}.{month:02}.{}", date.day(), date.year()),
            Locale::En => format!(
                "{} {} {}",
                date.day(),
                &date.month().to_string()[..3],
                date.year()
            ),
        }
    }

    /// Whole days since `at`.
    pub fn days_since(&self, at: impl Borrow<OffsetDateTime>) -> i64 {
        (OffsetDateTime::now_utc() - *at.borrow())
            .whole_days()
            .max(0)
    }

    /// An amount in the hub's currency, rounded to whole units:
    /// `36 000 zł` / `PLN 36,000`.
    pub fn money(&self, amount: impl Borrow<f64>) -> String {
        let amount = amount.borrow();
        let digits = group(amount.abs().round() as u64, self.separator());
        let sign = if *amount < -0.5 { "-" } else { "" };
        match (self.locale, self.formats.currency.as_str()) {
            (Locale::Pl, "PLN") => format!("{sign}{digits}\u{a0}zł"),
            (Locale::Pl, code) => format!("{sign}{digits}\u{a0}{code}"),
            (Locale::En, code) => format!("{sign}{code}\u{a0}{digits}"),
        }
    }

    /// A count with the language's digit grouping.
    pub fn number(&self, n: impl Borrow<i64>) -> String {
        let n = n.borrow();
        let digits = group(n.unsigned_abs(), self.separator());
        if *n < 0 { format!("-{digits}") } else { digits }
    }

    fn separator(&self) -> char {
        match self.locale {
            // Polish groups with a (no-break) space, English with a comma.
            Locale::Pl => '\u{a0}',
            Locale::En => ',',
        }
    }
}

/// `1234567` as `1,234,567` with `sep`; Polish leaves four-digit numbers whole.
fn group(n: u64, sep: char) -> String {
    let digits = n.to_string();
    if sep == '\u{a0}' && digits.len() <= 4 {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn tr(locale: Locale) -> Tr {
        Tr::new(
            locale,
            std::sync::Arc::new(Formats {
                currency: "PLN".into(),
                time_zone: jiff::tz::TimeZone::get("Europe/Warsaw").unwrap(),
            }),
        )
    }

    fn keys(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains('='))
            .map(|l| l.split('=').next().unwrap().trim().to_owned())
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let pl = keys(include_str!("locales/pl/main.ftl"));
        let en = keys(include_str!("locales/en/main.ftl"));
        assert!(pl.len() > 50, "{}", pl.len());
        let only_pl: Vec<_> = pl.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&pl).collect();
        assert!(
            only_pl.is_empty() && only_en.is_empty(),
            "only in pl: {only_pl:?}; only in en: {only_en:?}"
        );
    }

    #[test]
    fn every_key_a_template_asks_for_exists() {
        let pl = keys(include_str!("locales/pl/main.ftl"));
        let key = regex::Regex::new(r#"tr\.t1?\("([a-z0-9-]+)""#).unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for cap in key.captures_iter(&text) {
                if !pl.contains(&cap[1]) {
                    missing.push(format!("{}: {}", path.display(), &cap[1]));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn every_state_role_and_lane_has_its_name() {
        use crate::domain::actor::Role;
        use crate::domain::lifecycle::{Lane, ProjectState};
        use strum::VariantArray;
        let pl = keys(include_str!("locales/pl/main.ftl"));
        let wanted = ProjectState::VARIANTS
            .iter()
            .map(|s| format!("state-{}", s.as_str()))
            .chain(
                Role::VARIANTS
                    .iter()
                    .map(|r| format!("role-{}", r.as_str())),
            )
            .chain(
                [Lane::Crm, Lane::Tracker, Lane::Board, Lane::Notify]
                    .iter()
                    .map(|l| format!("lane-{}", format!("{l:?}").to_lowercase())),
            );
        let missing: Vec<String> = wanted.filter(|k| !pl.contains(k)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn messages_and_formats_follow_the_language() {
        let (pl, en) = (tr(Locale::Pl), tr(Locale::En));
        assert_eq!(pl.t("sign-in"), "Zaloguj się");
        assert_eq!(en.t("sign-in"), "Sign in");
        assert_eq!(pl.money(36_000.0), "36\u{a0}000\u{a0}zł");
        assert_eq!(en.money(36_000.0), "PLN\u{a0}36,000");
        assert_eq!(pl.number(1234), "1234");
        assert_eq!(pl.number(12_345), "12\u{a0}345");
        assert_eq!(en.number(1_234_567), "1,234,567");
        let winter = time::macros::datetime!(2026-12-07 14:40 UTC);
        assert_eq!(pl.datetime(winter), "7.12.2026 15:40");
        assert_eq!(en.datetime(winter), "7 Dec 2026, 15:40");
        let summer = time::macros::datetime!(2026-07-01 10:05 UTC);
        assert_eq!(pl.datetime(summer), "1.07.2026 12:05", "summer time");
        assert_eq!(en.date(time::macros::date!(2027 - 01 - 31)), "31 Jan 2027");
    }

    #[test]
    fn plural_forms_follow_polish_rules() {
        let pl = tr(Locale::Pl);
        assert_eq!(pl.t1("days-waiting", "days", 1), "1 dzień");
        assert_eq!(pl.t1("days-waiting", "days", 3), "3 dni");
        assert_eq!(pl.t1("days-waiting", "days", 5), "5 dni");
    }
}
