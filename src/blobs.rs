//! Uploaded files on the local filesystem, stored once per content hash
//! (`<dir>/<first two hex digits>/<sha256>`). An upload streams into a
//! temporary file while it is hashed, measured and checked for text, and is
//! moved into place only when complete, so a half-received file is never
//! visible. A temporary file is removed when its upload is dropped for any
//! reason (refused, failed, or the client went away).

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::agent::sniff::{SNIFF_BYTES, TextCheck};

/// Temporary files older than this at start-up were left by a crashed process.
const STALE_AFTER: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
pub struct BlobStore {
    dir: PathBuf,
}

/// Removes its file when dropped, unless the file was moved into place.
#[derive(Debug)]
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0
            .as_deref()
            .expect("a temporary file is only read while held")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // A small unlink; done inline so a dropped future cannot skip it.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A file being received.
pub struct Incoming {
    file: tokio::fs::File,
    temp: TempFile,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    text: TextCheck,
}

/// A received file, not yet moved into place.
#[derive(Debug)]
pub struct Received {
    temp: TempFile,
    pub sha256: String,
    pub size: u64,
    /// The first bytes, for sniffing the type.
    pub head: Vec<u8>,
    /// The whole file is UTF-8 text without control characters.
    pub is_text: bool,
}

impl BlobStore {
    /// Opens (creating) the folder and clears temporary files a crashed
    /// process left behind.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let tmp = dir.join("tmp");
        crate::private_files::create_dir_all(&tmp)?;
        let now = SystemTime::now();
        for entry in std::fs::read_dir(&tmp)?.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_AFTER);
            if stale && std::fs::remove_file(entry.path()).is_ok() {
                tracing::info!(file = %entry.path().display(), "removed a stale partial upload");
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Starts receiving a file into a fresh temporary file.
    pub async fn receive(&self) -> io::Result<Incoming> {
        let path = self
            .dir
            .join("tmp")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let file = crate::private_files::new_file_options().open(&path).await?;
        Ok(Incoming {
            file,
            temp: TempFile(Some(path)),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            text: TextCheck::default(),
        })
    }

    /// Moves a received file to its place (a file with the same hash is kept).
    pub async fn keep(&self, mut received: Received) -> io::Result<PathBuf> {
        let target = self.path(&received.sha256);
        if !tokio::fs::try_exists(&target).await? {
            let parent = target
                .parent()
                .expect("blob paths have a parent")
                .to_owned();
            tokio::task::spawn_blocking(move || crate::private_files::create_dir_all(&parent))
                .await
                .map_err(io::Error::other)??;
            tokio::fs::rename(received.temp.path(), &target).await?;
            received.temp.0 = None;
        }
        Ok(target)
    }

    pub async fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.path(sha256)).await
    }
}

impl Incoming {
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.text.feed(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub async fn finish(mut self) -> io::Result<Received> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        Ok(Received {
            temp: self.temp,
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            head: self.head,
            is_text: self.text.finish(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_count(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("tmp")).unwrap().count()
    }

    #[tokio::test]
    async fn a_file_is_hashed_while_it_streams_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let mut a = blobs.receive().await.unwrap();
        a.write(b"%PDF-1.7 hello ").await.unwrap();
        a.write(b"world").await.unwrap();
        let a = a.finish().await.unwrap();
        assert_eq!(
            (a.size, a.head.as_slice()),
            (20, &b"%PDF-1.7 hello world"[..])
        );
        assert_eq!(
            a.sha256,
            hex::encode(Sha256::digest(b"%PDF-1.7 hello world"))
        );
        let sha = a.sha256.clone();
        let kept = blobs.keep(a).await.unwrap();
        let mut b = blobs.receive().await.unwrap();
        b.write(b"%PDF-1.7 hello world").await.unwrap();
        let b = b.finish().await.unwrap();
        assert_eq!(blobs.keep(b).await.unwrap(), kept);
        assert_eq!(blobs.read(&sha).await.unwrap(), b"%PDF-1.7 hello world");
        assert_eq!(tmp_count(dir.path()), 0, "no temporary files left");
    }

    #[tokio::test]
    async fn a_dropped_upload_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let mut a = blobs.receive().await.unwrap();
        a.write(b"half of a file").await.unwrap();
        assert_eq!(tmp_count(dir.path()), 1);
        drop(a);
        assert_eq!(tmp_count(dir.path()), 0, "an abandoned upload is removed");
        let mut b = blobs.receive().await.unwrap();
        b.write(b"refused later").await.unwrap();
        drop(b.finish().await.unwrap());
        assert_eq!(tmp_count(dir.path()), 0, "a refused upload is removed");
    }

    #[tokio::test]
    async fn text_is_checked_as_it_streams_across_chunk_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let word = "Zaświadczenie żółć".as_bytes();
        let mut a = blobs.receive().await.unwrap();
        for byte in word {
            a.write(std::slice::from_ref(byte)).await.unwrap();
        }
        assert!(
            a.finish().await.unwrap().is_text,
            "split code points are text"
        );
        let mut b = blobs.receive().await.unwrap();
        b.write(b"plain text, then ").await.unwrap();
        b.write(&[0xC3, 0x28]).await.unwrap();
        assert!(!b.finish().await.unwrap().is_text, "invalid UTF-8 is not");
        let mut c = blobs.receive().await.unwrap();
        c.write("ends mid-character ż".as_bytes().split_last().unwrap().1)
            .await
            .unwrap();
        assert!(
            !c.finish().await.unwrap().is_text,
            "a cut last character is not"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn stored_files_and_their_folders_are_private_to_the_server() {
        use crate::private_files::mode;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("documents");
        let blobs = BlobStore::open(&root).unwrap();
        let mut a = blobs.receive().await.unwrap();
        a.write(b"%PDF-1.7 private").await.unwrap();
        let kept = blobs.keep(a.finish().await.unwrap()).await.unwrap();
        assert_eq!(mode(&kept).unwrap(), 0o600);
        assert_eq!(mode(kept.parent().unwrap()).unwrap(), 0o700);
        assert_eq!(mode(&root.join("tmp")).unwrap(), 0o700);
        assert_eq!(mode(&root).unwrap(), 0o700);
    }

    #[test]
    fn stale_partial_uploads_are_cleared_at_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let old = dir.path().join("tmp/old");
        let fresh = dir.path().join("tmp/fresh");
        std::fs::write(&old, b"x").unwrap();
        std::fs::write(&fresh, b"x").unwrap();
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        BlobStore::open(dir.path()).unwrap();
        assert!(!old.exists(), "a crashed upload's file is removed");
        assert!(fresh.exists(), "another process's upload in flight is kept");
    }
}
