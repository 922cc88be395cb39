//! Deterministic checks a protocol requirement can carry. They read the
//! extracted pages and the subject's CRM record, and always win over the model.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde::{Deserialize, Serialize};
use time::Date;

use super::dates;
use super::text::{company, contains_words, digits, words};
use super::verification::Verdict;

/// A record field a document must match.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RecordField {
    /// The registered company name (clients).
    LegalName,
    /// The tax id, compared digits only.
    TaxId,
    /// The person's name (experts), in either order.
    FullName,
}

/// A requirement's deterministic check, as written in a protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The text must contain a match of this (case-insensitive) regular expression.
    Pattern { pattern: String },
    /// The credential must not have expired on the day of verification.
    DateNotExpired,
    /// The document must name the subject's record value for `field`.
    MatchesRecord { field: RecordField },
}

/// A [`Check`] ready to run: patterns compiled once.
#[derive(Clone, Debug)]
pub enum CompiledCheck {
    Pattern(Arc<Regex>),
    DateNotExpired,
    MatchesRecord(RecordField),
}

impl Check {
    pub fn compile(&self) -> Result<CompiledCheck, String> {
        Ok(match self {
            Check::Pattern { pattern } => {
                let re = regex::RegexBuilder::new(pattern)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        format!("pattern `{pattern}` is not a valid regular expression: {e}")
                    })?;
                CompiledCheck::Pattern(Arc::new(re))
            }
            Check::DateNotExpired => CompiledCheck::DateNotExpired,
            Check::MatchesRecord { field } => CompiledCheck::MatchesRecord(*field),
        })
    }
}

/// The record a document is checked against: field name -> value.
pub type Subject = BTreeMap<String, String>;

/// What a check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub verdict: Verdict,
    /// The text that decided it, as found on `page`.
    pub evidence: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
    pub reason: String,
    /// For date checks: when the credential expires.
    pub expires_on: Option<Date>,
}

impl CheckResult {
    fn unclear(reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Unclear,
            evidence: None,
            page: None,
            reason: reason.into(),
            expires_on: None,
        }
    }
}

/// Runs `check` over the document's pages (page 1 first) on `today`.
pub fn run(check: &CompiledCheck, pages: &[String], subject: &Subject, today: Date) -> CheckResult {
    match check {
        CompiledCheck::Pattern(re) => pattern(re, pages),
        CompiledCheck::DateNotExpired => not_expired(pages, today),
        CompiledCheck::MatchesRecord(field) => matches_record(*field, pages, subject),
    }
}

fn pattern(re: &Regex, pages: &[String]) -> CheckResult {
    for (i, page) in pages.iter().enumerate() {
        if let Some(m) = re.find(page) {
            return CheckResult {
                verdict: Verdict::Met,
                evidence: Some(m.as_str().to_owned()),
                page: Some(i as u32 + 1),
                reason: format!("the text contains `{}`", m.as_str()),
                expires_on: None,
            };
        }
    }
    CheckResult {
        verdict: Verdict::NotMet,
        evidence: None,
        page: None,
        reason: format!("the text contains nothing matching `{}`", re.as_str()),
        expires_on: None,
    }
}

fn not_expired(pages: &[String], today: Date) -> CheckResult {
    // The expiry across all pages: the latest announced end date wins.
    let found = pages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| dates::expiry_date(p).map(|d| (i, d)))
        .max_by_key(|(_, d)| d.date);
    let Some((i, found)) = found else {
        return CheckResult::unclear("no date found to tell when it expires");
    };
    let evidence = dates::evidence_line(&pages[i], &found);
    let (verdict, reason) = if found.date < today {
        (Verdict::NotMet, format!("expired on {}", found.date))
    } else {
        (Verdict::Met, format!("valid until {}", found.date))
    };
    CheckResult {
        verdict,
        evidence: Some(evidence),
        page: Some(i as u32 + 1),
        reason,
        expires_on: Some(found.date),
    }
}

fn matches_record(field: RecordField, pages: &[String], subject: &Subject) -> CheckResult {
    let key = field.to_string();
    let comparable = |v: &&String| match field {
        RecordField::TaxId => !digits(v).is_empty(),
        _ => !words(v).is_empty(),
    };
    let Some(expected) = subject.get(&key).filter(comparable) else {
        return CheckResult::unclear(format!("the record has no {key} to compare with"));
    };
    for (i, page) in pages.iter().enumerate() {
        if let Some(evidence) = find_record_value(field, expected, page) {
            return CheckResult {
                verdict: Verdict::Met,
                evidence: Some(evidence),
                page: Some(i as u32 + 1),
                reason: format!("names the record's {key}"),
                expires_on: None,
            };
        }
    }
    CheckResult {
        verdict: Verdict::NotMet,
        evidence: None,
        page: None,
        reason: format!("does not name the record's {key} `{expected}`"),
        expires_on: None,
    }
}

/// Runs of digits with the separators documents put in tax ids and registry numbers.
static NUMBERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9][0-9 \-./]{4,30}[0-9]").expect("valid regex"));

/// The page's own words that match the record value, if any.
fn find_record_value(field: RecordField, expected: &str, page: &str) -> Option<String> {
    match field {
        RecordField::TaxId => {
            let want = digits(expected);
            NUMBERS
                .find_iter(page)
                .find(|m| names_number(m.as_str(), &want))
                .map(|m| m.as_str().to_owned())
        }
        RecordField::LegalName => {
            contains_words(&company(page), &company(expected)).then(|| expected.to_owned())
        }
        RecordField::FullName => {
            let name = words(expected);
            let reversed = name.split(' ').rev().collect::<Vec<_>>().join(" ");
            let text = words(page);
            (contains_words(&text, &name) || contains_words(&text, &reversed))
                .then(|| expected.to_owned())
        }
    }
}

