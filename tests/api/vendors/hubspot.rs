//! A fake HubSpot CRM API (contract section 3): properties that must exist
//! before they are set, contacts and deals with unique values enforced, search,
//! batch upsert with `new` and 207 partial failures, v4 associations, and a
//! webhook sender that signs with the v3 scheme. Bearer auth on every call;
//! errors are `{"status":"error","message","correlationId","category",…}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::faults::{self, Faults};
use super::{Fault, Recorded, is_json, now_iso, now_ms, outbound, serve};

mod associations;
mod objects;
mod tests;

use associations::{associate_default, list_associations, remove_association};
use objects::{batch_upsert, create_object, get_object, search_objects, update_object};

pub struct HubSpotFake {
    /// `http://127.0.0.1:PORT`, like `https://api.hubapi.com`.
    pub base_url: String,
    db: Shared,
    faults: Faults,
}

type Shared = Arc<Mutex<Db>>;

struct Db {
    token: String,
    client_secret: String,
    webhook_target: Option<String>,
    properties: Vec<Property>,
    objects: Vec<Object>,
    /// (from type, from id, to type, to id, association type id).
    associations: Vec<(Kind, u64, Kind, u64, u64)>,
    next_id: u64,
    next_event: u64,
}

/// The object types this fake holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Contact,
    Deal,
}

impl Kind {
    /// `contacts`, `contact` or `0-1`; `deals`, `deal` or `0-3`.
    fn parse(s: &str) -> Result<Kind, HsError> {
        match s {
            "contacts" | "contact" | "0-1" => Ok(Kind::Contact),
            "deals" | "deal" | "0-3" => Ok(Kind::Deal),
            _ => Err(validation(format!("Unable to infer object type from: {s}"))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Contact => "contacts",
            Kind::Deal => "deals",
        }
    }

    /// Properties returned when a read names none.
    fn defaults(self) -> &'static [&'static str] {
        match self {
            Kind::Contact => &[
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            ],
            Kind::Deal => &[
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ],
        }
    }

    /// The last-modified property, which HubSpot names differently per type.
    fn modified(self) -> &'static str {
        match self {
            Kind::Contact => "lastmodifieddate",
            Kind::Deal => "hs_lastmodifieddate",
        }
    }
}

struct Property {
    kind: Kind,
    name: String,
    label: String,
    group: String,
    type_: String,
    field_type: String,
    /// Values must be unique: `hasUniqueValue`, or `email` on contacts.
    unique: bool,
    options: Vec<Value>,
    hubspot_defined: bool,
    /// Kept by HubSpot itself; a write is refused.
    read_only: bool,
    created_at: String,
}

struct Object {
    kind: Kind,
    id: u64,
    properties: BTreeMap<String, String>,
    created_at: String,
    updated_at: String,
}

/// Deal stages of the default pipeline.
const DEAL_STAGES: [&str; 7] = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
];

impl HubSpotFake {
    pub async fn start(access_token: &str, client_secret: &str) -> Self {
        let faults = Faults::new(render_fault);
        let db: Shared = Arc::new(Mutex::new(Db {
            token: access_token.to_owned(),
            client_secret: client_secret.to_owned(),
            webhook_target: None,
            properties: builtin_properties(),
            objects: Vec::new(),
            associations: Vec::new(),
            next_id: 1001,
            next_event: 1,
        }));
        let base_url = serve(|_| faults.wrap(router(db.clone()))).await;
        Self {
            base_url,
            db,
            faults,
        }
    }

