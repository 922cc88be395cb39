//! The protocol vault on disk (an Obsidian-compatible folder of Markdown notes),
//! loaded into a [`ProtocolSet`] and indexed with tantivy: requirements by the
//! document types they apply to, and every guidance section by its words, so
//! the agent retrieves what applies to a document instead of sending the whole
//! vault to the model.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use crate::domain::document::DocumentType;
use crate::domain::protocol::{Protocol, ProtocolError, ProtocolSet};
use crate::domain::text::fold;

const TOKENIZER: &str = "folded";

#[derive(Clone, Copy)]
struct Fields {
    kind: Field,
    protocol: Field,
    doc_type: Field,
    requirement: Field,
    heading: Field,
    body: Field,
}

/// A guidance section found for a document.
#[derive(Clone, Debug, PartialEq)]
pub struct Guidance {
    pub protocol: String,
    pub heading: String,
    pub body: String,
}

/// One loaded vault: the protocols, the broken files, and the index over them.
pub struct Vault {
    pub set: ProtocolSet,
    reader: IndexReader,
    fields: Fields,
    fingerprint: u64,
    pub dir: PathBuf,
    pub loaded_at: time::OffsetDateTime,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("protocols", &self.set.protocols.len())
            .field("errors", &self.set.errors)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot read the protocols folder {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("cannot build the protocol index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// The Markdown notes under `dir`, skipping hidden folders such as `.obsidian`.
fn note_paths(dir: &Path) -> Result<Vec<PathBuf>, VaultError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| VaultError::Io(d.clone(), e))?;
        for entry in entries {
            let path = entry.map_err(|e| VaultError::Io(d.clone(), e))?.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Changes whenever a note is added, removed or modified.
fn fingerprint(dir: &Path) -> Result<u64, VaultError> {
    let mut h = DefaultHasher::new();
    for path in note_paths(dir)? {
        let meta = std::fs::metadata(&path).map_err(|e| VaultError::Io(path.clone(), e))?;
        (path.display().to_string(), meta.len(), meta.modified().ok()).hash(&mut h);
    }
    Ok(h.finish())
}

impl Vault {
    /// Reads and indexes every note under `dir`. Broken notes are kept in
    /// `set.errors` with their file name; the rest load.
    pub fn load(dir: &Path) -> Result<Self, VaultError> {
        if !dir.is_dir() {
            // No vault yet: nothing applies, every document goes to review, health says why.
            let mut set = ProtocolSet::default();
            set.errors.push(ProtocolError {
                file: dir.display().to_string(),
                reason: "the protocols folder does not exist".into(),
            });
            let (index, fields) = build_index(&set)?;
            let reader = index.reader()?;
            return Ok(Self {
                set,
                reader,
                fields,
                fingerprint: 0,
                dir: dir.to_owned(),
                loaded_at: crate::store::now(),
            });
        }
        let fingerprint = fingerprint(dir)?;
        let mut files = Vec::new();
        for path in note_paths(dir)? {
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((name, text)),
                Err(e) => files.push((name, format!("unreadable: {e}"))),
            }
        }
        let set = ProtocolSet::from_files(files);
        let (index, fields) = build_index(&set)?;
        let reader = index.reader()?;
        Ok(Self {
            set,
            reader,
            fields,
            fingerprint,
            dir: dir.to_owned(),
            loaded_at: crate::store::now(),
        })
    }

    /// The protocol for `doc_type`, found through the index.
    pub fn protocol_for(&self, doc_type: &DocumentType) -> Option<&Protocol> {
        let query = BooleanQuery::new(vec![
            (Occur::Must, term(self.fields.kind, "requirement")),
            (Occur::Must, term(self.fields.doc_type, doc_type.as_str())),
        ]);
        let searcher = self.reader.searcher();
        let hits = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .ok()?;
        let (_, address) = hits.first()?;
        let doc: TantivyDocument = searcher.doc(*address).ok()?;
        let id = doc.get_first(self.fields.protocol)?.as_str()?.to_owned();
        self.set.protocols.iter().find(|p| p.id == id)
    }

    /// The guidance sections most related to `text`, best first, within
    /// `budget_chars` in all.
    pub fn guidance(&self, text: &str, budget_chars: usize) -> Vec<Guidance> {
        let terms = salient_words(text, 40);
        if terms.is_empty() || budget_chars == 0 {
            return Vec::new();
        }
        let should: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .flat_map(|w| {
                [
                    (Occur::Should, term(self.fields.body, w)),
                    (Occur::Should, term(self.fields.heading, w)),
                ]
            })
            .collect();
        let query = BooleanQuery::new(vec![
            (Occur::Must, term(self.fields.kind, "section")),
            (
                Occur::Must,
                Box::new(BooleanQuery::new(should)) as Box<dyn Query>,
            ),
        ]);
        let searcher = self.reader.searcher();
        let Ok(hits) = searcher.search(&query, &TopDocs::with_limit(8).order_by_score()) else {
            return Vec::new();
        };
        let mut used = 0;
        let mut out = Vec::new();
        for (_, address) in hits {
            let Ok(doc) = searcher.doc::<TantivyDocument>(address) else {
                continue;
            };
            let get = |f: Field| {
                doc.get_first(f)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            };
            let g = Guidance {
                protocol: get(self.fields.protocol),
                heading: get(self.fields.heading),
                body: get(self.fields.body),
            };
            let size = g.heading.len() + g.body.len();
            if used + size > budget_chars {
                continue;
            }
            used += size;
            out.push(g);
        }
        out
    }

    pub fn errors(&self) -> &[ProtocolError] {
        &self.set.errors
    }
}

fn term(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// The document's most frequent meaningful words, folded like the index.
fn salient_words(text: &str, max: usize) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for word in fold(text).split(|c: char| !c.is_alphanumeric()) {
        if word.chars().count() >= 4 && !word.chars().all(|c| c.is_ascii_digit()) {
            *counts.entry(word.to_owned()).or_default() += 1;
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().take(max).map(|(w, _)| w).collect()
}

fn build_index(set: &ProtocolSet) -> Result<(Index, Fields), tantivy::TantivyError> {
    let mut schema = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        kind: schema.add_text_field("kind", STRING | STORED),
        protocol: schema.add_text_field("protocol", STRING | STORED),
        doc_type: schema.add_text_field("doc_type", STRING | STORED),
        requirement: schema.add_text_field("requirement", STRING | STORED),
        heading: schema.add_text_field("heading", text.clone()),
        body: schema.add_text_field("body", text),
    };
    let index = Index::create_in_ram(schema.build());
    // Folded like `domain::text::fold`, so Polish words match with or without diacritics.
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    index.tokenizers().register(TOKENIZER, analyzer);
    let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
    for p in &set.protocols {
        for r in &p.requirements {
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.kind, "requirement");
            doc.add_text(fields.protocol, &p.id);
            for t in &p.applies_to {
                doc.add_text(fields.doc_type, t.as_str());
            }
            doc.add_text(fields.requirement, &r.id);
            doc.add_text(fields.heading, &p.title);
            doc.add_text(fields.body, &r.text);
            writer.add_document(doc)?;
        }
        for s in &p.sections {
            writer.add_document(section(fields, &p.id, s))?;
        }
    }
    for note in &set.notes {
        for s in &note.sections {
            writer.add_document(section(fields, &note.file, s))?;
        }
    }
    writer.commit()?;
    Ok((index, fields))
}

fn section(fields: Fields, source: &str, s: &crate::domain::protocol::Section) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.kind, "section");
    doc.add_text(fields.protocol, source);
    doc.add_text(fields.heading, &s.heading);
    doc.add_text(fields.body, &s.body);
    doc
}

