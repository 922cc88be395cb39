//! CSV for Google Sheets users: contacts imported from a sheet (every row
//! checked first, errors reported by line, nothing imported unless all rows
//! are good) and contacts and projects exported for one.

use std::collections::HashMap;
use std::io::{Read, Write};

use serde::Deserialize;

use crate::domain::contact::{Contact, ContactInput, ContactKind, NewContact};
use crate::domain::expert::{Expert, ExpertProfile, ProfileInput};
use crate::domain::project::Project;
use crate::domain::validation::ValidationErrors;

/// One row of a contacts sheet. Only `kind`, `full_name` and `email` are
/// required; the expert columns count for experts.
#[derive(Debug, Deserialize)]
struct ContactRecord {
    kind: String,
    full_name: String,
    email: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    legal_name: Option<String>,
    #[serde(default)]
    tax_id: Option<String>,
    #[serde(default)]
    atlassian_account_id: Option<String>,
    #[serde(default)]
    skills: Option<String>,
    #[serde(default)]
    industries: Option<String>,
    #[serde(default)]
    languages: Option<String>,
    #[serde(default)]
    hourly_rate: Option<String>,
    #[serde(default)]
    capacity: Option<String>,
    #[serde(default)]
    rating: Option<String>,
}

/// A contact ready to import; experts carry a profile.
#[derive(Clone, Debug)]
pub struct ImportRow {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub contact: NewContact,
    pub profile: Option<ExpertProfile>,
}

/// Why a row cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

fn list(cell: &Option<String>) -> Vec<String> {
    cell.as_deref()
        .unwrap_or_default()
        .split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn number<T: std::str::FromStr>(column: &str, cell: &Option<String>) -> Result<Option<T>, String> {
    match cell.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        // Sheets in Polish locales write decimals with a comma.
        Some(c) => c
            .replace(',', ".")
            .parse()
            .map(Some)
            .map_err(|_| format!("{column} `{c}` is not a number")),
    }
}

