//! HubSpot as the CRM (CRM v3 objects, v4 associations). Contacts are upserted
//! by e-mail with the SSoT id, role and vetting state as custom properties;
//! intake answers are appended to a text property once per project; each
//! project has a deal, upserted by its SSoT id, whose stage mirrors the
//! lifecycle and which is associated with the client's contact. The custom
//! properties are created on first use.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use super::http::{Api, Secret, clip};
use super::settings::HubSpotSettings;
use super::{ConnectorError, Crm};
use crate::domain::contact::{Contact, RemoteContact};
use crate::domain::expert::VettingState;
use crate::domain::lifecycle::ProjectState;
use crate::domain::project::Project;

/// `(object type, name, label, field type, unique)`: the unique ones are the
/// keys deals are upserted by and contacts are recognised by.
const CUSTOM_PROPERTIES: &[(&str, &str, &str, &str, bool)] = &[
    ("contacts", "ssot_id", "SSoT-Lite id", "text", true),
    ("contacts", "ssot_role", "SSoT-Lite role", "text", false),
    (
        "contacts",
        "ssot_vetting",
        "SSoT-Lite vetting",
        "text",
        false,
    ),
    (
        "contacts",
        "ssot_intake",
        "SSoT-Lite intake answers",
        "textarea",
        false,
    ),
    (
        "deals",
        "ssot_project_id",
        "SSoT-Lite project id",
        "text",
        true,
    ),
    (
        "deals",
        "ssot_state",
        "SSoT-Lite lifecycle state",
        "text",
        false,
    ),
];

pub struct HubSpot {
    api: Api,
    token: Secret,
    settings: HubSpotSettings,
    schema: OnceCell<()>,
}

/// HubSpot's error body, as one line.
fn describe(body: &str) -> String {
    #[derive(Deserialize)]
    struct Error {
        message: Option<String>,
        category: Option<String>,
    }
    match serde_json::from_str::<Error>(body) {
        Ok(Error {
            message: Some(m),
            category,
        }) => match category {
            Some(c) => format!("{m} ({c})"),
            None => m,
        },
        _ => clip(body),
    }
}

/// HubSpot keeps first and last names apart; the last word is the last name.
fn split_name(full: &str) -> (String, String) {
    match full.trim().rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_owned(), last.to_owned()),
        None => (full.trim().to_owned(), String::new()),
    }
}

/// A reference from the built-in CRM is not a HubSpot id.
fn hubspot_id(crm_ref: Option<&str>) -> Option<&str> {
    crm_ref.filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
}

#[derive(Deserialize)]
struct Upserted {
    #[serde(default)]
    results: Vec<Object>,
    #[serde(default)]
    errors: Vec<Value>,
}

#[derive(Deserialize)]
struct Object {
    id: String,
    #[serde(default)]
    properties: Map<String, Value>,
}

impl HubSpot {
    pub fn new(settings: HubSpotSettings, token: Secret, timeout: Duration) -> Self {
        let api = Api::new(
            "HubSpot",
            &settings.base_url,
            settings.requests_per_second,
            timeout,
            describe,
        );
        Self {
            api,
            token,
            settings,
            schema: OnceCell::new(),
        }
    }

    fn call(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.api
            .request(method, path)
            .bearer_auth(self.token.expose())
    }

    /// Creates the custom properties that are missing (once per process).
    async fn ensure_schema(&self) -> Result<(), ConnectorError> {
        self.schema
            .get_or_try_init(|| async {
                for (object, name, label, field_type, unique) in CUSTOM_PROPERTIES {
                    let path = format!("/crm/v3/properties/{object}/{name}");
                    if self
                        .api
                        .send_allowing_404(self.call(Method::GET, &path))
                        .await?
                        .is_some()
                    {
                        continue;
                    }
                    let group = if *object == "deals" {
                        "dealinformation"
                    } else {
                        "contactinformation"
                    };
                    let body = json!({
                        "name": name, "label": label, "groupName": group,
                        "type": "string", "fieldType": field_type, "hasUniqueValue": unique,
                    });
                    // A 409: another process created it meanwhile.
                    let created = self
                        .api
                        .send_accepting(
                            self.call(Method::POST, &format!("/crm/v3/properties/{object}"))
                                .json(&body),
                            &[reqwest::StatusCode::CONFLICT],
                        )
                        .await?;
                    if created.status().is_success() {
                        tracing::info!(object, name, "HubSpot property created");
                    }
                }
                Ok(())
            })
            .await
            .map(|_: &()| ())
    }

