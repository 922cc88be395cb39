//! Jira Cloud as the tracker (REST API v3). A client project becomes a Jira
//! project whose key is derived from the SSoT id, the work task an issue
//! labelled with that id, and the expert's access a place among the actors of
//! a project role. Every call is safe to repeat: what exists is found (by key,
//! by the recorded task key or its label, by role membership) before anything
//! is created or changed.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{Api, Secret, clip};
use super::settings::JiraSettings;
use super::{ConnectorError, ExportFile, Tracker};
use crate::domain::contact::Contact;
use crate::domain::ids::ProjectId;
use crate::domain::lifecycle::ProjectState;
use crate::domain::project::Project;

mod export;

pub struct Jira {
    api: Api,
    email: String,
    token: Secret,
    settings: JiraSettings,
}

/// Jira's `ErrorCollection`, as one line.
fn describe(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorCollection {
        #[serde(default, rename = "errorMessages")]
        messages: Vec<String>,
        #[serde(default)]
        errors: serde_json::Map<String, Value>,
    }
    match serde_json::from_str::<ErrorCollection>(body) {
        Ok(e) if !(e.messages.is_empty() && e.errors.is_empty()) => {
            let fields = e.errors.iter().map(|(field, message)| match message {
                Value::String(m) => format!("{field}: {m}"),
                other => format!("{field}: {other}"),
            });
            e.messages
                .into_iter()
                .chain(fields)
                .collect::<Vec<_>>()
                .join("; ")
        }
        _ => clip(body),
    }
}

/// The label that ties an issue to its SSoT project (labels take no spaces).
fn label(project: &Project) -> String {
    format!("ssot-{}", project.id.as_uuid().simple())
}

/// What the description of a Jira project says, so it can be recognised as ours.
fn marker(project: &Project) -> String {
    format!("SSoT-Lite project {}", project.id)
}

/// Jira's document format for rich-text fields: one paragraph per line.
fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json!({ "type": "paragraph", "content": [{ "type": "text", "text": l }] }))
        .collect();
    json!({ "version": 1, "type": "doc", "content": paragraphs })
}

/// Candidate project keys: the prefix and a base-36 code from a random part
/// of the project's UUIDv7; later candidates use other parts, for the rare
/// collision with a key taken by someone else.
pub fn candidate_keys(prefix: &str, project: ProjectId) -> Vec<String> {
    let hex = project.as_uuid().simple().to_string();
    [26, 20, 14]
        .iter()
        .map(|&start| {
            let n = u32::from_str_radix(&hex[start..start + 6], 16).expect("hex digits");
            format!("{prefix}{}", base36(n))
        })
        .collect()
}

fn base36(mut n: u32) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

#[derive(Debug, Deserialize)]
struct Issue {
    key: String,
    #[serde(default)]
    fields: IssueFields,
}

#[derive(Debug, Default, Deserialize)]
struct IssueFields {
    status: Option<Named>,
    #[serde(default)]
    labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
struct SearchPage {
    #[serde(default)]
    issues: Vec<Value>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: Option<String>,
    #[serde(default, rename = "isLast")]
    is_last: Option<bool>,
}

impl Jira {
    pub fn new(settings: JiraSettings, token: Secret, timeout: Duration) -> Self {
        let api = Api::new(
            "Jira",
            &settings.base_url,
            settings.requests_per_second,
            timeout,
            describe,
        );
        Self {
            api,
            email: settings.email.clone(),
            token,
            settings,
        }
    }

    fn call(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.api
            .request(method, &format!("/rest/api/3{path}"))
            .basic_auth(&self.email, Some(self.token.expose()))
    }

