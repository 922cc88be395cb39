//! Verification reports and the decision rules of the agent (design §4, steps
//! 6-7): grounding of the model's evidence, the document-text defences, and
//! how rule and model verdicts become approved, rejected or review.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use time::Date;

use super::checks::CheckResult;
use super::document::DocumentType;
use super::protocol::Protocol;
use super::text::{fold, squash};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    Met,
    NotMet,
    Unclear,
}

/// Who decided a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A deterministic check of the protocol.
    Rule,
    /// The language model, its evidence found in the text.
    Model,
    /// Nobody could: no check, and no (usable) model answer.
    None,
}

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
pub enum Outcome {
    Approved,
    Rejected,
    /// A person decides, in the review queue.
    Review,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequirementReport {
    pub id: String,
    pub text: String,
    pub verdict: Verdict,
    pub source: Source,
    pub evidence: Option<String>,
    /// 1-based page of the evidence.
    pub page: Option<u32>,
    /// The evidence occurs in the extracted text of that page.
    pub grounded: bool,
    pub confidence: Option<f64>,
    pub reason: String,
}

/// Something about the document a person should know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    /// `prompt_injection`, `extraction`, `model`, `protocol`.
    pub kind: String,
    pub detail: String,
    pub page: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tokens {
    pub prompt: u64,
    pub completion: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProtocolRef {
    pub id: String,
    pub version: u32,
}

/// The agent's full account of one document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub doc_type: DocumentType,
    pub protocol: Option<ProtocolRef>,
    pub decision: Outcome,
    pub reasons: Vec<String>,
    pub requirements: Vec<RequirementReport>,
    pub flags: Vec<Flag>,
    /// The model consulted, if any.
    pub model: Option<String>,
    /// `sha256:` of the prompt files used.
    pub prompt_version: Option<String>,
    pub tokens: Tokens,
    pub latency_ms: u64,
    /// Pages and characters of extracted text.
    pub pages: u32,
    pub chars: u64,
    /// When the credential expires (`YYYY-MM-DD`), as the date check read it.
    #[serde(with = "super::dates::iso_date::option", default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    /// The record fields the protocol's rules compare the document with; an
    /// approval rests on them, so changing one re-opens it. `null` when not
    /// known (no protocol applied, or a report of an older version).
    #[serde(default)]
    pub checked_fields: Option<Vec<super::checks::RecordField>>,
}

/// One requirement as the model answered it, before grounding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelVerdict {
    pub id: String,
    pub verdict: Verdict,
    pub evidence: String,
    pub page: u32,
    pub reason: String,
    pub confidence: f64,
}

/// Shortest evidence that can ground a verdict: a lone word or a few letters
/// occur in nearly any document and would prove nothing.
const MIN_QUOTE_CHARS: usize = 8;
const MIN_QUOTE_WORDS: usize = 2;

/// Whether `quote` occurs on page `page` (1-based) of `pages`, ignoring case
/// and spacing. A quote shorter than two words and eight characters grounds
/// nothing.
pub fn grounded(quote: &str, page: u32, pages: &[String]) -> bool {
    let quote = squash(quote);
    if quote.chars().count() < MIN_QUOTE_CHARS
        || quote.split(' ').filter(|w| !w.is_empty()).count() < MIN_QUOTE_WORDS
    {
        return false;
    }
    let Some(text) = page.checked_sub(1).and_then(|i| pages.get(i as usize)) else {
        return false;
    };
    squash(text).contains(&quote)
}

/// Phrases in which a document addresses the model instead of a reader (folded
/// text, English and Polish). Text like this never approves anything.
static INJECTION: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(ignore|disregard|forget|override) (all |any )?(the )?(previous|prior|above|earlier|preceding|system) (instructions?|prompts?|rules|messages?)",
        r"(ignore|disregard) (your|the) (instructions|rules|protocol)",
        r"(mark|set|classify|treat|report|flag) (this|the) (document|file|certificate)? ?as (approved|valid|verified|compliant|met|genuine)",
        r"(approve|accept|verify) this (document|file|certificate)",
        r"all requirements (are|were) (met|satisfied|fulfilled)",
        r"(you are|you're|act as) (an? )?(ai|assistant|language model|llm|chatbot|reviewer)",
        r"(system|developer) (prompt|message|instructions?)",
        r#""verdict" ?: ?"met""#,
        r"(zignoruj|pomin|zapomnij) (wszystkie |wczesniejsze |poprzednie )*(instrukcje|polecenia|zasady)",
        r"(zatwierdz|zaakceptuj) (ten |to )?(dokument|plik|certyfikat)",
        r"oznacz (ten |to )?(dokument |go )?jako (zatwierdzony|poprawny|wazny|zaakceptowany)",
        r"jestes (modelem|asystentem|ai|sztuczna inteligencja)",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("valid regex"))
    .collect()
});

