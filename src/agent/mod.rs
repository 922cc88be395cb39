//! The document verification agent (design §4): extract the text, find the
//! protocol and related guidance, run the deterministic checks, ask the model
//! about the rest, ground its evidence, and decide. The agent reads and judges;
//! acting on the decision (statuses, access) belongs to the jobs that call it.

pub mod extract;
pub mod llm;
pub mod prompts;
pub mod sniff;
pub mod vault;

use std::collections::BTreeMap;
use std::time::Duration;

use time::Date;

use crate::domain::checks::{self, Subject};
use crate::domain::document::DocumentType;
use crate::domain::protocol::{Protocol, Requirement};
use crate::domain::verification::{
    self, Flag, ModelVerdict, Outcome, ProtocolRef, Report, Tokens, Verdict, grounded,
};
use extract::{Limits, Pages};
use llm::Llm;
use prompts::Prompts;
use sniff::FileKind;
use vault::{Protocols, Vault};

/// Tuning of the agent.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// A model verdict below this confidence counts as unclear.
    pub confidence_threshold: f64,
    /// Upper bound of one prompt, in characters; longer documents are sent in chunks.
    pub prompt_budget_chars: usize,
    /// Of that, how much related guidance may take.
    pub guidance_budget_chars: usize,
    pub limits: Limits,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            confidence_threshold: 0.8,
            prompt_budget_chars: 12_000,
            guidance_budget_chars: 2_000,
            limits: Limits::default(),
        }
    }
}

/// One document to verify.
#[derive(Clone, Debug)]
pub struct VerifyInput {
    pub doc_type: DocumentType,
    pub kind: FileKind,
    pub bytes: Vec<u8>,
    /// The CRM record the document must match.
    pub subject: Subject,
    pub today: Date,
}

/// A report and the text it was made from.
#[derive(Clone, Debug)]
pub struct Verified {
    pub report: Report,
    pub pages: Pages,
}

#[derive(Clone, Debug)]
pub struct Agent {
    protocols: Protocols,
    llm: Option<Llm>,
    prompts: Prompts,
    config: AgentConfig,
}

impl Agent {
    pub fn new(
        protocols: Protocols,
        llm: Option<Llm>,
        prompts: Prompts,
        config: AgentConfig,
    ) -> Self {
        Self {
            protocols,
            llm,
            prompts,
            config,
        }
    }

    pub fn protocols(&self) -> &Protocols {
        &self.protocols
    }

    pub fn model(&self) -> Option<&str> {
        self.llm.as_ref().map(Llm::model)
    }

    pub fn prompt_version(&self) -> &str {
        &self.prompts.version
    }

    /// Verifies one document. Never fails: whatever goes wrong becomes a
    /// flagged report that sends the document to a person.
    pub async fn verify(&self, input: VerifyInput) -> Verified {
        let vault = self.protocols.current();
        let Some(protocol) = vault.protocol_for(&input.doc_type) else {
            let flag = flag(
                "protocol",
                format!("no protocol applies to document type `{}`", input.doc_type),
                None,
            );
            return Verified {
                report: bare_report(&input.doc_type, None, vec![flag]),
                pages: Vec::new(),
            };
        };
        let pages =
            match extract::extract(input.bytes.clone(), input.kind, self.config.limits).await {
                Ok(pages) => pages,
                Err(e) => {
                    let report = bare_report(
                        &input.doc_type,
                        Some(protocol),
                        vec![flag("extraction", e.to_string(), None)],
                    );
                    return Verified {
                        report,
                        pages: Vec::new(),
                    };
                }
            };
        let mut flags = verification::injection_flags(&pages);
        let rules: BTreeMap<String, checks::CheckResult> = protocol
            .requirements
            .iter()
            .filter_map(|r| {
                r.compiled.as_ref().map(|c| {
                    (
                        r.id.clone(),
                        checks::run(c, &pages, &input.subject, input.today),
                    )
                })
            })
            .collect();
        let asked: Vec<&Requirement> = protocol
            .requirements
            .iter()
            .filter(|r| r.compiled.is_none())
            .collect();
        let mut judged = Judged::default();
        if let (Some(llm), false) = (&self.llm, asked.is_empty()) {
            match self
                .ask(llm, &vault, protocol, &asked, &pages, input.today)
                .await
            {
                Ok(j) => judged = j,
                Err(e) => flags.push(flag("model", e.to_string(), None)),
            }
        }
        let threshold = self.config.confidence_threshold;
        let answers = judged.answered.then_some(judged.verdicts.as_slice());
        let a = verification::assess(protocol, &rules, answers, &pages, threshold, &flags);
        let report = Report {
            doc_type: input.doc_type,
            protocol: Some(ProtocolRef {
                id: protocol.id.clone(),
                version: protocol.version,
            }),
            decision: a.decision,
            reasons: a.reasons,
            requirements: a.requirements,
            flags,
            model: judged.model,
            prompt_version: judged.answered.then(|| self.prompts.version.clone()),
            tokens: judged.tokens,
            latency_ms: judged.latency.as_millis() as u64,
            pages: pages.len() as u32,
            chars: pages.iter().map(|p| p.chars().count() as u64).sum(),
            expires_on: a.expires_on,
        };
        Verified { report, pages }
    }