    /// The next `times` requests, whatever the path, get `fault`.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.faults.inject(None, fault, times);
    }

    /// The next `times` requests whose path contains `path_contains` get `fault`.
    pub fn inject_on(&self, path_contains: &str, fault: Fault, times: usize) {
        self.faults.inject(Some(path_contains), fault, times);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.faults.requests()
    }

    /// Where [`HubSpotFake::user_changes_contact`] posts its events.
    pub fn set_webhook_target(&self, url: &str) {
        lock(&self.db).webhook_target = Some(url.to_owned());
    }

    /// Every contact with all its properties, in creation order.
    pub fn contacts(&self) -> Vec<Value> {
        lock(&self.db).all(Kind::Contact)
    }

    pub fn contact_by_email(&self, email: &str) -> Option<Value> {
        let db = lock(&self.db);
        let o = db.find_by(Kind::Contact, "email", email)?;
        Some(db.object_json(o, None))
    }

    /// Every deal with all its properties, in creation order.
    pub fn deals(&self) -> Vec<Value> {
        lock(&self.db).all(Kind::Deal)
    }

    /// Ids of the `to_type` objects associated with `from_type` `from_id`.
    pub fn associations(&self, from_type: &str, from_id: &str, to_type: &str) -> Vec<String> {
        let (Ok(from), Ok(to), Ok(id)) = (
            Kind::parse(from_type),
            Kind::parse(to_type),
            from_id.parse::<u64>(),
        ) else {
            return Vec::new();
        };
        let db = lock(&self.db);
        db.associations
            .iter()
            .filter(|(f, fid, t, _, _)| *f == from && *fid == id && *t == to)
            .map(|(_, _, _, tid, _)| tid.to_string())
            .collect()
    }

    /// Someone edits a contact in HubSpot: the value changes, then a
    /// `contact.propertyChange` event goes to the webhook target, signed v3.
    /// The target's status (0 when unreachable).
    pub async fn user_changes_contact(&self, contact_id: &str, property: &str, value: &str) -> u16 {
        let (target, secret, event_id, id) = {
            let mut db = lock(&self.db);
            let target = db.webhook_target.clone().expect("set_webhook_target first");
            let id: u64 = contact_id.parse().expect("a numeric contact id");
            assert!(
                db.property(Kind::Contact, property).is_some(),
                "no contact property {property}"
            );
            let contact = db
                .objects
                .iter_mut()
                .find(|o| o.kind == Kind::Contact && o.id == id);
            let contact = contact.unwrap_or_else(|| panic!("no contact {contact_id}"));
            contact
                .properties
                .insert(property.to_owned(), value.to_owned());
            let now = now_iso();
            contact
                .properties
                .insert(Kind::Contact.modified().to_owned(), now.clone());
            contact.updated_at = now;
            db.next_event += 1;
            (target, db.client_secret.clone(), db.next_event, id)
        };
        let body = json!([{
            "eventId": event_id, "subscriptionId": 12345, "portalId": 62515, "appId": 54321,
            "occurredAt": now_ms(), "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
            "objectId": id, "changeSource": "CRM",
            "propertyName": property, "propertyValue": value,
        }])
        .to_string();
        let timestamp = now_ms().to_string();
        let v1 = hex::encode(Sha256::digest(format!("{secret}{body}").as_bytes()));
        let sent = outbound()
            .post(&target)
            .header("content-type", "application/json")
            .header("x-hubspot-request-timestamp", &timestamp)
            .header(
                "x-hubspot-signature-v3",
                sign_v3(&secret, "POST", &target, &body, &timestamp),
            )
            .header("x-hubspot-signature", v1)
            .header("x-hubspot-signature-version", "v1")
            .body(body)
            .send()
            .await;
        sent.map_or(0, |r| r.status().as_u16())
    }
}

