//! Dates as documents write them: ISO (`2027-02-28`), European numeric
//! (`28.02.2027`, `28/02/2027`), English (`February 28, 2027`, `28 Feb 2027`)
//! and Polish (`28 lutego 2027 r.`, any case of the month name).

use std::sync::LazyLock;

use regex::Regex;
use time::{Date, Month};

use super::text::fold;

// `YYYY-MM-DD` for dates in JSON.
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// A `YYYY-MM-DD` date, as a form's date field sends it.
pub fn parse_iso_date(text: &str) -> Result<Date, time::error::Parse> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
}

/// A date found in a text, with where it was (byte offsets in the folded text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDate {
    pub date: Date,
    pub start: usize,
    pub end: usize,
}

const MONTHS: &[(&str, u8)] = &[
    // English, full and short.
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // Polish, genitive (as in dates) and nominative, without diacritics (text is folded).
    ("stycznia", 1),
    ("lutego", 2),
    ("marca", 3),
    ("kwietnia", 4),
    ("maja", 5),
    ("czerwca", 6),
    ("lipca", 7),
    ("sierpnia", 8),
    ("wrzesnia", 9),
    ("pazdziernika", 10),
    ("listopada", 11),
    ("grudnia", 12),
    ("styczen", 1),
    ("luty", 2),
    ("marzec", 3),
    ("kwiecien", 4),
    ("maj", 5),
    ("czerwiec", 6),
    ("lipiec", 7),
    ("sierpien", 8),
    ("wrzesien", 9),
    ("pazdziernik", 10),
    ("listopad", 11),
    ("grudzien", 12),
];

fn month(name: &str) -> Option<u8> {
    MONTHS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

// No word boundary after the year: extractors glue a date to the next line's
// first word ("2027-12-31Cover") when a PDF positions lines without spacing.
static ISO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{4})-(\d{2})-(\d{2})").expect("valid regex"));
static NUMERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2})[./](\d{1,2})[./](\d{4})").expect("valid regex"));
static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2})(?:st|nd|rd|th)?\.? ([a-z]{3,12})\.?,? (\d{4})").expect("valid regex")
});
static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([a-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})").expect("valid regex")
});

fn make(year: &str, month_no: u8, day: &str) -> Option<Date> {
    let year: i32 = year.parse().ok()?;
    let day: u8 = day.parse().ok()?;
    if !(1900..=2200).contains(&year) {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month_no).ok()?, day).ok()
}

/// Every date in `text`, in order of appearance. Offsets refer to [`fold`]`(text)`.
pub fn find_dates(text: &str) -> Vec<FoundDate> {
    let folded = fold(text);
    let mut found = Vec::new();
    let mut push = |date: Option<Date>, m: regex::Match| {
        if let Some(date) = date {
            found.push(FoundDate {
                date,
                start: m.start(),
                end: m.end(),
            });
        }
    };
    for c in ISO.captures_iter(&folded) {
        push(
            c[2].parse().ok().and_then(|m| make(&c[1], m, &c[3])),
            c.get(0).expect("group 0"),
        );
    }
    for c in NUMERIC.captures_iter(&folded) {
        push(
            c[2].parse().ok().and_then(|m| make(&c[3], m, &c[1])),
            c.get(0).expect("group 0"),
        );
    }
    for c in DAY_MONTH_YEAR.captures_iter(&folded) {
        push(
            month(&c[2]).and_then(|m| make(&c[3], m, &c[1])),
            c.get(0).expect("group 0"),
        );
    }
    for c in MONTH_DAY_YEAR.captures_iter(&folded) {
        push(
            month(&c[1]).and_then(|m| make(&c[3], m, &c[2])),
            c.get(0).expect("group 0"),
        );
    }
    found.sort_by_key(|f| f.start);
    found.dedup_by(|b, a| b.start < a.end);
    found
}

/// Words that announce when something ends, in English and Polish (folded).
const END_MARKERS: &[&str] = &[
    "valid until",
    "valid to",
    "valid through",
    "valid thru",
    "expires",
    "expiry",
    "expiration",
    "until",
    "through",
    "to",
    "end date",
    "ends",
    "wazny do",
    "wazna do",
    "wazne do",
    "waznosc do",
    "data waznosci",
    "termin waznosci",
    "do dnia",
    "do",
];

