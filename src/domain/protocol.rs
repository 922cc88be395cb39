//! Protocols: the written rules a credentialing document is checked against.
//! Each is a Markdown note in an Obsidian-compatible vault: YAML front matter
//! (id, version, document types, requirements with optional deterministic
//! checks) and a body of guidance with `[[wikilinks]]`. Parsing is pure; the
//! agent reads the files.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::checks::{Check, CompiledCheck, RecordField};
use super::document::DocumentType;

/// Whose record a document is compared with.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SubjectKind {
    Client,
    Expert,
}

#[derive(Clone, Debug)]
pub struct Requirement {
    /// Stable within the protocol: reports and the model refer to it.
    pub id: String,
    pub text: String,
    pub check: Option<Check>,
    pub compiled: Option<CompiledCheck>,
}

/// A heading of the guidance and what follows it, wikilinks made plain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct Protocol {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub applies_to: Vec<DocumentType>,
    pub subject: SubjectKind,
    pub requirements: Vec<Requirement>,
    pub sections: Vec<Section>,
    /// Targets of `[[wikilinks]]` in the body.
    pub links: Vec<String>,
    /// The file it came from, for messages.
    pub file: String,
}

impl Protocol {
    /// The record fields its rules compare documents with.
    pub fn checked_fields(&self) -> Vec<RecordField> {
        let mut fields = Vec::new();
        for r in &self.requirements {
            if let Some(Check::MatchesRecord { field }) = &r.check
                && !fields.contains(field)
            {
                fields.push(*field);
            }
        }
        fields
    }
}

/// A protocol file that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProtocolError {
    pub file: String,
    pub reason: String,
}

#[derive(Deserialize)]
struct FrontMatter {
    id: String,
    version: u32,
    #[serde(default)]
    title: Option<String>,
    applies_to: Vec<String>,
    subject: SubjectKind,
    requirements: Vec<RequirementSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementSpec {
    id: String,
    text: String,
    #[serde(default)]
    check: Option<Check>,
}

static ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_.]{0,63}$").expect("valid regex"));
static WIKILINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]+))?\]\]").expect("valid regex")
});

/// Splits `---` front matter from the body.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = rest.strip_prefix("---")?.trim_start_matches([' ', '\t']);
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let end = rest.find("\n---")?;
    let body = rest[end + 4..]
        .trim_start_matches(['-'])
        .trim_start_matches(['\r', '\n']);
    Some((&rest[..end], body))
}

/// Replaces `[[target|alias]]` by its alias (or target) and collects targets.
fn plain_links(text: &str, links: &mut Vec<String>) -> String {
    WIKILINK
        .replace_all(text, |c: &regex::Captures| {
            let target = c[1].trim().to_owned();
            if !links.contains(&target) {
                links.push(target.clone());
            }
            c.get(2).map_or(target, |a| a.as_str().trim().to_owned())
        })
        .into_owned()
}

fn sections(body: &str, title: &str, links: &mut Vec<String>) -> Vec<Section> {
    let mut out = Vec::new();
    let mut heading = title.to_owned();
    let mut current = String::new();
    for line in body.lines() {
        if let Some(h) = line.strip_prefix('#') {
            if !current.trim().is_empty() {
                out.push(Section {
                    heading: heading.clone(),
                    body: plain_links(current.trim(), links),
                });
            }
            heading = plain_links(h.trim_start_matches('#').trim(), links);
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.trim().is_empty() {
        out.push(Section {
            heading,
            body: plain_links(current.trim(), links),
        });
    }
    out
}

/// A vault note that is not a protocol: knowledge the agent can retrieve as guidance.
#[derive(Clone, Debug)]
pub struct GuidanceNote {
    pub file: String,
    pub title: String,
    pub sections: Vec<Section>,
}

/// What a note in the vault is.
#[derive(Clone, Debug)]
pub enum Note {
    Protocol(Protocol),
    Guidance(GuidanceNote),
}

/// Reads one vault note. A note whose front matter has `requirements` or
/// `applies_to` is a protocol and must be valid; any other note is guidance.
pub fn parse_note(file: &str, text: &str) -> Result<Note, ProtocolError> {
    let fail = |reason: String| ProtocolError {
        file: file.to_owned(),
        reason,
    };
    let protocol_like = match split_front_matter(text) {
        Some((front, _)) => {
            let value: yaml_serde::Value =
                yaml_serde::from_str(front).map_err(|e| fail(format!("front matter: {e}")))?;
            value.get("requirements").is_some() || value.get("applies_to").is_some()
        }
        None => false,
    };
    if protocol_like {
        return parse(file, text).map(Note::Protocol);
    }
    let body = split_front_matter(text).map_or(text, |(_, body)| body);
    let fallback = file
        .trim_end_matches(".md")
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .to_owned();
    let title = body
        .lines()
        .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_owned()))
        .unwrap_or(fallback);
    let sections = sections(body, &title, &mut Vec::new());
    Ok(Note::Guidance(GuidanceNote {
        file: file.to_owned(),
        title,
        sections,
    }))
}