    /// Asks the model about `asked`, a chunk of pages at a time, and keeps the
    /// best-grounded answer per requirement.
    async fn ask(
        &self,
        llm: &Llm,
        vault: &Vault,
        protocol: &Protocol,
        asked: &[&Requirement],
        pages: &Pages,
        today: Date,
    ) -> Result<Judged, llm::LlmError> {
        let ids: Vec<String> = asked.iter().map(|r| r.id.clone()).collect();
        let mut judged = Judged {
            answered: true,
            model: Some(llm.model().to_owned()),
            ..Judged::default()
        };
        for prompt in self.prompts_for(vault, protocol, asked, pages, today) {
            let j = llm.judge(&self.prompts.system, &prompt, &ids).await?;
            judged.tokens.prompt += j.tokens.prompt;
            judged.tokens.completion += j.tokens.completion;
            judged.latency += j.latency;
            judged.model = Some(j.model);
            judged.verdicts.extend(j.verdicts);
        }
        judged.verdicts = best_per_requirement(judged.verdicts, pages);
        Ok(judged)
    }

    /// The user prompts for a document: related guidance found by search, the
    /// requirements to judge, and the pages split into chunks that fit the budget.
    pub fn prompts_for(
        &self,
        vault: &Vault,
        protocol: &Protocol,
        asked: &[&Requirement],
        pages: &Pages,
        today: Date,
    ) -> Vec<String> {
        let all_text = pages.join("\n");
        let guidance = vault
            .guidance(&all_text, self.config.guidance_budget_chars)
            .iter()
            .map(|g| format!("### {} ({})\n{}", g.heading, g.protocol, g.body))
            .collect::<Vec<_>>()
            .join("\n\n");
        self.render_chunks(protocol, asked, pages, today, &guidance)
    }

