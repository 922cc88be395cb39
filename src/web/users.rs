//! People and invitations: staff create expert and client users (admins
//! also staff ones) and hand them a one-time link to set a password; admins
//! disable and re-enable accounts and send fresh links.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use strum::VariantArray;

use super::WebState;
use super::csrf::CsrfForm;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render_with};
use super::session::SignedIn;
use crate::domain::actor::Role;
use crate::domain::contact::{Contact, ContactKind};
use crate::domain::ids::{ContactId, UserId};
use crate::domain::user::{NewUser, User, may_invite, may_manage_accounts};
use crate::domain::validation::ValidationErrors;
use crate::store::{InvitationRecord, StoreError};

/// Contacts offered in the form, per kind.
const CONTACT_CHOICES: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    contact_id: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    tr: Tr,
    chrome: Chrome,
    users: Vec<User>,
    open: Vec<InvitationRecord>,
    contacts: Vec<Contact>,
    roles: Vec<Role>,
    manage: bool,
    form: UserForm,
    errors: ValidationErrors,
    /// A link just made, to copy to its person (no mail is configured).
    link: Option<(String, String)>,
}

impl UsersPage {
    /// The message beside `field`, in the reader's language (the domain's
    /// own wording is English, for the API and the logs).
    fn error(&self, field: &str) -> Option<String> {
        let error = self.errors.0.iter().find(|e| e.field == field)?;
        Some(match (field, error.message.as_str()) {
            ("email", "already has an account") => self.tr.t("error-email-taken"),
            ("email", _) => self.tr.t("error-email"),
            ("display_name", _) => self.tr.t("error-display-name"),
            ("contact_id", _) => self.tr.t("error-contact"),
            _ => error.message.clone(),
        })
    }

    fn role_key(&self, role: &Role) -> String {
        format!("role-{}", role.as_str())
    }

    fn invited(&self, user: &User) -> Option<&InvitationRecord> {
        self.open.iter().find(|i| i.user_id == user.id)
    }

    fn contact_kind_key(&self, c: &Contact) -> &'static str {
        super::contacts::kind_key(c.kind)
    }
}

async fn page(
    state: &WebState,
    signed: &SignedIn,
    form: UserForm,
    errors: ValidationErrors,
    link: Option<(String, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.app.store;
    let mut contacts = store
        .list_contacts(Some(ContactKind::Expert), None, CONTACT_CHOICES)
        .await?;
    contacts.extend(
        store
            .list_contacts(Some(ContactKind::Client), None, CONTACT_CHOICES)
            .await?,
    );
    contacts.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    let roles = Role::VARIANTS
        .iter()
        .copied()
        .filter(|r| may_invite(signed.role(), *r))
        .collect();
    let page = UsersPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "users"),
        users: store.list_users().await?,
        open: store.open_invitations().await?,
        contacts,
        roles,
        manage: may_manage_accounts(signed.role()),
        form,
        errors,
        link,
    };
    Ok(render_with(status, &page))
}

pub async fn list(State(state): State<WebState>, signed: SignedIn) -> Result<Response, PageError> {
    signed.require_staff()?;
    page(
        &state,
        &signed,
        UserForm::default(),
        ValidationErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

fn parse(signed: &SignedIn, form: &UserForm) -> Result<NewUser, ValidationErrors> {
    let role = form
        .role
        .parse::<Role>()
        .ok()
        .filter(|r| may_invite(signed.role(), *r));
    let contact = form.contact_id.trim();
    let contact_id = if contact.is_empty() {
        Ok(None)
    } else {
        contact.parse::<ContactId>().map(Some)
    };
    let (Some(role), Ok(contact_id)) = (role, &contact_id) else {
        let mut errors = ValidationErrors::new();
        if role.is_none() {
            errors.add("role", signed.tr().t("error-role"));
        }
        if contact_id.is_err() {
            errors.add("contact_id", signed.tr().t("error-contact"));
        }
        return Err(errors);
    };
    let contact_id = *contact_id;
    NewUser::parse(&form.email, &form.display_name, role, contact_id)
}

fn link(state: &WebState, secret: &str) -> String {
    crate::domain::user::invitation_link(&state.public_url, secret)
}

pub async fn create(
    State(state): State<WebState>,
    signed: SignedIn,
    CsrfForm { form, .. }: CsrfForm<UserForm>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let actor = signed.user().actor();
    let new = match parse(&signed, &form) {
        Ok(new) => new,
        Err(errors) => {
            return page(
                &state,
                &signed,
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let email = new.email.to_string();
    let user = match state.app.store.create_user(new, None, &actor).await {
        Ok(user) => user,
        Err(StoreError::Invalid(errors)) => {
            return page(
                &state,
                &signed,
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(StoreError::NotFound { .. }) => {
            let errors = ValidationErrors::single("contact_id", signed.tr().t("error-contact"));
            return page(
                &state,
                &signed,
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let invitation = state
        .app
        .store
        .invite_user(user.id, state.invitation_ttl, &actor)
        .await?;
    tracing::info!(user = %user.id, role = %user.role, "user created and invited");
    let link = Some((email, link(&state, &invitation.secret)));
    page(
        &state,
        &signed,
        UserForm::default(),
        ValidationErrors::new(),
        link,
        StatusCode::CREATED,
    )
    .await
}

async fn set_disabled(
    state: &WebState,
    signed: &SignedIn,
    id: &str,
    disabled: bool,
) -> Result<Response, PageError> {
    if !may_manage_accounts(signed.role()) {
        return Err(PageError::NotFound(signed.tr().clone()));
    }
    let id: UserId = signed.id(id)?;
    if id == signed.user().id {
        let errors = ValidationErrors::single("account", signed.tr().t("error-disable-self"));
        return page(
            state,
            signed,
            UserForm::default(),
            errors,
            None,
            StatusCode::CONFLICT,
        )
        .await;
    }
    state
        .app
        .store
        .set_user_disabled(id, disabled, &signed.user().actor())
        .await?;
    tracing::info!(user = %id, disabled, "account changed");
    Ok(Redirect::to("/users").into_response())
}

pub async fn disable(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    _form: CsrfForm<super::auth::Empty>,
) -> Result<Response, PageError> {
    set_disabled(&state, &signed, &id, true).await
}

pub async fn enable(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    _form: CsrfForm<super::auth::Empty>,
) -> Result<Response, PageError> {
    set_disabled(&state, &signed, &id, false).await
}

/// A fresh link for a user (the old one stops working): to finish an
/// invitation that lapsed, or to reset a forgotten password.
pub async fn invite(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    _form: CsrfForm<super::auth::Empty>,
) -> Result<Response, PageError> {
    if !may_manage_accounts(signed.role()) {
        return Err(PageError::NotFound(signed.tr().clone()));
    }
    let id: UserId = signed.id(&id)?;
    let user = state.app.store.user(id).await?;
    let invitation = match state
        .app
        .store
        .invite_user(id, state.invitation_ttl, &signed.user().actor())
        .await
    {
        Ok(i) => i,
        Err(StoreError::Conflict(_)) => {
            let errors =
                ValidationErrors::single("account", signed.tr().t("error-invite-disabled"));
            return page(
                &state,
                &signed,
                UserForm::default(),
                errors,
                None,
                StatusCode::CONFLICT,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let link = Some((user.email.to_string(), link(&state, &invitation.secret)));
    page(
        &state,
        &signed,
        UserForm::default(),
        ValidationErrors::new(),
        link,
        StatusCode::OK,
    )
    .await
}