/// Parses one protocol file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Protocol, ProtocolError> {
    let fail = |reason: String| ProtocolError {
        file: file.to_owned(),
        reason,
    };
    let (front, body) = split_front_matter(text)
        .ok_or_else(|| fail("no YAML front matter between `---` lines at the top".into()))?;
    let fm: FrontMatter =
        yaml_serde::from_str(front).map_err(|e| fail(format!("front matter: {e}")))?;
    if !ID.is_match(&fm.id) {
        return Err(fail(format!(
            "id `{}` must be lowercase letters, digits, `_` or `.`",
            fm.id
        )));
    }
    if fm.version == 0 {
        return Err(fail("version must be 1 or more".into()));
    }
    if fm.applies_to.is_empty() {
        return Err(fail(
            "applies_to must name at least one document type".into(),
        ));
    }
    let applies_to = fm
        .applies_to
        .iter()
        .map(|t| DocumentType::parse("applies_to", t).map_err(|e| fail(e.message)))
        .collect::<Result<Vec<_>, _>>()?;
    if fm.requirements.is_empty() {
        return Err(fail(
            "requirements must list at least one requirement".into(),
        ));
    }
    let mut requirements: Vec<Requirement> = Vec::new();
    for spec in fm.requirements {
        if !ID.is_match(&spec.id) || spec.id.contains('.') {
            return Err(fail(format!(
                "requirement id `{}` must be lowercase letters, digits or `_`",
                spec.id
            )));
        }
        if requirements.iter().any(|r| r.id == spec.id) {
            return Err(fail(format!("requirement id `{}` is used twice", spec.id)));
        }
        if spec.text.trim().is_empty() {
            return Err(fail(format!("requirement `{}` has no text", spec.id)));
        }
        let compiled = spec
            .check
            .as_ref()
            .map(Check::compile)
            .transpose()
            .map_err(|e| fail(format!("requirement `{}`: {e}", spec.id)))?;
        requirements.push(Requirement {
            id: spec.id,
            text: spec.text.trim().to_owned(),
            check: spec.check,
            compiled,
        });
    }
    let title = fm.title.unwrap_or_else(|| {
        body.lines()
            .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_owned()))
            .unwrap_or_else(|| fm.id.clone())
    });
    let mut links = Vec::new();
    let sections = sections(body, &title, &mut links);
    Ok(Protocol {
        id: fm.id,
        version: fm.version,
        title,
        applies_to,
        subject: fm.subject,
        requirements,
        sections,
        links,
        file: file.to_owned(),
    })
}

/// The usable protocols of a vault and the files that were not usable.
#[derive(Clone, Debug, Default)]
pub struct ProtocolSet {
    pub protocols: Vec<Protocol>,
    /// The vault's other notes, retrievable as guidance.
    pub notes: Vec<GuidanceNote>,
    pub errors: Vec<ProtocolError>,
}

impl ProtocolSet {
    /// Builds the set from `(file name, text)` pairs; a later file that reuses an
    /// id or a document type of an earlier one is reported, not loaded.
    pub fn from_files(files: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut set = Self::default();
        let mut by_type: BTreeMap<DocumentType, String> = BTreeMap::new();
        for (file, text) in files {
            let protocol = match parse_note(&file, &text) {
                Ok(Note::Protocol(p)) => p,
                Ok(Note::Guidance(note)) => {
                    set.notes.push(note);
                    continue;
                }
                Err(e) => {
                    set.errors.push(e);
                    continue;
                }
            };
            if let Some(other) = set.protocols.iter().find(|p| p.id == protocol.id) {
                set.errors.push(ProtocolError {
                    file,
                    reason: format!("id `{}` is already used by {}", protocol.id, other.file),
                });
                continue;
            }
            if let Some(t) = protocol
                .applies_to
                .iter()
                .find(|t| by_type.contains_key(*t))
            {
                set.errors.push(ProtocolError {
                    file,
                    reason: format!("document type `{t}` is already covered by {}", by_type[t]),
                });
                continue;
            }
            for t in &protocol.applies_to {
                by_type.insert(t.clone(), protocol.file.clone());
            }
            set.protocols.push(protocol);
        }
        set
    }

