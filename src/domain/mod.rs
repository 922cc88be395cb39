//! The pure domain: types, validation, the lifecycle tables and value metrics.
//! Nothing here performs I/O or knows about HTTP or the database.

pub mod access;
pub mod actor;
pub mod audit;
pub mod checks;
pub mod contact;
pub mod dates;
pub mod document;
pub mod expert;
pub mod identity;
pub mod ids;
#[cfg(test)]
mod input_props;
pub mod intake;
#[cfg(test)]
mod intake_props;
pub mod lifecycle;
pub mod matching;
pub mod metrics;
pub mod project;
pub mod protocol;
#[cfg(test)]
mod protocol_props;
pub mod task;
pub mod text;
pub mod ticket;
pub mod user;
pub mod validation;
pub mod verification;

/// "a, b, c" (or "none") for error messages that list actions.
fn names<T: Copy + Into<&'static str>>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|i| (*i).into())
        .collect::<Vec<&str>>()
        .join(", ")
}