/// The current vault, replaced whole when the folder changes.
#[derive(Clone, Debug)]
pub struct Protocols {
    dir: PathBuf,
    current: Arc<RwLock<Arc<Vault>>>,
}

impl Protocols {
    pub fn open(dir: &Path) -> Result<Self, VaultError> {
        let vault = Vault::load(dir)?;
        log_load(&vault);
        Ok(Self {
            dir: dir.to_owned(),
            current: Arc::new(RwLock::new(Arc::new(vault))),
        })
    }

    pub fn current(&self) -> Arc<Vault> {
        self.current
            .read()
            .expect("the vault lock is never poisoned")
            .clone()
    }

    /// Re-reads the folder now.
    pub fn reload(&self) -> Result<Arc<Vault>, VaultError> {
        let vault = Arc::new(Vault::load(&self.dir)?);
        log_load(&vault);
        *self
            .current
            .write()
            .expect("the vault lock is never poisoned") = vault.clone();
        Ok(vault)
    }

    /// Re-reads the folder if a note was added, removed or changed.
    pub fn reload_if_changed(&self) -> Result<bool, VaultError> {
        let now = if self.dir.is_dir() {
            fingerprint(&self.dir)?
        } else {
            0
        };
        if now == self.current().fingerprint {
            return Ok(false);
        }
        self.reload()?;
        Ok(true)
    }
}

