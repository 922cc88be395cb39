//! `ssot user create|list|disable|enable|invite`: people who sign in to the
//! pages, managed from the server's shell (the first admin has no page to
//! use yet). A password comes from the terminal or a file, never from argv,
//! where other users of the machine and the shell history would see it.

use std::io::{BufRead, Read};
use std::path::Path;

use time::Duration;

use crate::domain::actor::{Actor, Role};
use crate::domain::contact::Email;
use crate::domain::ids::ContactId;
use crate::domain::user::{NewUser, User, check_new_password, invitation_link};
use crate::passwords;
use crate::store::{Store, StoreError};

/// Where a new password comes from.
#[derive(Clone, Debug)]
pub enum PasswordSource<'a> {
    /// Asked for twice on the terminal, not echoed.
    Terminal,
    /// The first line of a file, or of standard input for `-`.
    File(&'a Path),
    /// No password: the user gets an invitation link to set one.
    Invite,
}

/// What `create` made: the user, and the invitation link when one was asked for.
#[derive(Debug)]
pub struct Created {
    pub user: User,
    pub link: Option<String>,
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_owned()
}

/// Reads the password from `source`.
pub fn read_password(source: &PasswordSource<'_>) -> Result<Option<String>, String> {
    match source {
        PasswordSource::Invite => Ok(None),
        PasswordSource::File(path) if path.as_os_str() == "-" => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            Ok(Some(first_line(&line)))
        }
        PasswordSource::File(path) => {
            let mut text = String::new();
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
            Ok(Some(first_line(&text)))
        }
        PasswordSource::Terminal => {
            let first = rpassword::prompt_password("Password: ")
                .map_err(|e| format!("cannot read the password from the terminal ({e}); use --password-file FILE or --password-file -"))?;
            let second = rpassword::prompt_password("Repeat the password: ")
                .map_err(|e| format!("cannot read the password from the terminal: {e}"))?;
            if first != second {
                return Err("the passwords differ".into());
            }
            Ok(Some(first))
        }
    }
}

/// Creates a user with `password` (checked, then hashed), or without one
/// and with an invitation link.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &Store,
    role: Role,
    email: &str,
    name: &str,
    contact: Option<ContactId>,
    password: Option<String>,
    invitation: (Duration, &str),
    actor: &Actor,
) -> Result<Created, String> {
    let new = NewUser::parse(email, name, role, contact).map_err(|e| e.to_string())?;
    let hash = match password {
        Some(password) => {
            check_new_password(&password, &new.email)
                .map_err(|e| format!("{}: {}", e.field, e.message))?;
            Some(passwords::hash(password).await)
        }
        None => None,
    };
    let invite = hash.is_none();
    let user = store
        .create_user(new, hash, actor)
        .await
        .map_err(|e| describe(&e))?;
    let link = if invite {
        let (ttl, public_url) = invitation;
        let invitation = store
            .invite_user(user.id, ttl, actor)
            .await
            .map_err(|e| describe(&e))?;
        Some(invitation_link(public_url, &invitation.secret))
    } else {
        None
    };
    Ok(Created { user, link })
}

/// The user with this e-mail address.
pub async fn find(store: &Store, email: &str) -> Result<User, String> {
    let parsed = Email::parse(email).map_err(|e| format!("{}: {}", e.field, e.message))?;
    store
        .user_for_sign_in(&parsed)
        .await
        .map_err(|e| describe(&e))?
        .map(|r| r.user)
        .ok_or_else(|| format!("no user has the e-mail address {email}"))
}

fn describe(e: &StoreError) -> String {
    match e {
        StoreError::NotFound { .. } => "the contact does not exist".into(),
        other => other.to_string(),
    }
}

/// One line per user, for `ssot user list`.
pub fn table(users: &[User]) -> String {
    let mut out = format!(
        "{:<36}  {:<8}  {:<8}  {:<36}  EMAIL (NAME)\n",
        "ID", "ROLE", "STATE", "CONTACT"
    );
    for u in users {
        let state = if u.is_disabled() {
            "disabled"
        } else if u.active {
            "active"
        } else {
            "invited"
        };
        let contact = u
            .contact_id
            .map_or_else(|| "-".to_owned(), |c| c.to_string());
        out.push_str(&format!(
            "{}  {:<8}  {:<8}  {:<36}  {} ({})\n",
            u.id, u.role, state, contact, u.email, u.display_name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_gives_its_first_line_without_the_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "correct horse battery\nignored\n").unwrap();
        let read = read_password(&PasswordSource::File(&path)).unwrap();
        assert_eq!(read.as_deref(), Some("correct horse battery"));
        let missing = read_password(&PasswordSource::File(&dir.path().join("nope"))).unwrap_err();
        assert!(
            missing.contains("cannot read the password file"),
            "{missing}"
        );
        assert_eq!(read_password(&PasswordSource::Invite).unwrap(), None);
    }
}
