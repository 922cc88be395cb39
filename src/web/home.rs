//! `/`: the dashboard for staff; for an expert or a client, the projects
//! they take part in.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::WebState;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render};
use super::session::SignedIn;
use crate::domain::project::Project;
use crate::store::ProjectFilter;

#[derive(Template)]
#[template(path = "my_projects.html")]
struct MyProjects {
    tr: Tr,
    chrome: Chrome,
    projects: Vec<Project>,
}

impl MyProjects {
    fn state_key(&self, p: &Project) -> String {
        format!("state-{}", p.state.as_str())
    }
}

/// At most this many of a person's projects are listed.
const MY_PROJECTS: u32 = 200;

pub async fn home(State(state): State<WebState>, signed: SignedIn) -> Result<Response, PageError> {
    if signed.role().is_staff() {
        let page = super::dashboard::page(&state, &signed).await?;
        return Ok(render(&page));
    }
    let filter = ProjectFilter {
        limit: MY_PROJECTS,
        ..ProjectFilter::default()
    }
    .seen_by(&signed.user().actor());
    let projects = state.app.store.list_projects(&filter).await?;
    Ok(render(&MyProjects {
        tr: signed.tr().clone(),
        chrome: Chrome::of(&signed, "home"),
        projects,
    }))
}
