//! A tracker connector with faults on demand: it fails, rate-limits or hangs as
//! told, then does the built-in tracker's work, counting how often it really
//! applied each idempotency key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use ssot::connectors::builtin::Builtin;
use ssot::connectors::{ConnectorError, ExportFile, Tracker};
use ssot::domain::contact::Contact;
use ssot::domain::lifecycle::ProjectState;
use ssot::domain::project::Project;
use ssot::store::Store;
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub enum Fault {
    None,
    /// Fail this many calls, then work.
    Times(usize, ConnectorError),
    Always(ConnectorError),
    /// The next call never answers (a worker stuck or killed mid-call).
    HangOnce,
    /// The next call does its work, then never answers: the worker dies after
    /// the effect happened but before it could say so.
    HangAfterWorkOnce,
}

pub struct FaultyTracker {
    inner: Builtin,
    fault: Mutex<Fault>,
    pub calls: AtomicUsize,
    applied: Mutex<HashMap<String, usize>>,
    /// Fires whenever a call arrives.
    pub entered: Notify,
}

impl FaultyTracker {
    /// Called after the work: hangs if the fault says so.
    async fn after(&self) {
        let hang = {
            let mut fault = self.fault.lock().unwrap();
            let hang = matches!(*fault, Fault::HangAfterWorkOnce);
            if hang {
                *fault = Fault::None;
            }
            hang
        };
        if hang {
            std::future::pending::<()>().await;
        }
    }

    pub fn new(store: &Store) -> Self {
        Self {
            inner: Builtin::new(store.clone()),
            fault: Mutex::new(Fault::None),
            calls: AtomicUsize::new(0),
            applied: Mutex::new(HashMap::new()),
            entered: Notify::new(),
        }
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// How many times work for keys ending in `suffix` was really done.
    pub fn applied(&self, suffix: &str) -> usize {
        self.applied
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.ends_with(suffix))
            .map(|(_, n)| n)
            .sum()
    }

    async fn gate(&self, key: &str) -> Result<(), ConnectorError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.entered.notify_waiters();
        let outcome = {
            let mut fault = self.fault.lock().unwrap();
            match &mut *fault {
                Fault::None => Some(Ok(())),
                Fault::Times(n, e) if *n > 0 => {
                    *n -= 1;
                    Some(Err(e.clone()))
                }
                Fault::Times(..) => Some(Ok(())),
                Fault::Always(e) => Some(Err(e.clone())),
                Fault::HangOnce => {
                    *fault = Fault::None;
                    None
                }
                Fault::HangAfterWorkOnce => Some(Ok(())),
            }
        };
        match outcome {
            Some(result) => result?,
            None => std::future::pending::<()>().await,
        }
        *self
            .applied
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default() += 1;
        Ok(())
    }
}

#[async_trait]
impl Tracker for FaultyTracker {
    fn name(&self) -> &'static str {
        "faulty"
    }

    async fn create_project(&self, key: &str, project: &Project) -> Result<String, ConnectorError> {
        self.gate(key).await?;
        let result = self.inner.create_project(key, project).await;
        self.after().await;
        result
    }

    async fn create_task(&self, key: &str, project: &Project) -> Result<String, ConnectorError> {
        self.gate(key).await?;
        let result = self.inner.create_task(key, project).await;
        self.after().await;
        result
    }

    async fn move_task(
        &self,
        key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError> {
        self.gate(key).await?;
        let result = self.inner.move_task(key, project, state).await;
        self.after().await;
        result
    }

    async fn set_access(
        &self,
        key: &str,
        project: &Project,
        expert: &Contact,
        grant: bool,
    ) -> Result<(), ConnectorError> {
        self.gate(key).await?;
        let result = self.inner.set_access(key, project, expert, grant).await;
        self.after().await;
        result
    }

    async fn export(&self, project: &Project) -> Result<Vec<ExportFile>, ConnectorError> {
        self.gate(&format!("export:{}", project.id)).await?;
        let result = self.inner.export(project).await;
        self.after().await;
        result
    }

    async fn delete_project(&self, key: &str, project: &Project) -> Result<(), ConnectorError> {
        self.gate(key).await?;
        let result = self.inner.delete_project(key, project).await;
        self.after().await;
        result
    }
}
