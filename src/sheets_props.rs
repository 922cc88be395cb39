//! Property tests of the contacts sheet: arbitrary bytes (invalid UTF-8 too)
//! never panic and every error carries a line of the file; a sheet written by
//! [`write_contacts`] reads back with every cell as it was, formula-like ones
//! included.

use proptest::prelude::*;
use time::OffsetDateTime;

use super::sheets::{ImportRow, RowError, read_contacts, write_contacts};
use crate::domain::contact::{Contact, ContactInput, ContactKind, NewContact};
use crate::domain::expert::{Expert, ExpertProfile, ProfileInput};
use crate::domain::ids::ContactId;

/// Every error names a line the file has (the header is line 1).
fn lines_are_in_the_file(errors: &[RowError], bytes: &[u8]) -> Result<(), String> {
    let last = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    match errors.iter().find(|e| !(1..=last).contains(&e.line)) {
        Some(e) => Err(format!("{e} is outside lines 1..={last}")),
        None if errors.is_empty() => Err("an import failed without a reason".into()),
        None => Ok(()),
    }
}

fn rows_in_order(rows: &[ImportRow]) -> bool {
    rows.windows(2).all(|w| w[0].line < w[1].line) && rows.iter().all(|r| r.line >= 2)
}

/// A cell as a hostile sheet has them: quotes, separators, line breaks,
/// formula starts, invalid UTF-8.
fn cell() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-zA-Z0-9 @.+=-]{0,12}".prop_map(String::into_bytes),
        "[\",;'\r\n=+@-]{0,4}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..8),
        Just(b"expert".to_vec()),
        Just(b"client".to_vec()),
    ]
}

/// A sheet with the required header and rows of hostile cells.
fn sheet() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec(cell(), 0..6).prop_map(|cells| cells.join(&b","[..]));
    prop::collection::vec(row, 0..8).prop_map(|rows| {
        let mut out = b"kind,full_name,email,phone,capacity,skills\n".to_vec();
        out.extend(rows.join(&b"\n"[..]));
        out
    })
}

/// Text that may open like a formula, or like a cell already kept as text.
fn risky(body: &'static str) -> impl Strategy<Value = String> {
    let start = prop::sample::select(vec!["", "=", "+", "-", "@", "'", "'=", "''", "'+"]);
    (start, body).prop_map(|(s, b)| format!("{s}{b}"))
}

/// A stored contact (and maybe its expert profile), valid as the API keeps them.
fn stored(n: usize) -> impl Strategy<Value = (Contact, Option<ExpertProfile>)> {
    let input = (
        risky("[\\PC&&[^\\s]][\\PC]{0,30}"),
        risky("[a-z0-9._]{1,10}"),
        prop::option::of("[+(]?[0-9 ()-]{6,20}"),
        prop::option::of(risky("[\\PC&&[^\\s]]{1,40}")),
        prop::option::of("(PL )?[0-9]{3}-[0-9]{3}-[0-9]{2}-[0-9]{2}"),
    );
    let profile = (
        prop::collection::vec("[a-z][a-z0-9 ]{0,12}", 0..4),
        0.0..1000.0f64,
        1..=50u32,
        prop::option::of(0.0..=5.0f64),
    );
    (input, prop::option::of(profile)).prop_filter_map("valid as stored", move |(c, p)| {
        let (full_name, local, phone, legal_name, tax_id) = c;
        let input = ContactInput {
            full_name,
            email: format!("{local}{n}@example.pl"),
            phone,
            legal_name,
            tax_id,
            atlassian_account_id: None,
        };
        let kind = if p.is_some() {
            ContactKind::Expert
        } else {
            ContactKind::Client
        };
        let new = NewContact::parse(kind, &input).ok()?;
        let profile = match p {
            None => None,
            Some((skills, hourly_rate, capacity, rating)) => {
                let input = ProfileInput {
                    skills: skills.clone(),
                    industries: skills,
                    languages: vec!["pl".into()],
                    hourly_rate,
                    capacity,
                    rating,
                };
                Some(ExpertProfile::parse(&input).ok()?)
            }
        };
        Some((contact(new), profile))
    })
}

fn contact(new: NewContact) -> Contact {
    let now = OffsetDateTime::now_utc();
    Contact {
        id: ContactId::new(),
        kind: new.kind,
        full_name: new.full_name,
        email: new.email,
        phone: new.phone,
        legal_name: new.legal_name,
        tax_id: new.tax_id,
        properties: Default::default(),
        crm_ref: None,
        atlassian_account_id: new.atlassian_account_id,
        created_at: now,
        updated_at: now,
    }
}

/// Several stored contacts with distinct e-mails.
fn book() -> impl Strategy<Value = Vec<(Contact, Option<ExpertProfile>)>> {
    (1..6usize).prop_flat_map(|n| (0..n).map(stored).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_and_every_error_has_its_line(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        match read_contacts(bytes.as_slice()) {
            Ok(rows) => prop_assert!(rows_in_order(&rows)),
            Err(errors) => lines_are_in_the_file(&errors, &bytes).map_err(TestCaseError::fail)?,
        }
    }

    #[test]
    fn hostile_rows_never_panic_and_every_error_has_its_line(bytes in sheet()) {
        match read_contacts(bytes.as_slice()) {
            Ok(rows) => prop_assert!(rows_in_order(&rows)),
            Err(errors) => lines_are_in_the_file(&errors, &bytes).map_err(TestCaseError::fail)?,
        }
    }

    #[test]
    fn an_exported_sheet_imports_with_every_cell_as_it_was(book in book()) {
        let contacts: Vec<Contact> = book.iter().map(|(c, _)| c.clone()).collect();
        let experts: Vec<Expert> = book.iter()
            .filter_map(|(c, p)| p.clone().map(|profile| Expert { contact: c.clone(), profile, load: 0 }))
            .collect();
        let mut sheet = Vec::new();
        write_contacts(&mut sheet, &contacts, &experts).unwrap();
        let rows = read_contacts(sheet.as_slice())
            .map_err(|e| TestCaseError::fail(format!("{e:?} in\n{}", String::from_utf8_lossy(&sheet))))?;
        prop_assert_eq!(rows.len(), book.len());
        for (row, (c, profile)) in rows.iter().zip(&book) {
            let read = &row.contact;
            prop_assert_eq!(
                (read.kind, &read.full_name, &read.email, &read.phone, &read.legal_name, &read.tax_id),
                (c.kind, &c.full_name, &c.email, &c.phone, &c.legal_name, &c.tax_id)
            );
            prop_assert_eq!(row.profile.as_ref(), profile.as_ref());
        }
    }
}