/// `X-HubSpot-Signature-v3`: base64(HMAC-SHA256(client secret, method + uri + body + timestamp)).
pub fn sign_v3(secret: &str, method: &str, uri: &str, body: &str, timestamp_ms: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{method}{uri}{body}{timestamp_ms}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

fn lock(db: &Shared) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(db: Shared) -> Router {
    Router::new()
        .route("/crm/v3/properties/{kind}", post(create_property))
        .route("/crm/v3/properties/{kind}/{name}", get(get_property))
        .route("/crm/v3/objects/{kind}", post(create_object))
        .route("/crm/v3/objects/{kind}/search", post(search_objects))
        .route("/crm/v3/objects/{kind}/batch/upsert", post(batch_upsert))
        .route(
            "/crm/v3/objects/{kind}/{id}",
            get(get_object).patch(update_object),
        )
        .route(
            "/crm/v4/objects/{from}/{id}/associations/default/{to}/{to_id}",
            put(associate_default),
        )
        .route(
            "/crm/v4/objects/{from}/{id}/associations/{to}",
            get(list_associations),
        )
        .route(
            "/crm/v4/objects/{from}/{id}/associations/{to}/{to_id}",
            axum::routing::delete(remove_association),
        )
        .fallback(|| async {
            HsError(
                StatusCode::NOT_FOUND,
                error_body("Not Found", "OBJECT_NOT_FOUND"),
            )
        })
        .layer(middleware::from_fn_with_state(db.clone(), authenticate))
        .with_state(db)
}

// ---------- errors and auth ----------

/// An error as HubSpot words it.
struct HsError(StatusCode, Value);

impl IntoResponse for HsError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

type Reply = Result<Response, HsError>;

fn error_body(message: &str, category: &str) -> Value {
    json!({
        "status": "error", "message": message,
        "correlationId": uuid::Uuid::now_v7().to_string(), "category": category,
    })
}

fn validation(message: impl Into<String>) -> HsError {
    HsError(
        StatusCode::BAD_REQUEST,
        error_body(&message.into(), "VALIDATION_ERROR"),
    )
}

fn not_found(message: impl Into<String>) -> HsError {
    HsError(
        StatusCode::NOT_FOUND,
        error_body(&message.into(), "OBJECT_NOT_FOUND"),
    )
}

fn render_fault(fault: &Fault) -> Response {
    match fault {
        Fault::RateLimited { retry_after_secs } => {
            let mut body = error_body(
                "You have reached your ten_secondly_rolling limit.",
                "RATE_LIMITS",
            );
            body["errorType"] = json!("RATE_LIMIT");
            body["policyName"] = json!("TEN_SECONDLY_ROLLING");
            (
                StatusCode::TOO_MANY_REQUESTS,
                faults::retry_after(*retry_after_secs),
                Json(body),
            )
                .into_response()
        }
        Fault::ServerError => HsError(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_body("internal error", "INTERNAL_ERROR"),
        )
        .into_response(),
        Fault::LostAnswer => unreachable!("the middleware answers a lost answer itself"),
        Fault::Unauthorized => unauthorized(),
        Fault::Malformed => faults::malformed(),
        Fault::Slow(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn unauthorized() -> Response {
    let message = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview";
    HsError(
        StatusCode::UNAUTHORIZED,
        error_body(message, "INVALID_AUTHENTICATION"),
    )
    .into_response()
}

async fn authenticate(State(db): State<Shared>, req: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", lock(&db).token);
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if given == Some(expected.as_str()) {
        next.run(req).await
    } else {
        unauthorized()
    }
}

/// The body as a JSON object, refusing a body that does not say it is JSON.
fn json_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, HsError> {
    if !is_json(headers) {
        let body = error_body(
            "Unsupported Media Type: use application/json",
            "VALIDATION_ERROR",
        );
        return Err(HsError(StatusCode::UNSUPPORTED_MEDIA_TYPE, body));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(validation("Invalid input JSON: expected an object")),
        Err(e) => Err(validation(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))),
    }
}

// ---------- properties ----------

/// A HubSpot-defined property: (type, name, value type, unique, read-only, options).
type Builtin = (Kind, &'static str, &'static str, bool, bool, Vec<Value>);

fn builtin_properties() -> Vec<Property> {
    let stages: Vec<Value> = DEAL_STAGES
        .iter()
        .map(|s| json!({ "label": s, "value": s }))
        .collect();
    let specs: [Builtin; 14] = [
        (Kind::Contact, "email", "string", true, false, vec![]),
        (Kind::Contact, "firstname", "string", false, false, vec![]),
        (Kind::Contact, "lastname", "string", false, false, vec![]),
        (Kind::Contact, "phone", "string", false, false, vec![]),
        (Kind::Contact, "company", "string", false, false, vec![]),
        (Kind::Contact, "createdate", "datetime", false, true, vec![]),
        (
            Kind::Contact,
            "lastmodifieddate",
            "datetime",
            false,
            true,
            vec![],
        ),
        (Kind::Deal, "dealname", "string", false, false, vec![]),
        (Kind::Deal, "dealstage", "enumeration", false, false, stages),
        (
            Kind::Deal,
            "pipeline",
            "enumeration",
            false,
            false,
            vec![json!({ "label": "Sales Pipeline", "value": "default" })],
        ),
        (Kind::Deal, "amount", "number", false, false, vec![]),
        (Kind::Deal, "closedate", "datetime", false, false, vec![]),
        (Kind::Deal, "createdate", "datetime", false, true, vec![]),
        (
            Kind::Deal,
            "hs_lastmodifieddate",
            "datetime",
            false,
            true,
            vec![],
        ),
    ];
    let ids = [Kind::Contact, Kind::Deal]
        .map(|kind| (kind, "hs_object_id", "number", false, true, vec![]));
    specs
        .into_iter()
        .chain(ids)
        .map(|(kind, name, type_, unique, read_only, options)| Property {
            kind,
            name: name.to_owned(),
            label: name.to_owned(),
            group: if kind == Kind::Contact {
                "contactinformation"
            } else {
                "dealinformation"
            }
            .to_owned(),
            type_: type_.to_owned(),
            field_type: if options.is_empty() { "text" } else { "select" }.to_owned(),
            unique,
            options,
            hubspot_defined: true,
            read_only,
            created_at: now_iso(),
        })
        .collect()
}

const TYPES: [&str; 7] = [
    "string",
    "number",
    "date",
    "datetime",
    "enumeration",
    "bool",
    "phone_number",
];
const FIELD_TYPES: [&str; 12] = [
    "text",
    "textarea",
    "number",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "date",
    "file",
    "html",
    "phonenumber",
    "calculation_equation",
];

fn property_json(p: &Property) -> Value {
    json!({
        "updatedAt": p.created_at, "createdAt": p.created_at, "name": p.name, "label": p.label,
        "type": p.type_, "fieldType": p.field_type, "description": "", "groupName": p.group,
        "options": p.options, "displayOrder": -1, "calculated": false, "externalOptions": false,
        "hasUniqueValue": p.unique && !p.hubspot_defined, "hidden": false, "hubspotDefined": p.hubspot_defined,
        "modificationMetadata": { "archivable": !p.hubspot_defined, "readOnlyDefinition": p.hubspot_defined, "readOnlyValue": p.read_only },
        "formField": true, "archived": false,
    })
}

async fn create_property(
    State(db): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let body = json_object(&headers, &body)?;
    let text = |f: &str| {
        body.get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(missing) = ["name", "label", "groupName", "type", "fieldType"]
        .into_iter()
        .find(|f| text(f).is_empty())
    {
        return Err(validation(format!(
            "Invalid input JSON: missing required field '{missing}'"
        )));
    }
    let name = text("name");
    let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        return Err(validation(format!(
            "Property name '{name}' must start with a lower-case letter and contain only lower-case letters, digits and underscores."
        )));
    }
    if !TYPES.contains(&text("type").as_str()) || !FIELD_TYPES.contains(&text("fieldType").as_str())
    {
        return Err(validation(format!(
            "Invalid type '{}' or fieldType '{}'.",
            text("type"),
            text("fieldType")
        )));
    }
    let options = body
        .get("options")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if text("type") == "enumeration" && options.is_empty() {
        return Err(validation(
            "Enumeration properties need at least one option.",
        ));
    }
    let mut db = lock(&db);
    if db.property(kind, &name).is_some() {
        let body = error_body(
            &format!("Property named '{name}' already exists."),
            "CONFLICT",
        );
        return Err(HsError(StatusCode::CONFLICT, body));
    }
    let property = Property {
        kind,
        name,
        label: text("label"),
        group: text("groupName"),
        type_: text("type"),
        field_type: text("fieldType"),
        unique: body
            .get("hasUniqueValue")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        options,
        hubspot_defined: false,
        read_only: false,
        created_at: now_iso(),
    };
    let reply = property_json(&property);
    db.properties.push(property);
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

async fn get_property(
    State(db): State<Shared>,
    Path((kind, name)): Path<(String, String)>,
) -> Reply {
    let kind = Kind::parse(&kind)?;
    let db = lock(&db);
    let p = db.property(kind, &name);
    let p = p.ok_or_else(|| {
        not_found(format!(
            "Unable to find property {name} for object type {}",
            kind.name()
        ))
    })?;
    Ok(Json(property_json(p)).into_response())
}

impl Db {
    fn property(&self, kind: Kind, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.kind == kind && p.name == name)
    }

    fn all(&self, kind: Kind) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| self.object_json(o, None))
            .collect()
    }
}