    /// The same prompts with every protocol of the vault sent whole instead of
    /// the retrieved guidance: the baseline retrieval is measured against.
    pub fn prompts_with_whole_vault(
        &self,
        vault: &Vault,
        protocol: &Protocol,
        asked: &[&Requirement],
        pages: &Pages,
        today: Date,
    ) -> Vec<String> {
        let whole = vault
            .set
            .protocols
            .iter()
            .flat_map(|p| {
                p.sections
                    .iter()
                    .map(move |s| format!("### {} ({})\n{}", s.heading, p.id, s.body))
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        self.render_chunks(protocol, asked, pages, today, &whole)
    }

    fn render_chunks(
        &self,
        protocol: &Protocol,
        asked: &[&Requirement],
        pages: &Pages,
        today: Date,
        guidance: &str,
    ) -> Vec<String> {
        let requirements = asked
            .iter()
            .map(|r| format!("- `{}`: {}", r.id, r.text))
            .collect::<Vec<_>>()
            .join("\n");
        let today = today.to_string();
        let page_count = pages.len().to_string();
        let render = |first: usize, last: usize, document: &str| {
            self.prompts.user(&[
                ("protocol_title", &protocol.title),
                ("protocol_id", &protocol.id),
                ("protocol_version", &protocol.version.to_string()),
                (
                    "doc_type",
                    protocol.applies_to.first().map_or("", DocumentType::as_str),
                ),
                ("today", &today),
                ("requirements", &requirements),
                (
                    "guidance",
                    if guidance.is_empty() {
                        "(none found)"
                    } else {
                        guidance
                    },
                ),
                ("first_page", &first.to_string()),
                ("last_page", &last.to_string()),
                ("page_count", &page_count),
                ("document", document),
            ])
        };
        let fixed = render(1, 1, "").chars().count() + self.prompts.system.chars().count();
        let budget = self
            .config
            .prompt_budget_chars
            .saturating_sub(fixed)
            .max(1_000);
        chunk_pages(pages, budget)
            .into_iter()
            .map(|(first, last, text)| render(first, last, &text))
            .collect()
    }
}

/// Pages grouped under `budget` characters each, labelled with their numbers;
/// a page longer than the budget is cut, and says so.
fn chunk_pages(pages: &Pages, budget: usize) -> Vec<(usize, usize, String)> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut first = 1;
    for (i, page) in pages.iter().enumerate() {
        let n = i + 1;
        let mut block = format!("=== page {n} ===\n{}\n", page.trim());
        if block.chars().count() > budget {
            block = block
                .chars()
                .take(budget.saturating_sub(40))
                .collect::<String>()
                + "\n[page cut here: too long]\n";
        }
        if !current.is_empty() && current.chars().count() + block.chars().count() > budget {
            chunks.push((first, n - 1, std::mem::take(&mut current)));
            first = n;
        }
        current.push_str(&block);
    }
    if !current.is_empty() {
        chunks.push((first, pages.len(), current));
    }
    chunks
}

/// Per requirement, the answer to trust most: a grounded `met`, else a
/// grounded `not_met`, else the first (the grounding check will judge it).
fn best_per_requirement(all: Vec<ModelVerdict>, pages: &Pages) -> Vec<ModelVerdict> {
    let rank = |v: &ModelVerdict| {
        let g = grounded(&v.evidence, v.page, pages);
        match (g, v.verdict) {
            (true, Verdict::Met) => 3,
            (true, Verdict::NotMet) => 2,
            _ => 1,
        }
    };
    let mut best: Vec<ModelVerdict> = Vec::new();
    for v in all {
        match best.iter_mut().find(|b| b.id == v.id) {
            Some(b) if (rank(&v), v.confidence) > (rank(b), b.confidence) && rank(&v) > 1 => *b = v,
            Some(_) => {}
            None => best.push(v),
        }
    }
    best
}

#[derive(Default)]
struct Judged {
    answered: bool,
    verdicts: Vec<ModelVerdict>,
    tokens: Tokens,
    model: Option<String>,
    latency: Duration,
}

fn flag(kind: &str, detail: String, page: Option<u32>) -> Flag {
    Flag {
        kind: kind.into(),
        detail,
        page,
    }
}

/// A report for a document that could not be read or has no protocol: it goes to review.
fn bare_report(doc_type: &DocumentType, protocol: Option<&Protocol>, flags: Vec<Flag>) -> Report {
    Report {
        doc_type: doc_type.clone(),
        protocol: protocol.map(|p| ProtocolRef {
            id: p.id.clone(),
            version: p.version,
        }),
        decision: Outcome::Review,
        reasons: flags.iter().map(|f| f.detail.clone()).collect(),
        requirements: Vec::new(),
        flags,
        model: None,
        prompt_version: None,
        tokens: Tokens::default(),
        latency_ms: 0,
        pages: 0,
        chars: 0,
        expires_on: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_chunked_under_the_budget_with_their_numbers() {
        let pages: Pages = vec!["a".repeat(400), "b".repeat(400), "c".repeat(400)];
        let chunks = chunk_pages(&pages, 900);
        let spans: Vec<(usize, usize)> = chunks.iter().map(|(f, l, _)| (*f, *l)).collect();
        assert_eq!(spans, [(1, 2), (3, 3)]);
        assert!(chunks[1].2.starts_with("=== page 3 ==="));
        let long: Pages = vec!["x".repeat(5000)];
        let cut = chunk_pages(&long, 1000);
        assert!(cut[0].2.contains("[page cut here") && cut[0].2.chars().count() <= 1000);
    }

    #[test]
    fn the_best_grounded_answer_wins_across_chunks() {
        let pages: Pages = vec!["Insurer: PZU SA".into(), "nothing".into()];
        let v = |verdict, evidence: &str, page, confidence| ModelVerdict {
            id: "insurer".into(),
            verdict,
            evidence: evidence.into(),
            page,
            reason: String::new(),
            confidence,
        };
        let best = best_per_requirement(
            vec![
                v(Verdict::Unclear, "", 2, 0.9),
                v(Verdict::Met, "Insurer: PZU SA", 1, 0.8),
            ],
            &pages,
        );
        assert_eq!(
            (best.len(), best[0].verdict, best[0].page),
            (1, Verdict::Met, 1)
        );
        let ungrounded = best_per_requirement(
            vec![
                v(Verdict::Unclear, "", 2, 0.9),
                v(Verdict::Met, "made up", 1, 1.0),
            ],
            &pages,
        );
        assert_eq!(
            ungrounded[0].verdict,
            Verdict::Unclear,
            "an ungrounded answer does not displace the first"
        );
    }
}