/// Whether a run of numbers holds `want` exactly, as whole groups: "NIP
/// 526-000-12-46" and "5260001246 / REGON 123" do, "95260001246" does not.
fn names_number(run: &str, want: &str) -> bool {
    let groups: Vec<String> = run
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    (0..groups.len()).any(|start| {
        let mut joined = String::new();
        groups[start..].iter().any(|g| {
            joined.push_str(g);
            joined.len() >= want.len() && joined == want
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn subject() -> Subject {
        [
            ("legal_name", "Kowalska Meble Sp. z o.o."),
            ("tax_id", "526-000-12-46"),
            ("full_name", "Jan Nowak"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn pages(text: &[&str]) -> Vec<String> {
        text.iter().map(|t| t.to_string()).collect()
    }

    const TODAY: Date = date!(2026 - 11 - 30);

    #[test]
    fn an_expired_policy_fails_whatever_else_it_says() {
        let p = pages(&[
            "Certificate of insurance",
            "Policy period: 2025-01-01 to 2025-12-31. This policy is valid.",
        ]);
        let r = run(&CompiledCheck::DateNotExpired, &p, &subject(), TODAY);
        assert_eq!(
            (r.verdict, r.page, r.expires_on),
            (Verdict::NotMet, Some(2), Some(date!(2025 - 12 - 31)))
        );
        assert_eq!(r.reason, "expired on 2025-12-31");
        assert!(r.evidence.unwrap().contains("2025-12-31"));
        let valid = pages(&["Okres ubezpieczenia: od 1 stycznia 2026 do 31 grudnia 2027 r."]);
        let r = run(&CompiledCheck::DateNotExpired, &valid, &subject(), TODAY);
        assert_eq!(
            (r.verdict, r.expires_on),
            (Verdict::Met, Some(date!(2027 - 12 - 31)))
        );
        let undated = run(
            &CompiledCheck::DateNotExpired,
            &pages(&["no dates"]),
            &subject(),
            TODAY,
        );
        assert_eq!(undated.verdict, Verdict::Unclear);
    }

    #[test]
    fn records_match_despite_spelling() {
        let p = pages(&[
            "Ubezpieczony: KOWALSKA MEBLE SPÓŁKA Z OGRANICZONĄ ODPOWIEDZIALNOŚCIĄ, NIP PL5260001246",
        ]);
        let legal = run(
            &CompiledCheck::MatchesRecord(RecordField::LegalName),
            &p,
            &subject(),
            TODAY,
        );
        assert_eq!(legal.verdict, Verdict::Met);
        let tax = run(
            &CompiledCheck::MatchesRecord(RecordField::TaxId),
            &p,
            &subject(),
            TODAY,
        );
        assert_eq!(
            (tax.verdict, tax.evidence.as_deref()),
            (Verdict::Met, Some("5260001246"))
        );
        let other = pages(&["Insured: Nowak Trading S.A., tax id 111-222-33-44"]);
        assert_eq!(
            run(
                &CompiledCheck::MatchesRecord(RecordField::LegalName),
                &other,
                &subject(),
                TODAY
            )
            .verdict,
            Verdict::NotMet
        );
        assert_eq!(
            run(
                &CompiledCheck::MatchesRecord(RecordField::TaxId),
                &other,
                &subject(),
                TODAY
            )
            .verdict,
            Verdict::NotMet
        );
        let reversed = pages(&["Holder: NOWAK Jan"]);
        assert_eq!(
            run(
                &CompiledCheck::MatchesRecord(RecordField::FullName),
                &reversed,
                &subject(),
                TODAY
            )
            .verdict,
            Verdict::Met
        );
        let empty = Subject::new();
        assert_eq!(
            run(
                &CompiledCheck::MatchesRecord(RecordField::TaxId),
                &p,
                &empty,
                TODAY
            )
            .verdict,
            Verdict::Unclear
        );
    }

    #[test]
    fn a_tax_id_must_be_the_whole_number_not_part_of_a_longer_one() {
        let tax = |text: &str, record: &str| {
            let subject: Subject = [("tax_id".to_owned(), record.to_owned())].into();
            run(
                &CompiledCheck::MatchesRecord(RecordField::TaxId),
                &pages(&[text]),
                &subject,
                TODAY,
            )
            .verdict
        };
        assert_eq!(tax("NIP 526-000-12-46", "5260001246"), Verdict::Met);
        assert_eq!(
            tax("NIP: 5260001246 / REGON 012345678", "526 000 12 46"),
            Verdict::Met
        );
        assert_eq!(tax("account 95260001246", "5260001246"), Verdict::NotMet);
        assert_eq!(tax("ref 5260001246780", "5260001246"), Verdict::NotMet);
        assert_eq!(
            tax("NIP 526-000-12-46", "n/a"),
            Verdict::Unclear,
            "no digits to compare"
        );
    }

    #[test]
    fn patterns_are_case_insensitive_and_bad_ones_are_refused() {
        let c = Check::Pattern {
            pattern: r"KRS\s*:?\s*\d{10}".into(),
        }
        .compile()
        .unwrap();
        let r = run(
            &c,
            &pages(&["", "numer krs: 0000123456"]),
            &subject(),
            TODAY,
        );
        assert_eq!((r.verdict, r.page), (Verdict::Met, Some(2)));
        assert!(
            Check::Pattern {
                pattern: "(".into()
            }
            .compile()
            .is_err()
        );
    }
}