fn log_load(vault: &Vault) {
    tracing::info!(dir = %vault.dir.display(), protocols = vault.set.protocols.len(), broken = vault.set.errors.len(), "protocols indexed");
    for e in &vault.set.errors {
        tracing::warn!(file = %e.file, reason = %e.reason, "protocol file not loaded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const NDA: &str = "---\nid: client.nda\nversion: 1\napplies_to: [nda]\nsubject: client\nrequirements:\n  - id: signed\n    text: The agreement is signed by both parties.\n---\n# NDA\n## Signatures\nA signed NDA carries the names and signatures of both parties (podpisy stron).\n## Confidentiality\nThe agreement keeps client data confidential.\n";
    const INSURANCE: &str = "---\nid: client.insurance\nversion: 1\napplies_to: [insurance_certificate]\nsubject: client\nrequirements:\n  - id: insurer\n    text: Issued by an insurer.\n---\n# Insurance\n## Insurers\nPolicies are issued by insurance companies (ubezpieczyciel).\n";

    #[test]
    fn requirements_are_found_by_type_and_guidance_by_words() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "nda.md", NDA);
        write(dir.path(), "insurance.md", INSURANCE);
        std::fs::create_dir(dir.path().join(".obsidian")).unwrap();
        write(
            &dir.path().join(".obsidian"),
            "workspace.md",
            "not a protocol",
        );
        let vault = Vault::load(dir.path()).unwrap();
        assert!(vault.errors().is_empty(), "{:?}", vault.errors());
        let nda = DocumentType::parse("t", "nda").unwrap();
        assert_eq!(vault.protocol_for(&nda).unwrap().id, "client.nda");
        assert!(
            vault
                .protocol_for(&DocumentType::parse("t", "passport").unwrap())
                .is_none()
        );
        let found = vault.guidance(
            "Umowa o zachowaniu poufności. Podpisy stron: Jan Nowak, Anna Kowalska. Podpisy.",
            10_000,
        );
        assert_eq!(found[0].heading, "Signatures", "{found:?}");
        assert!(
            vault.guidance("Podpisy podpisy", 10).is_empty(),
            "a tiny budget takes nothing"
        );
    }

    #[test]
    fn the_shipped_vault_covers_every_credential_type() {
        let vault = Vault::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols")).unwrap();
        assert!(vault.errors().is_empty(), "{:?}", vault.errors());
        for t in [
            "business_registration",
            "insurance_certificate",
            "nda",
            "tax_id_confirmation",
            "professional_certificate",
            "identity_confirmation",
            "liability_insurance",
            "expert_agreement",
        ] {
            let p = vault
                .protocol_for(&DocumentType::parse("t", t).unwrap())
                .unwrap_or_else(|| panic!("no protocol for {t}"));
            assert!(!p.requirements.is_empty());
        }
        assert!(
            vault.set.notes.len() >= 3,
            "the knowledge notes are guidance"
        );
        let found = vault.guidance("Polisa OC wystawiona przez PZU SA, ubezpieczyciel", 5_000);
        assert!(found.iter().any(|g| g.heading == "Insurers"), "{found:?}");
    }

    /// The shipped pattern checks read real wording both ways: a negation or a
    /// look-alike word must not pass for the thing the rule asks for.
    #[test]
    fn the_shipped_pattern_checks_refuse_negative_wording() {
        use crate::domain::checks::{self, Subject};
        use crate::domain::verification::Verdict;
        let vault = Vault::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols")).unwrap();
        let verdict = |doc_type: &str, requirement: &str, text: &str| {
            let protocol = vault
                .protocol_for(&DocumentType::parse("t", doc_type).unwrap())
                .unwrap();
            let req = protocol
                .requirements
                .iter()
                .find(|r| r.id == requirement)
                .unwrap();
            let today = time::macros::date!(2026 - 11 - 30);
            checks::run(
                req.compiled.as_ref().unwrap(),
                &[text.to_owned()],
                &Subject::new(),
                today,
            )
            .verdict
        };
        let cases = [
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "Status podatnika VAT: Czynny",
                true,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "Status podatnika VAT – czynny",
                true,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "VAT status: active",
                true,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "Yes, valid VAT number",
                true,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "Status podatnika VAT: Niezarejestrowany",
                false,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "Podmiot jest nieczynny; podatnik VAT zwolniony",
                false,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "No, invalid VAT number for cross border transactions",
                false,
            ),
            (
                "tax_id_confirmation",
                "active_vat_payer",
                "The company is not active. VAT status: inactive",
                false,
            ),
            (
                "insurance_certificate",
                "liability_cover",
                "Polisa OC działalności gospodarczej",
                true,
            ),
            (
                "insurance_certificate",
                "liability_cover",
                "Ubezpieczenie odpowiedzialności cywilnej",
                true,
            ),
            (
                "insurance_certificate",
                "liability_cover",
                "Cover: third-party liability",
                true,
            ),
            (
                "insurance_certificate",
                "liability_cover",
                "Insured: Acme Limited Liability Company. Cover: property damage (fire, flood)",
                false,
            ),
            (
                "insurance_certificate",
                "liability_cover",
                "Ubezpieczenie mienia od ognia (AC pojazdu)",
                false,
            ),
            (
                "liability_insurance",
                "professional_liability",
                "Professional indemnity insurance",
                true,
            ),
            (
                "liability_insurance",
                "professional_liability",
                "Ubezpieczenie OC zawodowe",
                true,
            ),
            (
                "liability_insurance",
                "professional_liability",
                "Errors & Omissions policy",
                true,
            ),
            (
                "liability_insurance",
                "professional_liability",
                "Professional Services Ltd, travel insurance",
                false,
            ),
            (
                "liability_insurance",
                "professional_liability",
                "Ubezpieczenie NNW (następstw nieszczęśliwych wypadków)",
                false,
            ),
        ];
        for (doc_type, requirement, text, met) in cases {
            let want = if met { Verdict::Met } else { Verdict::NotMet };
            assert_eq!(
                verdict(doc_type, requirement, text),
                want,
                "{doc_type}/{requirement}: {text}"
            );
        }
    }

    #[test]
    fn the_vault_reloads_when_a_note_changes_and_reports_broken_notes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "nda.md", NDA);
        let protocols = Protocols::open(dir.path()).unwrap();
        assert!(!protocols.reload_if_changed().unwrap());
        write(
            dir.path(),
            "broken.md",
            "---\nid: x\napplies_to: [nda]\n---\n",
        );
        assert!(protocols.reload_if_changed().unwrap());
        let vault = protocols.current();
        assert_eq!(vault.set.protocols.len(), 1);
        assert_eq!(vault.errors()[0].file, "broken.md");
    }
}
