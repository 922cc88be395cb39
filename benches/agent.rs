//! Agent benchmark:
//! - text extraction: pages per second of our extractor (lopdf) against
//!   `pdftotext` on the same files in one run, with the ratio, and how similar
//!   the two texts are (normalised Levenshtein on the first 4,000 characters);
//! - pipeline latency from upload to decision over HTTP with the model excluded
//!   (no model configured), p50/p95, for a 5-page PDF;
//! - prompt size per verification with retrieval against sending every
//!   protocol whole (characters / 4 as tokens), and the ratio;
//! - the server's resident memory while 20 uploads of 20 MiB stream in at once.
//!
//!     cargo bench --bench agent -- [--projects N]
//!
//! `pdftotext` comes from Debian's poppler-utils; without it that column is left
//! out. Results are kept in `target/bench/agent.json` for the next run's ratios.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use ssot::agent::extract::{Limits, extract_blocking};
use ssot::agent::prompts::Prompts;
use ssot::agent::sniff::FileKind;
use ssot::agent::vault::Protocols;
use ssot::agent::{Agent, AgentConfig};
use ssot::domain::actor::Role;
use ssot::domain::document::DocumentType;
use ssot::domain::lifecycle::Command as Cmd;
use ssot::domain::project::{NewProject, NewProjectInput};
use ssot::store::{PoolConfig, Store};

#[path = "../tests/api/pdfs.rs"]
#[allow(dead_code)]
mod pdfs;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn normalise(s: &str) -> String {
    s.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(4000)
        .collect()
}