    /// The project's Jira key, once the project exists there.
    fn tracker_key<'a>(&self, project: &'a Project) -> Option<&'a str> {
        project.tracker_ref.as_deref()
    }

    fn require_key<'a>(&self, project: &'a Project) -> Result<&'a str, ConnectorError> {
        self.tracker_key(project).ok_or_else(|| {
            ConnectorError::Permanent(format!(
                "project {} has no Jira project yet (its creation has not been delivered)",
                project.id
            ))
        })
    }

    async fn find_project(&self, key: &str) -> Result<Option<Value>, ConnectorError> {
        let found = self
            .api
            .send_allowing_404(self.call(Method::GET, &format!("/project/{key}")))
            .await?;
        match found {
            Some(r) => Ok(Some(self.api.read_json(r).await?)),
            None => Ok(None),
        }
    }

    /// Runs a bounded JQL search, page by page, collecting the issues.
    async fn search(
        &self,
        jql: &str,
        fields: &[&str],
        limit: Option<usize>,
    ) -> Result<Vec<Value>, ConnectorError> {
        let mut issues = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "jql": jql, "fields": fields, "maxResults": 100 });
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let page: SearchPage = self
                .api
                .json(self.call(Method::POST, "/search/jql").json(&body))
                .await?;
            issues.extend(page.issues);
            token = page.next_page_token;
            let done = page.is_last.unwrap_or(token.is_none()) || token.is_none();
            if done || limit.is_some_and(|l| issues.len() >= l) {
                return Ok(issues);
            }
        }
    }

    async fn find_task(
        &self,
        tracker_key: &str,
        project: &Project,
    ) -> Result<Option<Issue>, ConnectorError> {
        let jql = format!(
            "project = \"{tracker_key}\" AND labels = \"{}\" ORDER BY key ASC",
            label(project)
        );
        let found = self.search(&jql, &["status", "summary"], Some(1)).await?;
        found
            .into_iter()
            .next()
            .map(|v| {
                serde_json::from_value::<Issue>(v).map_err(|e| {
                    ConnectorError::Transient(format!(
                        "Jira answered with an unexpected issue: {e}"
                    ))
                })
            })
            .transpose()
    }

    /// An issue with its status, read directly (consistent, unlike search).
    async fn issue(&self, key: &str) -> Result<Option<Issue>, ConnectorError> {
        let found = self
            .api
            .send_allowing_404(
                self.call(Method::GET, &format!("/issue/{key}"))
                    .query(&[("fields", "status,summary,labels")]),
            )
            .await?;
        match found {
            Some(r) => Ok(Some(self.api.read_json(r).await?)),
            None => Ok(None),
        }
    }

    /// The account ids holding role `role` in a project.
    async fn role_members(
        &self,
        tracker_key: &str,
        role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        #[derive(Deserialize)]
        struct Role {
            #[serde(default)]
            actors: Vec<Actor>,
        }
        #[derive(Deserialize)]
        struct Actor {
            #[serde(default, rename = "actorUser")]
            user: Option<ActorUser>,
        }
        #[derive(Deserialize)]
        struct ActorUser {
            #[serde(rename = "accountId")]
            account_id: String,
        }
        let role: Role = self
            .api
            .json(self.call(Method::GET, &format!("/project/{tracker_key}/role/{role}")))
            .await?;
        Ok(role
            .actors
            .into_iter()
            .filter_map(|a| a.user.map(|u| u.account_id))
            .collect())
    }

    /// The id of the configured access role in a project.
    async fn access_role(&self, tracker_key: &str) -> Result<String, ConnectorError> {
        let roles: serde_json::Map<String, Value> = self
            .api
            .json(self.call(Method::GET, &format!("/project/{tracker_key}/role")))
            .await?;
        let url = roles
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&self.settings.access_role))
            .and_then(|(_, url)| url.as_str())
            .ok_or_else(|| {
                ConnectorError::Permanent(format!(
                    "Jira project {tracker_key} has no role `{}` (roles: {})",
                    self.settings.access_role,
                    roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?;
        url.rsplit('/')
            .next()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ConnectorError::Transient(format!("Jira role URL `{url}` has no id")))
    }

    /// The expert's Atlassian account: from the contact record, else found by
    /// e-mail (which Jira may hide, hence the record comes first).
    async fn account_id(&self, expert: &Contact) -> Result<String, ConnectorError> {
        if let Some(id) = &expert.atlassian_account_id {
            return Ok(id.clone());
        }
        #[derive(Deserialize)]
        struct User {
            #[serde(rename = "accountId")]
            account_id: String,
            #[serde(default, rename = "emailAddress")]
            email: Option<String>,
            #[serde(default = "yes")]
            active: bool,
        }
        fn yes() -> bool {
            true
        }
        let users: Vec<User> = self
            .api
            .json(
                self.call(Method::GET, "/user/search")
                    .query(&[("query", expert.email.as_str())]),
            )
            .await?;
        users
            .into_iter()
            .find(|u| {
                u.active
                    && u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(expert.email.as_str()))
            })
            .map(|u| u.account_id)
            .ok_or_else(|| {
                ConnectorError::Permanent(format!(
                    "no Atlassian account found for {}: set `atlassian_account_id` on the expert's contact",
                    expert.email
                ))
            })
    }
}