    /// One upsert through the batch endpoint, keyed by a unique property.
    async fn upsert(
        &self,
        object: &str,
        id_property: &str,
        id: &str,
        properties: Value,
    ) -> Result<String, ConnectorError> {
        let body = json!({ "inputs": [{ "idProperty": id_property, "id": id, "properties": properties }] });
        let answer: Upserted = self
            .api
            .json(
                self.call(
                    Method::POST,
                    &format!("/crm/v3/objects/{object}/batch/upsert"),
                )
                .json(&body),
            )
            .await?;
        if let Some(error) = answer.errors.first() {
            return Err(ConnectorError::Permanent(format!(
                "HubSpot refused the {object} upsert: {}",
                error["message"].as_str().unwrap_or("no message")
            )));
        }
        answer
            .results
            .into_iter()
            .next()
            .map(|o| o.id)
            .ok_or_else(|| {
                ConnectorError::Transient(format!(
                    "HubSpot answered a {object} upsert with no result"
                ))
            })
    }

    async fn read_contact(
        &self,
        id: &str,
        properties: &str,
    ) -> Result<Option<Object>, ConnectorError> {
        let found = self
            .api
            .send_allowing_404(
                self.call(Method::GET, &format!("/crm/v3/objects/contacts/{id}"))
                    .query(&[("properties", properties)]),
            )
            .await?;
        match found {
            Some(r) => Ok(Some(self.api.read_json(r).await?)),
            None => Ok(None),
        }
    }

