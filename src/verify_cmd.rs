//! `ssot verify`: the agent on one file, without a server, so an operator can
//! try a protocol. Prints the report for people, or as JSON.

use std::path::{Path, PathBuf};

use crate::agent::llm::Llm;
use crate::agent::prompts::Prompts;
use crate::agent::sniff::{SNIFF_BYTES, sniff};
use crate::agent::vault::Protocols;
use crate::agent::{Agent, Verified, VerifyInput};
use crate::config::Settings;
use crate::domain::checks::Subject;
use crate::domain::document::DocumentType;
use crate::domain::verification::{Outcome, Report, Source};

/// What to verify.
pub struct VerifyArgs {
    pub file: PathBuf,
    pub doc_type: String,
    /// `field=value` pairs: the record the document must match.
    pub subject: Vec<String>,
    pub protocols: Option<PathBuf>,
    pub json: bool,
}

/// Builds the agent the server would build from `settings`.
pub fn agent(settings: &Settings, protocols_dir: &Path) -> Result<Agent, String> {
    let protocols = Protocols::open(protocols_dir).map_err(|e| e.to_string())?;
    let prompts =
        Prompts::load(Some(&settings.prompts_dir)).map_err(|e| format!("prompts: {e}"))?;
    let llm = settings.llm().map_err(|e| e.to_string())?.map(Llm::new);
    Ok(Agent::new(protocols, llm, prompts, settings.agent()))
}

fn subject(pairs: &[String]) -> Result<Subject, String> {
    pairs
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("--subject `{p}` must be FIELD=VALUE, e.g. legal_name=\"Kowalska Sp. z o.o.\""))
        })
        .collect()
}

/// Runs the agent on the file and prints the report.
pub async fn run(settings: &Settings, args: VerifyArgs) -> Result<Report, String> {
    let doc_type = DocumentType::parse("--type", &args.doc_type).map_err(|e| e.to_string())?;
    let subject = subject(&args.subject)?;
    let size = std::fs::metadata(&args.file)
        .map_err(|e| format!("{}: {e}", args.file.display()))?
        .len();
    if size > settings.upload_max_bytes {
        return Err(format!(
            "{} is {size} bytes, over the {} allowed (upload_max_bytes)",
            args.file.display(),
            settings.upload_max_bytes
        ));
    }
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let kind = sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]).ok_or_else(|| {
        format!(
            "{} is not a PDF, PNG, JPEG, text or Markdown file",
            args.file.display()
        )
    })?;
    let protocols_dir = args
        .protocols
        .clone()
        .unwrap_or_else(|| settings.protocols_dir.clone());
    let agent = agent(settings, &protocols_dir)?;
    for e in agent.protocols().current().errors() {
        eprintln!("warning: protocol file {} not loaded: {}", e.file, e.reason);
    }
    if agent.model().is_none() {
        eprintln!(
            "note: no model configured (SSOT_LLM_BASE_URL); requirements without a deterministic check stay unclear"
        );
    }
    let today = crate::store::now().date();
    let Verified { report, .. } = agent
        .verify(VerifyInput {
            doc_type,
            kind,
            bytes,
            subject,
            subject_kind: None,
            today,
        })
        .await;
    let text = if args.json {
        serde_json::to_string_pretty(&report).expect("reports serialise") + "\n"
    } else {
        human(&args.file, &report)
    };
    // A closed pipe (`| head`) is the reader's choice, not an error.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(report)
}

/// `ssot protocols reindex`: reads and indexes the vault, and lists what
/// loaded and what did not. A broken note is an error (the others still load).
pub fn reindex(dir: &Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    let vault = Protocols::open(dir).map_err(|e| e.to_string())?.current();
    let mut out = String::new();
    for p in &vault.set.protocols {
        let types: Vec<&str> = p.applies_to.iter().map(DocumentType::as_str).collect();
        let checks = p.requirements.iter().filter(|r| r.check.is_some()).count();
        out += &format!(
            "ok      {:<34} v{:<3} {:<28} {} requirements ({checks} checked by rule), {} sections  [{}]\n",
            p.id,
            p.version,
            types.join(", "),
            p.requirements.len(),
            p.sections.len(),
            p.file
        );
    }
    for note in &vault.set.notes {
        out += &format!(
            "note    {:<34} {} sections, indexed as guidance  [{}]\n",
            note.title,
            note.sections.len(),
            note.file
        );
    }
    for e in vault.errors() {
        out += &format!("BROKEN  {}: {}\n", e.file, e.reason);
    }
    out += &format!(
        "indexed {} protocols and {} notes from {} in {} ms\n",
        vault.set.protocols.len(),
        vault.set.notes.len(),
        dir.display(),
        started.elapsed().as_millis()
    );
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    match vault.errors().len() {
        0 => Ok(()),
        n => Err(format!("{n} protocol note(s) could not be loaded")),
    }
}

/// The report as a person reads it.
pub fn human(file: &Path, r: &Report) -> String {
    let mut out = String::new();
    let decision = match r.decision {
        Outcome::Approved => "APPROVED",
        Outcome::Rejected => "REJECTED",
        Outcome::Review => "REVIEW (a person decides)",
    };
    out += &format!(
        "document:  {} ({} pages, {} characters)\n",
        file.display(),
        r.pages,
        r.chars
    );
    if let Some(p) = &r.protocol {
        out += &format!("protocol:  {} v{}\n", p.id, p.version);
    }
    out += &format!("decision:  {decision}\n");
    for reason in &r.reasons {
        out += &format!("  - {reason}\n");
    }
    if !r.requirements.is_empty() {
        out += "requirements:\n";
    }
    for q in &r.requirements {
        let source = match q.source {
            Source::Rule => "rule",
            Source::Model => "model",
            Source::None => "-",
        };
        let page = q.page.map(|p| format!("p.{p}")).unwrap_or_default();
        out += &format!(
            "  {:<26} {:<8} {:<6} {:<5} {}\n",
            q.id,
            q.verdict.to_string(),
            source,
            page,
            q.reason
        );
        if let Some(e) = &q.evidence {
            out += &format!(
                "  {:<26} evidence: \"{}\"\n",
                "",
                e.chars().take(100).collect::<String>()
            );
        }
    }
    for f in &r.flags {
        out += &format!("flag:      {}: {}\n", f.kind, f.detail);
    }
    if let Some(d) = r.expires_on {
        out += &format!("expires:   {d}\n");
    }
    if let Some(m) = &r.model {
        out += &format!(
            "model:     {m}, prompt {}, {} + {} tokens, {} ms\n",
            r.prompt_version.as_deref().unwrap_or("-"),
            r.tokens.prompt,
            r.tokens.completion,
            r.latency_ms
        );
    }
    out
}
