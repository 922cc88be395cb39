//! Integration tests: one binary, a fresh database per test, every storage test
//! on SQLite and (with `SSOT_TEST_POSTGRES_URL`) on PostgreSQL.

mod fake_llm;
mod fakes;
mod helpers;
mod pdfs;
mod vendors;

mod agent;
mod audit_chain;
mod auth;
mod bad_input;
mod cli;
mod concurrency;
mod connectors;
mod credentialing;
mod delivery;
mod extraction;
mod health_and_files;
mod helpdesk_and_tasks;
mod hostile;
mod identity;
mod lifecycle_http;
mod log_secrets;
mod orchestration;
mod pages;
mod real_llm;
mod security_http;
mod store_story;
mod tokens;
