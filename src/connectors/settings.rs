//! Which tools are connected, from the `[connectors.*]` tables of `ssot.toml`.
//! A table that is absent leaves the built-in equivalent in place. Secrets are
//! never settings: each table names the environment variable (or file) that
//! holds its secret, read once at start.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use super::http::Secret;

/// A state-to-name table laid over its defaults: the states given replace
/// the defaults', the rest keep them (so `active = "..."` alone does not stop
/// the other states from being mirrored).
fn over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
    defaults: fn() -> BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, D::Error> {
    let given = BTreeMap::<String, String>::deserialize(deserializer)?;
    let mut table = defaults();
    table.extend(given);
    Ok(table)
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira: Option<JiraSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hubspot: Option<HubSpotSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trello: Option<TrelloSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_forms: Option<GoogleFormsSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obsidian: Option<ObsidianSettings>,
}

/// The Obsidian vault of notes about clients, experts and projects, kept up to
/// date by the server (the protocols folder is a separate vault, read by the agent).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ObsidianSettings {
    pub vault_dir: PathBuf,
    /// How often the server rewrites changed notes; 0 leaves it to `ssot vault export`.
    #[serde(default = "ObsidianSettings::default_interval")]
    pub export_interval_secs: u64,
}

impl ObsidianSettings {
    fn default_interval() -> u64 {
        300
    }
}

/// Consultation-form responses posted by an Apps Script trigger (or relayed
/// from the Forms API), signed with a secret shared with the script.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleFormsSettings {
    #[serde(default = "GoogleFormsSettings::default_secret_env")]
    pub secret_env: String,
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// TOML: `[fields]` maps a question's title or id to an intake field.
    pub mapping_file: PathBuf,
}

impl GoogleFormsSettings {
    fn default_secret_env() -> String {
        "SSOT_FORMS_SECRET".into()
    }

    pub fn new(mapping_file: PathBuf) -> Self {
        Self {
            secret_env: Self::default_secret_env(),
            secret_file: None,
            mapping_file,
        }
    }

    pub fn secret(&self) -> Result<Secret, String> {
        secret(
            "connectors.google_forms",
            &self.secret_env,
            self.secret_file.as_ref(),
        )
    }

    /// Reads and checks the mapping file.
    pub fn mapping(&self) -> Result<crate::domain::intake::FormMapping, String> {
        use figment::providers::{Format, Toml};
        let path = &self.mapping_file;
        if !path.is_file() {
            return Err(format!(
                "connectors.google_forms.mapping_file {} does not exist",
                path.display()
            ));
        }
        figment::Figment::from(Toml::file(path))
            .extract()
            .map_err(|e| {
                format!(
                    "connectors.google_forms.mapping_file {}: {e}",
                    path.display()
                )
            })
    }
}

/// Trello as the board (REST API v1, an app key and a member token).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrelloSettings {
    #[serde(default = "TrelloSettings::default_base_url")]
    pub base_url: String,
    /// The app's API key (it identifies the app; the token is the secret).
    pub api_key: String,
    #[serde(default = "TrelloSettings::default_token_env")]
    pub token_env: String,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The app's secret, which signs webhooks (not the token).
    #[serde(default = "TrelloSettings::default_secret_env")]
    pub app_secret_env: String,
    #[serde(default)]
    pub app_secret_file: Option<PathBuf>,
    /// The board project records live on; its lists are named after the states.
    pub board_id: String,
    /// This hub's webhook URL as Trello will call it; set it to receive
    /// comments written in Trello as helpdesk messages.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// 100 requests per 10 s per token.
    #[serde(default = "TrelloSettings::default_rate")]
    pub requests_per_second: u32,
}