/// Flags every page with text that addresses the model.
pub fn injection_flags(pages: &[String]) -> Vec<Flag> {
    let mut flags = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let folded = fold(page);
        if let Some(m) = INJECTION.iter().find_map(|re| re.find(&folded)) {
            flags.push(Flag {
                kind: "prompt_injection".into(),
                detail: format!(
                    "the document addresses the reviewer or model: \"{}\"",
                    m.as_str()
                ),
                page: Some(i as u32 + 1),
            });
        }
    }
    flags
}

/// What the rules and the model said, assembled into verdicts and a decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub decision: Outcome,
    pub reasons: Vec<String>,
    pub requirements: Vec<RequirementReport>,
    pub expires_on: Option<Date>,
}

/// The decision rules. Deterministic checks decide the requirements that have
/// them, whatever the model said. A model verdict counts only when its evidence
/// occurs on the page it names and its confidence reaches `threshold`. Any rule
/// failure rejects, unless part of the text could not be read (the missing
/// words might have met the rule: a person looks); everything met approves
/// unless a flag asks for a person; anything else goes to review.
pub fn assess(
    protocol: &Protocol,
    rules: &BTreeMap<String, CheckResult>,
    model: Option<&[ModelVerdict]>,
    pages: &[String],
    threshold: f64,
    flags: &[Flag],
) -> Assessment {
    let mut requirements = Vec::new();
    let mut expires_on = None;
    for req in &protocol.requirements {
        let report = match rules.get(&req.id) {
            Some(rule) => {
                expires_on = expires_on.or(rule.expires_on);
                RequirementReport {
                    id: req.id.clone(),
                    text: req.text.clone(),
                    verdict: rule.verdict,
                    source: Source::Rule,
                    evidence: rule.evidence.clone(),
                    page: rule.page,
                    grounded: rule.evidence.is_some(),
                    confidence: None,
                    reason: rule.reason.clone(),
                }
            }
            None => from_model(&req.id, &req.text, model, pages, threshold),
        };
        requirements.push(report);
    }
    let failed: Vec<String> = requirements
        .iter()
        .filter(|r| r.source == Source::Rule && r.verdict == Verdict::NotMet)
        .map(|r| format!("{}: {}", r.id, r.reason))
        .collect();
    let open: Vec<String> = requirements
        .iter()
        .filter(|r| r.verdict != Verdict::Met)
        .map(|r| format!("{}: {}", r.id, r.reason))
        .collect();
    let text_incomplete = flags.iter().any(|f| f.kind == "extraction");
    let (decision, reasons) = if !failed.is_empty() && !text_incomplete {
        (Outcome::Rejected, failed)
    } else if !flags.is_empty() {
        (
            Outcome::Review,
            flags.iter().map(|f| f.detail.clone()).chain(open).collect(),
        )
    } else if open.is_empty() {
        (Outcome::Approved, Vec::new())
    } else {
        (Outcome::Review, open)
    };
    Assessment {
        decision,
        reasons,
        requirements,
        expires_on,
    }
}

fn from_model(
    id: &str,
    text: &str,
    model: Option<&[ModelVerdict]>,
    pages: &[String],
    threshold: f64,
) -> RequirementReport {
    let unclear = |reason: &str| RequirementReport {
        id: id.to_owned(),
        text: text.to_owned(),
        verdict: Verdict::Unclear,
        source: Source::None,
        evidence: None,
        page: None,
        grounded: false,
        confidence: None,
        reason: reason.to_owned(),
    };
    let Some(answers) = model else {
        return unclear("no deterministic check, and no language model configured");
    };
    let Some(answer) = answers.iter().find(|a| a.id == id) else {
        return unclear("the model gave no answer for it");
    };
    let is_grounded = grounded(&answer.evidence, answer.page, pages);
    let confidence = answer.confidence.clamp(0.0, 1.0);
    let (verdict, reason) = match answer.verdict {
        Verdict::Unclear => (Verdict::Unclear, answer.reason.clone()),
        _ if !is_grounded => (
            Verdict::Unclear,
            format!(
                "the model's evidence was not found on page {}: {}",
                answer.page, answer.reason
            ),
        ),
        _ if confidence < threshold => (
            Verdict::Unclear,
            format!(
                "the model's confidence {confidence:.2} is below {threshold:.2}: {}",
                answer.reason
            ),
        ),
        v => (v, answer.reason.clone()),
    };
    RequirementReport {
        id: id.to_owned(),
        text: text.to_owned(),
        verdict,
        source: Source::Model,
        evidence: Some(answer.evidence.clone()).filter(|e| !e.is_empty()),
        page: Some(answer.page),
        grounded: is_grounded,
        confidence: Some(confidence),
        reason,
    }
}

#[cfg(test)]
#[path = "verification_tests.rs"]
mod tests;