    /// Appends the project's intake answers to the contact's intake property,
    /// unless an earlier delivery already did.
    async fn append_intake(&self, id: &str, project: &Project) -> Result<(), ConnectorError> {
        if project.intake.is_empty() {
            return Ok(());
        }
        let marker = format!("[SSoT-Lite project {}]", project.id);
        let current = self
            .read_contact(id, "ssot_intake")
            .await?
            .and_then(|o| {
                o.properties
                    .get("ssot_intake")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        if current.contains(&marker) {
            return Ok(());
        }
        let answers: Vec<String> = project
            .intake
            .iter()
            .map(|(q, a)| match a {
                Value::String(s) => format!("{q}: {s}"),
                other => format!("{q}: {other}"),
            })
            .collect();
        let block = format!("{marker} {}\n{}", project.title, answers.join("\n"));
        let text = if current.trim().is_empty() {
            block
        } else {
            format!("{}\n\n{block}", current.trim_end())
        };
        self.api
            .json::<Value>(
                self.call(Method::PATCH, &format!("/crm/v3/objects/contacts/{id}"))
                    .json(&json!({ "properties": { "ssot_intake": text } })),
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Crm for HubSpot {
    fn name(&self) -> &'static str {
        "hubspot"
    }

    async fn upsert_contact(
        &self,
        _key: &str,
        contact: &Contact,
        vetting: Option<VettingState>,
        project: Option<&Project>,
    ) -> Result<String, ConnectorError> {
        self.ensure_schema().await?;
        let (first, last) = split_name(&contact.full_name);
        let mut properties = json!({
            "email": contact.email.as_str(),
            "firstname": first,
            "lastname": last,
            "ssot_id": contact.id.to_string(),
            "ssot_role": contact.kind.as_str(),
        });
        if let Some(phone) = &contact.phone {
            properties["phone"] = json!(phone);
        }
        if let Some(company) = &contact.legal_name {
            properties["company"] = json!(company);
        }
        if let Some(v) = vetting {
            properties["ssot_vetting"] = json!(v.as_str());
        }
        // A known contact is updated by id, so an e-mail changed here moves
        // with it instead of creating a second contact.
        let known = match hubspot_id(contact.crm_ref.as_deref()) {
            Some(id) => {
                let patched = self
                    .api
                    .send_allowing_404(
                        self.call(Method::PATCH, &format!("/crm/v3/objects/contacts/{id}"))
                            .json(&json!({ "properties": properties })),
                    )
                    .await?;
                match patched {
                    Some(r) => {
                        self.api.read_json::<Object>(r).await?;
                        Some(id.to_owned())
                    }
                    None => None,
                }
            }
            None => None,
        };
        let id = match known {
            Some(id) => id,
            None => {
                self.upsert("contacts", "email", contact.email.as_str(), properties)
                    .await?
            }
        };
        if let Some(project) = project {
            self.append_intake(&id, project).await?;
        }
        Ok(id)
    }

    async fn sync_deal(
        &self,
        key: &str,
        project: &Project,
        client: &Contact,
        stage: ProjectState,
    ) -> Result<String, ConnectorError> {
        self.ensure_schema().await?;
        let contact_id = match hubspot_id(client.crm_ref.as_deref()) {
            Some(id) => id.to_owned(),
            None => self.upsert_contact(key, client, None, None).await?,
        };
        let mut properties = json!({
            "dealname": project.title,
            "pipeline": self.settings.pipeline,
            "ssot_project_id": project.id.to_string(),
            "ssot_state": stage.as_str(),
        });
        if let Some(deal_stage) = self
            .settings
            .deal_stages
            .get(stage.as_str())
            .filter(|s| !s.is_empty())
        {
            properties["dealstage"] = json!(deal_stage);
        }
        if let Some(baseline) = &project.baseline {
            properties["amount"] = json!(format!("{:.2}", baseline.price));
        }
        let deal = self
            .upsert(
                "deals",
                "ssot_project_id",
                &project.id.to_string(),
                properties,
            )
            .await?;
        self.api
            .json::<Value>(self.call(
                Method::PUT,
                &format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact_id}"),
            ))
            .await?;
        Ok(deal)
    }

    async fn fetch_contact(
        &self,
        contact: &Contact,
    ) -> Result<Option<RemoteContact>, ConnectorError> {
        let Some(id) = hubspot_id(contact.crm_ref.as_deref()) else {
            return Ok(None);
        };
        let Some(o) = self
            .read_contact(id, "email,firstname,lastname,phone,company")
            .await?
        else {
            return Ok(None);
        };
        let get = |k: &str| {
            o.properties
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let name = [get("firstname"), get("lastname")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Some(RemoteContact {
            email: get("email"),
            full_name: Some(name).filter(|n| !n.is_empty()),
            phone: get("phone"),
            company: get("company"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_last_word() {
        assert_eq!(
            split_name("Anna Maria Kowalska"),
            ("Anna Maria".into(), "Kowalska".into())
        );
        assert_eq!(split_name("Cher"), ("Cher".into(), String::new()));
    }

    #[test]
    fn only_hubspot_ids_count_as_known() {
        assert_eq!(hubspot_id(Some("51")), Some("51"));
        assert_eq!(hubspot_id(Some("builtin:contact:x")), None);
        assert_eq!(hubspot_id(None), None);
    }

    #[test]
    fn errors_read_as_one_line() {
        let body = r#"{"status":"error","message":"Contact already exists. Existing ID: 51","correlationId":"x","category":"CONFLICT"}"#;
        assert_eq!(
            describe(body),
            "Contact already exists. Existing ID: 51 (CONFLICT)"
        );
        assert_eq!(describe("upstream timeout"), "upstream timeout");
    }
}