/// When a credential stops being valid: the latest date announced as an end
/// ("valid until B", "from A to B", "do 31.12.2027"). `None` when no date is
/// announced so: an issue date alone says nothing about expiry, and a person
/// should look rather than the rule guess.
pub fn expiry_date(text: &str) -> Option<FoundDate> {
    let folded = fold(text);
    find_dates(text)
        .into_iter()
        .filter(|d| announced_end(&folded[..d.start]))
        .max_by_key(|d| d.date)
}

/// Whether the text just before a date ends with an end marker, as a whole word.
fn announced_end(before: &str) -> bool {
    // The last 32 characters at most, cut on a character boundary.
    let start = before.char_indices().rev().nth(31).map_or(0, |(i, _)| i);
    let tail = before[start..].trim_end_matches([' ', ':', '-', '.', ',', '\n']);
    END_MARKERS.iter().any(|m| {
        tail.strip_suffix(m)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with(|c: char| !c.is_alphanumeric()))
    })
}

/// The line of `text` holding a found date, as written (for evidence).
pub fn evidence_line(text: &str, found: &FoundDate) -> String {
    let folded = fold(text);
    let wanted = &folded[found.start..found.end];
    text.lines()
        .find(|line| fold(line).contains(wanted))
        .map(|line| line.trim().chars().take(200).collect())
        .unwrap_or_else(|| wanted.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn dates(text: &str) -> Vec<Date> {
        find_dates(text).into_iter().map(|f| f.date).collect()
    }

    #[test]
    fn every_written_form_is_read() {
        assert_eq!(dates("issued 2027-02-28"), [date!(2027 - 02 - 28)]);
        assert_eq!(dates("ważny do 28.02.2027 r."), [date!(2027 - 02 - 28)]);
        assert_eq!(dates("until 28/02/2027"), [date!(2027 - 02 - 28)]);
        assert_eq!(
            dates("valid until February 28, 2027"),
            [date!(2027 - 02 - 28)]
        );
        assert_eq!(dates("valid until 28th Feb 2027"), [date!(2027 - 02 - 28)]);
        assert_eq!(dates("do dnia 31 grudnia 2027 r."), [date!(2027 - 12 - 31)]);
        assert_eq!(dates("od 1 WRZEŚNIA 2026"), [date!(2026 - 09 - 01)]);
        assert_eq!(
            dates("no date 31.02.2027 or 99.99.9999"),
            Vec::<Date>::new(),
            "impossible dates are not dates"
        );
    }

    #[test]
    fn dates_glued_to_the_next_word_are_still_read() {
        assert_eq!(
            dates("from 2026-01-01 to 2027-12-31Cover: liability"),
            [date!(2026 - 01 - 01), date!(2027 - 12 - 31)]
        );
        assert_eq!(dates("do 31.12.2027Podpis"), [date!(2027 - 12 - 31)]);
    }

    #[test]
    fn a_period_expires_at_its_end_and_an_issue_date_alone_says_nothing() {
        let e = expiry_date("Policy period: from 2025-01-01 to 2025-12-31. Issued 2024-12-15.")
            .unwrap();
        assert_eq!(e.date, date!(2025 - 12 - 31));
        let e = expiry_date("Okres ubezpieczenia: od 01.01.2026 do 31.12.2026").unwrap();
        assert_eq!(e.date, date!(2026 - 12 - 31));
        let e = expiry_date("Issued on 2026-03-01. Valid until March 1, 2028.").unwrap();
        assert_eq!(e.date, date!(2028 - 03 - 01));
        assert!(
            expiry_date("Signed 12 May 2026").is_none(),
            "no end announced: no guess"
        );
        assert!(
            expiry_date("Photo 2026-01-01").is_none(),
            "`to` inside a word is not a marker"
        );
        let quoted = expiry_date("„Polisa OC” ważna do 31.12.2027 – ubezpieczyciel").unwrap();
        assert_eq!(
            quoted.date,
            date!(2027 - 12 - 31),
            "multi-byte punctuation before a date"
        );
        assert!(expiry_date("no dates here").is_none());
    }

    #[test]
    fn evidence_is_the_line_as_written() {
        let text = "Certificate no 7\nOkres: od 1 Stycznia 2026 do 31 Grudnia 2027 r.\nPodpis";
        let e = expiry_date(text).unwrap();
        assert_eq!(
            evidence_line(text, &e),
            "Okres: od 1 Stycznia 2026 do 31 Grudnia 2027 r."
        );
    }
}
