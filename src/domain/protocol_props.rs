//! Property tests of the protocol parser on hostile notes: arbitrary text,
//! mutated copies of the shipped protocols, YAML bombs. Parsing never panics,
//! every error names its file, and whatever parses keeps the protocol rules.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::protocol::{Note, Protocol, ProtocolError, parse, parse_note};

/// The vault as shipped: realistic starting points for mutation.
const SHIPPED: [&str; 4] = [
    include_str!("../../protocols/client/insurance-certificate.md"),
    include_str!("../../protocols/client/nda.md"),
    include_str!("../../protocols/expert/identity-confirmation.md"),
    include_str!("../../protocols/knowledge/Insurers.md"),
];

/// What every parsed protocol must hold, whatever its text was.
fn keeps_the_rules(p: &Protocol, file: &str) -> Result<(), String> {
    let id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 64
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.".contains(c))
    };
    let mut ids: Vec<&str> = p.requirements.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let checks = [
        (p.file == file, "the file it came from"),
        (id_ok(&p.id), "a well-formed id"),
        (p.version >= 1, "a version of 1 or more"),
        (!p.applies_to.is_empty(), "a document type"),
        (!p.requirements.is_empty(), "a requirement"),
        (
            ids.len() == p.requirements.len(),
            "distinct requirement ids",
        ),
        (
            p.requirements.iter().all(|r| !r.text.trim().is_empty()),
            "requirement texts",
        ),
        (
            p.requirements
                .iter()
                .all(|r| r.check.is_some() == r.compiled.is_some()),
            "compiled checks",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(format!("{file}: parsed without {what}: {p:?}")),
        None => Ok(()),
    }
}

fn names_the_file(e: &ProtocolError, file: &str) -> Result<(), String> {
    if e.file == file && !e.reason.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("error for {file} reads {e:?}"))
    }
}

/// Parses `text` both ways, checking every outcome.
fn check_both(file: &str, text: &str) -> Result<(), String> {
    match parse(file, text) {
        Ok(p) => keeps_the_rules(&p, file)?,
        Err(e) => names_the_file(&e, file)?,
    }
    match parse_note(file, text) {
        Ok(Note::Protocol(p)) => keeps_the_rules(&p, file),
        Ok(Note::Guidance(g)) if g.file == file => Ok(()),
        Ok(Note::Guidance(g)) => Err(format!("guidance from {file} names {}", g.file)),
        Err(e) => names_the_file(&e, file),
    }
}

/// One edit of a note: cut it, delete, insert or replace a stretch, or
/// duplicate a line (YAML keys twice).
#[derive(Clone, Debug)]
enum Edit {
    Truncate(prop::sample::Index),
    Delete(prop::sample::Index, usize),
    Insert(prop::sample::Index, String),
    Replace(prop::sample::Index, char),
    DuplicateLine(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = any::<prop::sample::Index>;
    let hostile = prop_oneof![
        ".{0,12}",
        Just("\n---\n".to_owned()),
        Just("\n  - id: x\n".to_owned()),
        Just(": [".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("&a [*a]".to_owned()),
        Just("\t".to_owned()),
    ];
    prop_oneof![
        index().prop_map(Edit::Truncate),
        (index(), 1..40usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        (index(), hostile).prop_map(|(i, s)| Edit::Insert(i, s)),
        (index(), any::<char>()).prop_map(|(i, c)| Edit::Replace(i, c)),
        index().prop_map(Edit::DuplicateLine),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: &prop::sample::Index| i.index(chars.len() + 1);
    let joined = |parts: &[&[char]]| parts.concat().into_iter().collect::<String>();
    match edit {
        Edit::Truncate(i) => joined(&[&chars[..at(i)]]),
        Edit::Delete(i, n) => {
            let from = at(i);
            joined(&[&chars[..from], &chars[(from + n).min(chars.len())..]])
        }
        Edit::Insert(i, s) => {
            let inserted: Vec<char> = s.chars().collect();
            joined(&[&chars[..at(i)], &inserted, &chars[at(i)..]])
        }
        Edit::Replace(i, c) if !chars.is_empty() => {
            let mut chars = chars.clone();
            let n = i.index(chars.len());
            chars[n] = *c;
            chars.into_iter().collect()
        }
        Edit::Replace(..) => text.to_owned(),
        Edit::DuplicateLine(i) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let n = i.index(lines.len());
                lines.insert(n, lines[n]);
            }
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics_and_errors_name_the_file(
        file in "[a-zA-Z0-9 /._-]{1,30}\\.md",
        text in prop_oneof![".{0,300}", "---\n.{0,200}\n---\n.{0,100}", "---\n(\\PC|\n){0,300}"],
    ) {
        check_both(&file, &text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn mutated_shipped_notes_never_panic_and_errors_name_the_file(
        note in prop::sample::select(SHIPPED.to_vec()),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = edits.iter().fold(note.to_owned(), |t, e| apply(&t, e));
        check_both("vault/mutated.md", &text).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_shipped_notes_parse_so_their_mutations_start_from_valid() {
    for (n, note) in SHIPPED.iter().enumerate() {
        let parsed = parse_note("shipped.md", note).unwrap();
        // The last one is a knowledge note, the rest protocols.
        assert_eq!(matches!(parsed, Note::Protocol(_)), n < 3, "note {n}");
    }
}

/// A protocol's front matter after its id.
const REST: &str =
    "version: 1\napplies_to: [nda]\nsubject: client\nrequirements: [{id: a, text: b}]";

/// Front matter in a note around `yaml`.
fn note_with(yaml: &str) -> String {
    format!("---\n{yaml}\n---\n# Body\n")
}

#[test]
fn yaml_bombs_and_deep_nesting_are_refused_quickly() {
    let mut laughs = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    laughs.push_str("requirements: *a9\n");
    let hostile = [
        ("laughs.md", note_with(&laughs)),
        (
            "nested.md",
            note_with(&format!("id: {}", "[".repeat(10_000))),
        ),
        (
            "nested-map.md",
            note_with(&format!("id: {}x", "{a: ".repeat(10_000))),
        ),
        (
            "long-id.md",
            note_with(&format!("id: {}\n{REST}", "a".repeat(1 << 20))),
        ),
    ];
    for (file, text) in &hostile {
        let started = Instant::now();
        let result = parse_note(file, text);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{file} took {:?}",
            started.elapsed()
        );
        let error = result
            .err()
            .unwrap_or_else(|| panic!("{file} was accepted"));
        assert_eq!(error.file, *file);
    }
}