impl TrelloSettings {
    /// The required keys; everything else at its default.
    pub fn new(base_url: &str, api_key: &str, board_id: &str) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: api_key.into(),
            token_env: Self::default_token_env(),
            token_file: None,
            app_secret_env: Self::default_secret_env(),
            app_secret_file: None,
            board_id: board_id.into(),
            webhook_url: None,
            requests_per_second: Self::default_rate(),
        }
    }

    fn default_base_url() -> String {
        "https://api.trello.com/1".into()
    }
    fn default_token_env() -> String {
        "TRELLO_TOKEN".into()
    }
    fn default_secret_env() -> String {
        "TRELLO_APP_SECRET".into()
    }
    fn default_rate() -> u32 {
        9
    }

    pub fn validate(&self) -> Result<(), String> {
        http_url("connectors.trello.base_url", &self.base_url)?;
        if let Some(url) = &self.webhook_url {
            http_url("connectors.trello.webhook_url", url)?;
        }
        let trello_id = |s: &str| s.len() == 24 && s.chars().all(|c| c.is_ascii_hexdigit());
        if !trello_id(&self.board_id) {
            return Err(format!(
                "connectors.trello.board_id `{}` must be a Trello id (24 hex digits; the short link in a board URL is not one)",
                self.board_id
            ));
        }
        if self.requests_per_second == 0 {
            return Err("connectors.trello.requests_per_second must be at least 1".into());
        }
        Ok(())
    }

    pub fn token(&self) -> Result<Secret, String> {
        secret(
            "connectors.trello",
            &self.token_env,
            self.token_file.as_ref(),
        )
    }

    /// Needed only to receive webhooks.
    pub fn app_secret(&self) -> Result<Option<Secret>, String> {
        if self.webhook_url.is_none() {
            return Ok(None);
        }
        secret(
            "connectors.trello",
            &self.app_secret_env,
            self.app_secret_file.as_ref(),
        )
        .map(Some)
    }
}

/// HubSpot as the CRM (CRM v3 objects, v4 associations, a private app token).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubSpotSettings {
    #[serde(default = "HubSpotSettings::default_base_url")]
    pub base_url: String,
    /// The environment variable holding the private app's access token.
    #[serde(default = "HubSpotSettings::default_token_env")]
    pub access_token_env: String,
    #[serde(default)]
    pub access_token_file: Option<PathBuf>,
    /// The app's client secret, which signs its webhooks (v3 signatures).
    #[serde(default = "HubSpotSettings::default_secret_env")]
    pub client_secret_env: String,
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// The URL HubSpot posts webhooks to, exactly as configured in the app:
    /// it is part of what is signed.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The deal pipeline, and the stage for each lifecycle state.
    #[serde(default = "HubSpotSettings::default_pipeline")]
    pub pipeline: String,
    /// Laid over the defaults (HubSpot's default pipeline).
    #[serde(
        default = "HubSpotSettings::default_deal_stages",
        deserialize_with = "HubSpotSettings::deal_stages_over_defaults"
    )]
    pub deal_stages: BTreeMap<String, String>,
    /// 100 requests per 10 s on the smallest plans.
    #[serde(default = "HubSpotSettings::default_rate")]
    pub requests_per_second: u32,
}