    pub fn for_type(&self, doc_type: &DocumentType) -> Option<&Protocol> {
        self.protocols
            .iter()
            .find(|p| p.applies_to.contains(doc_type))
    }

    /// Every document type some protocol covers, for `subject`.
    pub fn types_for(&self, subject: SubjectKind) -> Vec<DocumentType> {
        self.protocols
            .iter()
            .filter(|p| p.subject == subject)
            .flat_map(|p| p.applies_to.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---\nid: client.insurance_certificate\nversion: 3\napplies_to: [insurance_certificate]\nsubject: client\ntags: [credentialing]\nrequirements:\n  - id: insured_is_client\n    text: The named insured is the client.\n    check: { kind: matches_record, field: legal_name }\n  - id: period_covers_today\n    text: The policy period covers the day of verification.\n    check: { kind: date_not_expired }\n  - id: issued_by_insurer\n    text: Issued by an insurance company.\n---\n# Certificate of insurance\nGuidance, see [[Insurers|the list of insurers]] and [[KNF register]].\n## Period\nThe period must cover today.\n";

    #[test]
    fn a_protocol_note_parses_with_its_sections_and_links() {
        let p = parse("insurance.md", GOOD).unwrap();
        assert_eq!(
            (p.id.as_str(), p.version, p.subject),
            ("client.insurance_certificate", 3, SubjectKind::Client)
        );
        assert_eq!(p.title, "Certificate of insurance");
        assert_eq!(p.requirements.len(), 3);
        assert!(p.requirements[0].compiled.is_some() && p.requirements[2].compiled.is_none());
        assert_eq!(p.links, ["Insurers", "KNF register"]);
        assert_eq!(
            p.sections[0].body,
            "Guidance, see the list of insurers and KNF register."
        );
        assert_eq!(p.sections[1].heading, "Period");
    }

    #[test]
    fn broken_files_are_reported_by_name_and_the_rest_load() {
        let cases = [
            (
                "no-front.md",
                "---\nrequirements: []\n---\n# A protocol without id".to_owned(),
            ),
            ("bad-yaml.md", "---\nid: [unclosed\n---\n".to_owned()),
            (
                "bad-check.md",
                GOOD.replace(
                    "{ kind: date_not_expired }",
                    "{ kind: pattern, pattern: \"(\" }",
                )
                .replace("client.insurance_certificate", "x.a"),
            ),
            (
                "unknown-check.md",
                GOOD.replace("date_not_expired", "date_in_future")
                    .replace("client.insurance_certificate", "x.b"),
            ),
            (
                "dup-req.md",
                GOOD.replace("issued_by_insurer", "insured_is_client")
                    .replace("client.insurance_certificate", "x.c"),
            ),
            (
                "dup-type.md",
                GOOD.replace("client.insurance_certificate", "x.d"),
            ),
        ];
        let files = std::iter::once(("good.md".to_owned(), GOOD.to_owned()))
            .chain(cases.iter().map(|(f, t)| (f.to_string(), t.clone())));
        let set = ProtocolSet::from_files(files);
        assert_eq!(set.protocols.len(), 1);
        let failed: Vec<&str> = set.errors.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(
            failed,
            [
                "no-front.md",
                "bad-yaml.md",
                "bad-check.md",
                "unknown-check.md",
                "dup-req.md",
                "dup-type.md"
            ]
        );
        assert!(
            set.errors[5].reason.contains("already covered by good.md"),
            "{:?}",
            set.errors[5]
        );
        assert!(
            set.errors[2]
                .reason
                .contains("not a valid regular expression")
        );
        let t = DocumentType::parse("t", "insurance_certificate").unwrap();
        assert_eq!(set.for_type(&t).unwrap().file, "good.md");
    }

    #[test]
    fn notes_that_are_not_protocols_become_guidance() {
        let set = ProtocolSet::from_files([
            (
                "knowledge/Insurers.md".to_owned(),
                "# Insurers\nPZU, Warta and Allianz issue most certificates.\n".to_owned(),
            ),
            (
                "daily.md".to_owned(),
                "---\ntags: [daily]\n---\nMet the client.\n".to_owned(),
            ),
        ]);
        assert!(set.errors.is_empty() && set.protocols.is_empty());
        assert_eq!(set.notes.len(), 2);
        assert_eq!(set.notes[0].title, "Insurers");
        assert_eq!(set.notes[1].title, "daily");
    }
}