fn describe(errors: &ValidationErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn row(record: ContactRecord) -> Result<(NewContact, Option<ExpertProfile>), String> {
    let kind: ContactKind = record
        .kind
        .trim()
        .to_lowercase()
        .parse()
        .map_err(|_| format!("kind `{}` must be client or expert", record.kind.trim()))?;
    let cell = |v: &Option<String>| v.clone().map(untext).filter(|v| !v.trim().is_empty());
    let input = ContactInput {
        full_name: untext(record.full_name.clone()),
        email: untext(record.email.clone()),
        phone: cell(&record.phone),
        legal_name: cell(&record.legal_name),
        tax_id: cell(&record.tax_id),
        atlassian_account_id: cell(&record.atlassian_account_id),
    };
    let contact = NewContact::parse(kind, &input).map_err(|e| describe(&e))?;
    let profile = match kind {
        ContactKind::Client => None,
        ContactKind::Expert => {
            let input = ProfileInput {
                skills: list(&record.skills),
                industries: list(&record.industries),
                languages: list(&record.languages),
                hourly_rate: number("hourly_rate", &record.hourly_rate)?.unwrap_or(0.0),
                capacity: number("capacity", &record.capacity)?.unwrap_or(1),
                rating: number("rating", &record.rating)?,
            };
            Some(ExpertProfile::parse(&input).map_err(|e| describe(&e))?)
        }
    };
    Ok((contact, profile))
}

/// Reads a contacts sheet. All rows or none: any bad row (or an e-mail twice)
/// comes back with its line number and reason, every one of them.
pub fn read_contacts(input: impl Read) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| {
            vec![RowError {
                line: 1,
                reason: e.to_string(),
            }]
        })?
        .clone();
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let (line, parsed) = match record {
            // The record's own line: right even after cells spanning lines.
            Ok(r) => (
                r.position().map_or(0, |p| p.line()),
                r.deserialize::<ContactRecord>(Some(&headers))
                    .map_err(|e| match e.kind() {
                        csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                        _ => e.to_string(),
                    })
                    .and_then(row),
            ),
            Err(e) => (e.position().map_or(0, |p| p.line()), Err(e.to_string())),
        };
        match parsed {
            Ok((contact, profile)) => match seen.get(contact.email.as_str()) {
                Some(first) => errors.push(RowError {
                    line,
                    reason: format!("{} is already on line {first}", contact.email),
                }),
                None => {
                    seen.insert(contact.email.to_string(), line);
                    rows.push(ImportRow {
                        line,
                        contact,
                        profile,
                    });
                }
            },
            Err(reason) => errors.push(RowError { line, reason }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// A text cell as Sheets should show it: one that starts like a formula
/// (`=`, `+`, `-`, `@`) would run as one, so it is kept as text with a `'`.
/// A cell that starts with `'` gets one too, or reading it back would take
/// its own `'` for the one added here.
pub fn text(value: &str) -> String {
    if value.starts_with(FORMULA_START) || value.starts_with('\'') {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as [`text`] wrote it, read back: the `'` that kept it text goes,
/// so a sheet exported here imports unchanged.
fn untext(cell: String) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest.to_owned(),
        _ => cell,
    }
}

/// Contacts as a sheet, experts with their profile.
pub fn write_contacts(
    out: impl Write,
    contacts: &[Contact],
    experts: &[Expert],
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "kind",
        "full_name",
        "email",
        "phone",
        "legal_name",
        "tax_id",
        "atlassian_account_id",
        "vetting",
        "skills",
        "industries",
        "languages",
        "hourly_rate",
        "capacity",
        "rating",
        "created_at",
    ])?;
    for c in contacts {
        let profile = experts
            .iter()
            .find(|e| e.contact.id == c.id)
            .map(|e| &e.profile);
        let tags = |f: fn(&ExpertProfile) -> &Vec<crate::domain::validation::Tag>| {
            profile
                .map(|p| {
                    f(p).iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        let optional = |v: Option<&str>| text(v.unwrap_or_default());
        w.write_record([
            c.id.to_string(),
            c.kind.to_string(),
            text(&c.full_name),
            text(c.email.as_str()),
            optional(c.phone.as_deref()),
            optional(c.legal_name.as_deref()),
            optional(c.tax_id.as_ref().map(|t| t.as_str())),
            optional(c.atlassian_account_id.as_deref()),
            profile.map(|p| p.vetting.to_string()).unwrap_or_default(),
            text(&tags(|p| &p.skills)),
            text(&tags(|p| &p.industries)),
            text(&tags(|p| &p.languages)),
            profile
                .map(|p| p.hourly_rate.to_string())
                .unwrap_or_default(),
            profile.map(|p| p.capacity.to_string()).unwrap_or_default(),
            profile
                .and_then(|p| p.rating)
                .map(|r| r.to_string())
                .unwrap_or_default(),
            c.created_at.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Projects as a sheet, with client and expert names and the value figures.
pub fn write_projects(
    out: impl Write,
    projects: &[Project],
    contacts: &[Contact],
) -> Result<(), csv::Error> {
    let name = |id: Option<crate::domain::ids::ContactId>| {
        id.and_then(|id| contacts.iter().find(|c| c.id == id))
            .map(|c| c.legal_name.clone().unwrap_or_else(|| c.full_name.clone()))
            .unwrap_or_default()
    };
    let figure = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "title",
        "state",
        "client_id",
        "client",
        "expert_id",
        "expert",
        "skills",
        "industry",
        "required_documents",
        "expected_value",
        "expected_roi",
        "realised_value",
        "realised_roi",
        "created_at",
        "updated_at",
    ])?;
    for p in projects {
        let value = p.value();
        w.write_record([
            p.id.to_string(),
            text(&p.title),
            p.state.to_string(),
            p.client_id.to_string(),
            text(&name(Some(p.client_id))),
            p.expert_id.map(|e| e.to_string()).unwrap_or_default(),
            text(&name(p.expert_id)),
            p.skills
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            p.industry
                .as_ref()
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
            p.required_documents
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            figure(value.as_ref().map(|v| v.expected_value)),
            figure(value.as_ref().map(|v| v.expected_roi)),
            figure(value.as_ref().and_then(|v| v.realised_value)),
            figure(value.as_ref().and_then(|v| v.realised_roi)),
            p.created_at.to_string(),
            p.updated_at.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_rows_import_and_every_bad_row_is_reported_with_its_line() {
        let sheet = "kind,full_name,email,phone,legal_name,tax_id,skills,hourly_rate,capacity\n\
            client,Anna Kowalska,anna@kowalska.pl,,Kowalska Meble Sp. z o.o.,526-000-12-46,,,\n\
            expert,Jan Nowak,jan@nowak.dev,+48 600 100 200,,,\"rust, automation\",\"150,5\",2\n";
        let rows = read_contacts(sheet.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[1].line, rows[1].profile.as_ref().unwrap().hourly_rate),
            (3, 150.5)
        );
        assert_eq!(rows[1].profile.as_ref().unwrap().skills.len(), 2);

        let bad = "kind,full_name,email,capacity\n\
            client,Anna,anna@kowalska.pl,\n\
            partner,Ewa,ewa@x.pl,\n\
            client,,not-an-email,\n\
            client,Anna again,ANNA@kowalska.pl,\n\
            expert,Jan,jan@nowak.dev,lots\n";
        let errors = read_contacts(bad.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6], "{errors:?}");
        assert!(errors[0].reason.contains("must be client or expert"));
        assert!(errors[1].reason.contains("full_name") && errors[1].reason.contains("email"));
        assert!(errors[2].reason.contains("already on line 2"));
        assert!(errors[3].reason.contains("capacity `lots`"));
    }

    #[test]
    fn lines_count_cells_that_span_lines_and_formulas_stay_text() {
        let sheet =
            "kind,full_name,email,notes\nclient,Anna,anna@k.pl,\"two\nlines\"\nclient,,bad,\n";
        let errors = read_contacts(sheet.as_bytes()).unwrap_err();
        assert_eq!(errors[0].line, 4, "{errors:?}");
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("+48 600 100 200"), "'+48 600 100 200");
        assert_eq!(text("Anna"), "Anna");
    }

    #[test]
    fn cells_kept_text_on_export_import_as_they_were() {
        let exported = format!(
            "kind,full_name,email,phone\nclient,{},anna@k.pl,{}\n",
            text("-Anna-"),
            text("+48 600 100 200")
        );
        assert!(exported.contains(",'+48 600 100 200"), "{exported}");
        let rows = read_contacts(exported.as_bytes()).unwrap();
        assert_eq!(rows[0].contact.full_name, "-Anna-");
        assert_eq!(rows[0].contact.phone.as_deref(), Some("+48 600 100 200"));
        assert_eq!(
            untext("'quoted".into()),
            "'quoted",
            "only the quote text() adds goes"
        );
        for cell in ["'=SUM(A1)", "'quoted", "''"] {
            assert_eq!(
                untext(text(cell)),
                cell,
                "a cell that starts with ' reads back as it was"
            );
        }
    }

    #[test]
    fn a_sheet_without_the_required_columns_is_refused() {
        let errors = read_contacts("name,mail\nAnna,a@b.pl\n".as_bytes()).unwrap_err();
        assert!(errors[0].reason.contains("missing field"), "{errors:?}");
    }
}