impl HubSpotSettings {
    /// Everything at its default, against `base_url`.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.into(),
            access_token_env: Self::default_token_env(),
            access_token_file: None,
            client_secret_env: Self::default_secret_env(),
            client_secret_file: None,
            webhook_url: None,
            pipeline: Self::default_pipeline(),
            deal_stages: Self::default_deal_stages(),
            requests_per_second: Self::default_rate(),
        }
    }

    fn default_base_url() -> String {
        "https://api.hubapi.com".into()
    }
    fn default_token_env() -> String {
        "HUBSPOT_ACCESS_TOKEN".into()
    }
    fn default_secret_env() -> String {
        "HUBSPOT_CLIENT_SECRET".into()
    }
    fn default_pipeline() -> String {
        "default".into()
    }
    fn default_rate() -> u32 {
        9
    }
    fn deal_stages_over_defaults<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        over_defaults(d, Self::default_deal_stages)
    }
    /// The stages of HubSpot's default sales pipeline.
    fn default_deal_stages() -> BTreeMap<String, String> {
        [
            ("intake", "appointmentscheduled"),
            ("matching", "qualifiedtobuy"),
            ("offered", "presentationscheduled"),
            ("accepted", "decisionmakerboughtin"),
            ("credentialing", "contractsent"),
            ("active", "closedwon"),
            ("blocked", "closedwon"),
            ("completed", "closedwon"),
            ("archived", "closedwon"),
            ("cancelled", "closedlost"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    pub fn validate(&self) -> Result<(), String> {
        http_url("connectors.hubspot.base_url", &self.base_url)?;
        if let Some(url) = &self.webhook_url {
            http_url("connectors.hubspot.webhook_url", url)?;
        }
        for state in self.deal_stages.keys() {
            state
                .parse::<crate::domain::lifecycle::ProjectState>()
                .map_err(|_| {
                    format!("connectors.hubspot.deal_stages: `{state}` is not a lifecycle state")
                })?;
        }
        if self.requests_per_second == 0 {
            return Err("connectors.hubspot.requests_per_second must be at least 1".into());
        }
        Ok(())
    }

    pub fn access_token(&self) -> Result<Secret, String> {
        secret(
            "connectors.hubspot",
            &self.access_token_env,
            self.access_token_file.as_ref(),
        )
    }

    /// Needed only to receive webhooks.
    pub fn client_secret(&self) -> Result<Option<Secret>, String> {
        if self.webhook_url.is_none() {
            return Ok(None);
        }
        secret(
            "connectors.hubspot",
            &self.client_secret_env,
            self.client_secret_file.as_ref(),
        )
        .map(Some)
    }
}

/// Jira Cloud as the tracker (REST API v3, basic auth with an API token).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JiraSettings {
    /// The site, e.g. `https://agency.atlassian.net` (the API path is added).
    pub base_url: String,
    /// The account the API token belongs to.
    pub email: String,
    /// The environment variable holding the API token.
    #[serde(default = "JiraSettings::default_token_env")]
    pub api_token_env: String,
    /// Or a file holding it (wins over the variable).
    #[serde(default)]
    pub api_token_file: Option<PathBuf>,
    /// Who leads the projects created for clients (an Atlassian account id).
    pub lead_account_id: String,
    /// `software`, `business` or `service_desk`.
    #[serde(default = "JiraSettings::default_project_type")]
    pub project_type: String,
    /// A template matching the type, e.g. `com.pyxis.greenhopper.jira:gh-simplified-kanban-classic`.
    #[serde(default)]
    pub project_template: Option<String>,
    /// Project keys are this prefix and a short code derived from the SSoT id.
    #[serde(default = "JiraSettings::default_key_prefix")]
    pub key_prefix: String,
    /// The project role that is the expert's access.
    #[serde(default = "JiraSettings::default_access_role")]
    pub access_role: String,
    /// The issue type of the work task.
    #[serde(default = "JiraSettings::default_issue_type")]
    pub issue_type: String,
    /// Jira publishes no numbers for API-token traffic; stay well under its bursts.
    #[serde(default = "JiraSettings::default_rate")]
    pub requests_per_second: u32,
    /// Lifecycle state -> the Jira status the work task is moved to.
    /// Laid over the defaults; a state mapped to `""` leaves the task as it is.
    #[serde(
        default = "JiraSettings::default_task_status",
        deserialize_with = "JiraSettings::task_status_over_defaults"
    )]
    pub task_status: BTreeMap<String, String>,
    /// Delete archived projects for good instead of to Jira's recycle bin
    /// (where they can be restored for 60 days); the export is kept either way.
    #[serde(default)]
    pub delete_permanently: bool,
}

impl JiraSettings {
    /// The required keys; everything else at its default.
    pub fn new(base_url: &str, email: &str, lead_account_id: &str) -> Self {
        Self {
            base_url: base_url.into(),
            email: email.into(),
            api_token_env: Self::default_token_env(),
            api_token_file: None,
            lead_account_id: lead_account_id.into(),
            project_type: Self::default_project_type(),
            project_template: None,
            key_prefix: Self::default_key_prefix(),
            access_role: Self::default_access_role(),
            issue_type: Self::default_issue_type(),
            requests_per_second: Self::default_rate(),
            task_status: Self::default_task_status(),
            delete_permanently: false,
        }
    }