#[async_trait]
impl Tracker for Jira {
    fn name(&self) -> &'static str {
        "jira"
    }

    async fn create_project(
        &self,
        _key: &str,
        project: &Project,
    ) -> Result<String, ConnectorError> {
        let ours = marker(project);
        for candidate in candidate_keys(&self.settings.key_prefix, project.id) {
            match self.find_project(&candidate).await? {
                // Created by an earlier attempt whose answer was lost.
                Some(existing) if existing["description"].as_str() == Some(ours.as_str()) => {
                    return Ok(candidate);
                }
                Some(_) => continue,
                None => {}
            }
            let title: String = project.title.chars().take(60).collect();
            let mut body = json!({
                "key": candidate,
                "name": format!("{title} ({candidate})"),
                "projectTypeKey": self.settings.project_type,
                "leadAccountId": self.settings.lead_account_id,
                "description": ours,
            });
            if let Some(template) = &self.settings.project_template {
                body["projectTemplateKey"] = json!(template);
            }
            self.api
                .json::<Value>(self.call(Method::POST, "/project").json(&body))
                .await?;
            tracing::info!(project = %project.id, jira = %candidate, "Jira project created");
            return Ok(candidate);
        }
        Err(ConnectorError::Permanent(format!(
            "every Jira key derived for project {} is taken by another project",
            project.id
        )))
    }

    async fn create_task(&self, _key: &str, project: &Project) -> Result<String, ConnectorError> {
        let tracker_key = self.require_key(project)?;
        if let Some(task) = &project.task_ref
            && self.issue(task).await?.is_some()
        {
            return Ok(task.clone());
        }
        // An earlier attempt whose answer was lost. The hub made the project
        // and writes its task first, so that task is `KEY-1`, read directly
        // (consistent at once, unlike search); the search covers a project
        // someone else wrote to first.
        let first = format!("{tracker_key}-1");
        if let Some(existing) = self.issue(&first).await?
            && existing.fields.labels.contains(&label(project))
        {
            return Ok(existing.key);
        }
        if let Some(existing) = self.find_task(tracker_key, project).await? {
            return Ok(existing.key);
        }
        let body = json!({
            "fields": {
                "project": { "key": tracker_key },
                "issuetype": { "name": self.settings.issue_type },
                "summary": format!("Deliver: {}", project.title.chars().take(200).collect::<String>()),
                "description": adf(&project.spec),
                "labels": ["ssot", label(project)],
            },
            "properties": [{ "key": "ssot", "value": { "project_id": project.id } }],
        });
        #[derive(Deserialize)]
        struct Created {
            key: String,
        }
        let created: Created = self
            .api
            .json(self.call(Method::POST, "/issue").json(&body))
            .await?;
        Ok(created.key)
    }

    async fn move_task(
        &self,
        _key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError> {
        let Some(target) = self
            .settings
            .task_status
            .get(state.as_str())
            .filter(|t| !t.is_empty())
        else {
            return Ok(());
        };
        let tracker_key = self.require_key(project)?;
        let task = match &project.task_ref {
            Some(key) => self.issue(key).await?,
            None => self.find_task(tracker_key, project).await?,
        };
        // Jira's search lags behind its writes: a task just made may not show yet.
        let task = task.ok_or_else(|| {
            ConnectorError::Transient(format!(
                "Jira project {tracker_key} shows no work task labelled {} yet",
                label(project)
            ))
        })?;
        let current = task.fields.status.map(|s| s.name).unwrap_or_default();
        if current.eq_ignore_ascii_case(target) {
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Transitions {
            transitions: Vec<TransitionRow>,
        }
        #[derive(Deserialize)]
        struct TransitionRow {
            id: String,
            to: Named,
        }
        let available: Transitions = self
            .api
            .json(self.call(Method::GET, &format!("/issue/{}/transitions", task.key)))
            .await?;
        let transition = available
            .transitions
            .iter()
            .find(|t| t.to.name.eq_ignore_ascii_case(target))
            .ok_or_else(|| {
                ConnectorError::Permanent(format!(
                    "the Jira workflow of {} has no transition from `{current}` to `{target}`",
                    task.key
                ))
            })?;
        self.api
            .send(
                self.call(Method::POST, &format!("/issue/{}/transitions", task.key))
                    .json(&json!({ "transition": { "id": transition.id } })),
            )
            .await?;
        Ok(())
    }

    async fn set_access(
        &self,
        _key: &str,
        project: &Project,
        expert: &Contact,
        grant: bool,
    ) -> Result<(), ConnectorError> {
        let Some(tracker_key) = self.tracker_key(project) else {
            return if grant {
                Err(ConnectorError::Permanent(format!(
                    "project {} has no Jira project to grant access to",
                    project.id
                )))
            } else {
                Ok(())
            };
        };
        let account = self.account_id(expert).await?;
        let role = self.access_role(tracker_key).await?;
        let path = format!("/project/{tracker_key}/role/{role}");
        // Done already (an earlier attempt whose answer was lost): nothing to do.
        let member = self
            .role_members(tracker_key, &role)
            .await?
            .contains(&account);
        if member == grant {
            return Ok(());
        }
        if grant {
            self.api
                .json::<Value>(
                    self.call(Method::POST, &path)
                        .json(&json!({ "user": [account] })),
                )
                .await?;
        } else {
            // Not an actor (any more) is what a revocation wants.
            self.api
                .send_allowing_404(
                    self.call(Method::DELETE, &path)
                        .query(&[("user", account.as_str())]),
                )
                .await?;
        }
        tracing::info!(project = %project.id, jira = %tracker_key, expert = %expert.id, grant, "Jira access changed");
        Ok(())
    }

    async fn export(&self, project: &Project) -> Result<Vec<ExportFile>, ConnectorError> {
        let tracker_key = self.require_key(project)?;
        let fields = export::FIELDS;
        let issues = self
            .search(
                &format!("project = \"{tracker_key}\" ORDER BY key ASC"),
                fields,
                None,
            )
            .await?;
        export::files(tracker_key, &issues).map_err(|e| {
            ConnectorError::Permanent(format!("the Jira export could not be written: {e}"))
        })
    }

    async fn delete_project(&self, _key: &str, project: &Project) -> Result<(), ConnectorError> {
        let Some(tracker_key) = self.tracker_key(project) else {
            return Ok(());
        };
        // To the recycle bin by default: restorable for 60 days, beside the
        // export kept on the board record.
        let undo = if self.settings.delete_permanently {
            "false"
        } else {
            "true"
        };
        self.api
            .send_allowing_404(
                self.call(Method::DELETE, &format!("/project/{tracker_key}"))
                    .query(&[("enableUndo", undo)]),
            )
            .await?;
        tracing::info!(project = %project.id, jira = %tracker_key, "Jira project deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_one_line() {
        let body = r#"{"errorMessages":["Project not found"],"errors":{"projectKey":"A project with that project key already exists."}}"#;
        assert_eq!(
            describe(body),
            "Project not found; projectKey: A project with that project key already exists."
        );
        assert_eq!(
            describe("<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
    }

    #[test]
    fn keys_are_short_capital_and_start_with_the_prefix() {
        let project = ProjectId::new();
        let keys = candidate_keys("SL", project);
        assert_eq!(keys.len(), 3);
        for k in &keys {
            assert!(k.starts_with("SL") && k.len() <= 10, "{k}");
            assert!(
                k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            );
        }
        assert_eq!(keys, candidate_keys("SL", project), "derived, not random");
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36 - 1), "ZZ");
    }
}