fn pdftotext(path: &Path) -> Option<String> {
    let out = Command::new("pdftotext")
        .args(["-q", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The corpus PDFs when present, and generated 5-page certificates.
fn extraction_files(dir: &Path) -> Vec<PathBuf> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/py-pdf-sample-files");
    let mut files: Vec<PathBuf> = std::fs::read_to_string(corpus.join("files.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|v| v["data"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f["path"].as_str().map(|p| corpus.join(p)))
        .filter(|p| p.exists())
        .collect();
    for i in 0..5 {
        let path = dir.join(format!("generated-{i}.pdf"));
        std::fs::write(&path, five_pages(i)).unwrap();
        files.push(path);
    }
    files
}

fn five_pages(n: usize) -> Vec<u8> {
    let number = format!("Policy no. OC/2026/{n:06}");
    let pages: Vec<Vec<&str>> = vec![
        vec![
            "CERTIFICATE OF INSURANCE",
            "Insurer: PZU SA, al. Jana Pawla II 24, Warszawa",
            &number,
        ],
        vec![
            "Insured (Ubezpieczony): Kowalska Meble Sp. z o.o.",
            "Policy period: from 2026-01-01 to 2027-12-31",
        ],
        vec![
            "Cover: third-party civil liability (OC)",
            "Sum insured: 1 000 000 PLN per event",
            "Deductible: 500 PLN",
        ],
        vec![
            "General terms: OWU OC/2025",
            "Territory: Republic of Poland",
            "Exclusions as per section 7",
        ],
        vec![
            "Signed on behalf of the insurer",
            "Warszawa, 2 January 2026",
            "Underwriting department",
        ],
    ];
    pdfs::build(&pdfs::Spec {
        pages,
        fonts: vec!["Helvetica", "Times-Roman"],
        compress: true,
        encrypt: None,
    })
}

fn bench_extraction(dir: &Path) -> BTreeMap<&'static str, f64> {
    let files = extraction_files(dir);
    let have_pdftotext =
        pdftotext(&files[0]).is_some() || Command::new("pdftotext").arg("-v").output().is_ok();
    let (mut ours_secs, mut theirs_secs, mut pages, mut sims) = (0.0, 0.0, 0usize, Vec::new());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let mut runs = Vec::new();
        let mut text = None;
        for _ in 0..3 {
            let t = Instant::now();
            let result = extract_blocking(&bytes, FileKind::Pdf, Limits::default());
            runs.push(t.elapsed().as_secs_f64());
            text = result.ok().map(|e| e.pages);
        }
        let Some(ours) = text else { continue };
        pages += ours.len();
        ours_secs += median(runs);
        if have_pdftotext {
            let mut runs = Vec::new();
            let mut theirs = String::new();
            for _ in 0..3 {
                let t = Instant::now();
                theirs = pdftotext(path).unwrap_or_default();
                runs.push(t.elapsed().as_secs_f64());
            }
            theirs_secs += median(runs);
            if !theirs.trim().is_empty() {
                sims.push(strsim::normalized_levenshtein(
                    &normalise(&ours.join("\n")),
                    &normalise(&theirs),
                ));
            }
        }
    }
    let mut m = BTreeMap::from([
        ("extract_files", files.len() as f64),
        ("extract_pages", pages as f64),
        ("extract_pages_per_s", pages as f64 / ours_secs),
    ]);
    if have_pdftotext && theirs_secs > 0.0 {
        m.insert("pdftotext_pages_per_s", pages as f64 / theirs_secs);
        m.insert("extract_speed_ratio", theirs_secs / ours_secs);
        m.insert("similarity_median", median(sims.clone()));
        m.insert(
            "similarity_mean",
            sims.iter().sum::<f64>() / sims.len().max(1) as f64,
        );
    } else {
        eprintln!("pdftotext not found (Debian poppler-utils): comparison left out");
    }
    m
}

fn bench_prompts() -> BTreeMap<&'static str, f64> {
    let protocols =
        Protocols::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols")).unwrap();
    let agent = Agent::new(
        protocols.clone(),
        None,
        Prompts::load(None).unwrap(),
        AgentConfig::default(),
    );
    let vault = protocols.current();
    let nda = "Mutual NDA between Coretex Hub and Kowalska Meble Sp. z o.o.\nThe parties keep information confidential.\nSigned: Anna Kowalska";
    let samples = [
        (
            "insurance_certificate",
            extract_blocking(&five_pages(0), FileKind::Pdf, Limits::default())
                .unwrap()
                .pages,
        ),
        ("nda", vec![nda.to_owned()]),
    ];
    let (mut retrieved, mut whole) = (0usize, 0usize);
    for (doc_type, pages) in &samples {
        let protocol = vault
            .protocol_for(&DocumentType::parse("t", doc_type).unwrap())
            .unwrap();
        let asked: Vec<_> = protocol
            .requirements
            .iter()
            .filter(|r| r.compiled.is_none())
            .collect();
        let today = time::macros::date!(2026 - 11 - 30);
        retrieved += agent
            .prompts_for(&vault, protocol, &asked, pages, today)
            .iter()
            .map(|c| c.prompt.len())
            .sum::<usize>();
        whole += agent
            .prompts_with_whole_vault(&vault, protocol, &asked, pages, today)
            .iter()
            .map(|c| c.prompt.len())
            .sum::<usize>();
    }
    let system = Prompts::load(None).unwrap().system.len() * samples.len();
    let tokens = |chars: usize| (chars + system) as f64 / 4.0 / samples.len() as f64;
    BTreeMap::from([
        ("prompt_tokens_retrieval", tokens(retrieved)),
        ("prompt_tokens_whole_vault", tokens(whole)),
        ("prompt_tokens_ratio", tokens(retrieved) / tokens(whole)),
    ])
}

/// A project in credentialing that requires an insurance certificate, and a client token.
async fn setup(url: &str) -> (String, String) {
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let (client, expert, expert_actor) = seed(&store).await;
    let new = NewProject::parse(NewProjectInput {
        client_id: client,
        title: "Bench".into(),
        spec: "Benchmark".into(),
        skills: vec![],
        industry: None,
        required_documents: vec!["insurance_certificate".into()],
        intake: Default::default(),
    })
    .unwrap();
    let id = store.create_project(new, &admin()).await.unwrap().id;
    for step in ["start_matching", "offer", "accept", "start_credentialing"] {
        let (cmd, actor) = command_for(&store, step, id, expert, &expert_actor).await;
        store
            .transition_project(id, cmd, &actor, None)
            .await
            .unwrap();
    }
    assert!(matches!(
        store.project(id).await.unwrap().state,
        ssot::domain::lifecycle::ProjectState::Credentialing
    ));
    let _ = Cmd::Activate;
    let token = store
        .create_token(Role::Client, Some(client), None, None, &admin())
        .await
        .unwrap()
        .secret;
    store.close().await;
    (id.to_string(), token)
}

async fn upload(http: &reqwest::Client, url: String, token: &str, bytes: Vec<u8>) -> Value {
    let form = reqwest::multipart::Form::new()
        .text("type", "insurance_certificate")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("doc.pdf"),
        );
    let res = http
        .post(url)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

async fn bench_pipeline(dir: &Path, uploads: usize) -> BTreeMap<&'static str, f64> {
    let url = format!("sqlite://{}/pipeline.db?mode=rwc", dir.display());
    let (project, token) = setup(&url).await;
    let server = Server::start(
        &url,
        dir,
        &[
            ("SSOT_VERIFICATION_WORKERS", "1".into()),
            ("SSOT_OUTBOX_POLL_MS", "20".into()),
        ],
    );
    ssot::init_tls();
    let http = reqwest::Client::new();
    server.wait(&http).await;
    let mut latencies = Vec::new();
    for i in 0..uploads {
        let t = Instant::now();
        let doc = upload(
            &http,
            format!("{}/projects/{project}/documents", server.base),
            &token,
            five_pages(1000 + i),
        )
        .await;
        let doc_url = format!(
            "{}/documents/{}",
            server.base,
            doc["document"]["id"].as_str().unwrap()
        );
        loop {
            let view: Value = http
                .get(&doc_url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if view["document"]["status"] != "queued" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(t.elapsed());
    }
    BTreeMap::from([
        ("pipeline_p50_ms", pct(latencies.clone(), 0.5)),
        ("pipeline_p95_ms", pct(latencies, 0.95)),
    ])
}

async fn bench_memory(dir: &Path) -> BTreeMap<&'static str, f64> {
    let url = format!("sqlite://{}/memory.db?mode=rwc", dir.display());
    let (project, token) = setup(&url).await;
    // No verification: this measures receiving, not extracting.
    let server = Server::start(&url, dir, &[("SSOT_VERIFICATION_WORKERS", "0".into())]);
    let http = reqwest::Client::new();
    server.wait(&http).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(server.pid());
    let sampler = PeakRss::start(server.pid());
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20u8 {
        let (http, url, token) = (
            http.clone(),
            format!("{}/projects/{project}/documents", server.base),
            token.clone(),
        );
        set.spawn(async move {
            // 20 MiB: a PDF header, then filler that differs per upload.
            let mut bytes = b"%PDF-1.7\n".to_vec();
            bytes.resize(20 << 20, b'a' + i % 26);
            upload(&http, url, &token, bytes).await
        });
    }
    while set.join_next().await.is_some() {}
    let wall = start.elapsed().as_secs_f64();
    let peak = sampler.finish();
    BTreeMap::from([
        ("upload_rss_idle_mib", idle as f64 / 1024.0),
        ("upload_rss_peak_mib", peak as f64 / 1024.0),
        ("upload_20x20mib_secs", wall),
        ("upload_mib_per_s", 400.0 / wall),
    ])
}

fn main() {
    let (uploads, _) = args(30);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    eprintln!("running extraction against pdftotext ...");
    let mut all = bench_extraction(dir.path());
    eprintln!("running prompt sizes with and without retrieval ...");
    all.extend(bench_prompts());
    eprintln!("running upload-to-decision latency, {uploads} 5-page PDFs, no model ...");
    all.extend(rt.block_on(bench_pipeline(dir.path(), uploads)));
    eprintln!("running 20 uploads of 20 MiB at once ...");
    all.extend(rt.block_on(bench_memory(dir.path())));
    report("agent", &BTreeMap::from([("agent".to_owned(), all)]));
}