    fn default_token_env() -> String {
        "JIRA_API_TOKEN".into()
    }
    fn default_project_type() -> String {
        "software".into()
    }
    fn default_key_prefix() -> String {
        "SL".into()
    }
    fn default_access_role() -> String {
        "Member".into()
    }
    fn default_issue_type() -> String {
        "Task".into()
    }
    fn default_rate() -> u32 {
        5
    }
    fn task_status_over_defaults<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        over_defaults(d, Self::default_task_status)
    }
    fn default_task_status() -> BTreeMap<String, String> {
        [("active", "In Progress"), ("completed", "Done")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    pub fn validate(&self) -> Result<(), String> {
        http_url("connectors.jira.base_url", &self.base_url)?;
        let prefix_ok = (1..=4).contains(&self.key_prefix.len())
            && self.key_prefix.chars().all(|c| c.is_ascii_uppercase());
        if !prefix_ok {
            return Err(format!(
                "connectors.jira.key_prefix `{}` must be 1 to 4 capital letters (Jira keys start with a letter and have at most 10 characters)",
                self.key_prefix
            ));
        }
        if !["software", "business", "service_desk"].contains(&self.project_type.as_str()) {
            return Err(format!(
                "connectors.jira.project_type `{}` must be software, business or service_desk",
                self.project_type
            ));
        }
        for state in self.task_status.keys() {
            state
                .parse::<crate::domain::lifecycle::ProjectState>()
                .map_err(|_| {
                    format!("connectors.jira.task_status: `{state}` is not a lifecycle state")
                })?;
        }
        if self.requests_per_second == 0 {
            return Err("connectors.jira.requests_per_second must be at least 1".into());
        }
        Ok(())
    }

    pub fn api_token(&self) -> Result<Secret, String> {
        secret(
            "connectors.jira",
            &self.api_token_env,
            self.api_token_file.as_ref(),
        )
    }
}

fn http_url(key: &str, url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!("{key} `{url}` must start with http:// or https://"))
    }
}

/// Reads a secret from `file` when given, else from the environment variable `env`.
fn secret(table: &str, env: &str, file: Option<&PathBuf>) -> Result<Secret, String> {
    let value = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{table}: cannot read the secret file {}: {e}",
                path.display()
            )
        })?,
        None => std::env::var(env).map_err(|_| {
            format!("{table}: set the environment variable {env} (or name a secret file)")
        })?,
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{table}: the secret in {env} is empty"));
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;

    #[test]
    fn state_tables_are_laid_over_their_defaults() {
        let hubspot: HubSpotSettings = Figment::from(Toml::string(
            "base_url = \"https://api.hubapi.com\"\n[deal_stages]\nactive = \"won-custom\"\n",
        ))
        .extract()
        .unwrap();
        assert_eq!(hubspot.deal_stages["active"], "won-custom");
        assert_eq!(
            hubspot.deal_stages["intake"], "appointmentscheduled",
            "the states not given keep their stage"
        );
        assert_eq!(
            hubspot.deal_stages.len(),
            HubSpotSettings::default_deal_stages().len()
        );

        let jira: JiraSettings = Figment::from(Toml::string(
            "base_url = \"https://a.atlassian.net\"\nemail = \"ops@a.pl\"\nlead_account_id = \"x\"\n[task_status]\nblocked = \"On hold\"\ncompleted = \"\"\n",
        ))
        .extract()
        .unwrap();
        assert_eq!(
            (
                jira.task_status["active"].as_str(),
                jira.task_status["blocked"].as_str(),
                jira.task_status["completed"].as_str()
            ),
            ("In Progress", "On hold", "")
        );
    }
}
