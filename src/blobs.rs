//! Uploaded files on the local filesystem, stored once per content hash
//! (`<dir>/<first two hex digits>/<sha256>`). An upload streams into a
//! temporary file while it is hashed and measured, and is moved into place
//! only when complete, so a half-received file is never visible.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::agent::sniff::SNIFF_BYTES;

#[derive(Clone, Debug)]
pub struct BlobStore {
    dir: PathBuf,
}

/// A file being received.
pub struct Incoming {
    file: tokio::fs::File,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    /// The first bytes, for sniffing the type.
    pub head: Vec<u8>,
}

/// A received file, not yet moved into place.
#[derive(Debug)]
pub struct Received {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
}

impl BlobStore {
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir.join("tmp"))?;
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
        let file = tokio::fs::File::create(&path).await?;
        Ok(Incoming {
            file,
            path,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
        })
    }

    /// Moves a received file to its place (a file with the same hash is kept).
    pub async fn keep(&self, received: &Received) -> io::Result<PathBuf> {
        let target = self.path(&received.sha256);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(&received.path).await?;
        } else {
            tokio::fs::create_dir_all(target.parent().expect("blob paths have a parent")).await?;
            tokio::fs::rename(&received.path, &target).await?;
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
            path: self.path,
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            head: self.head,
        })
    }

    /// Gives up on the file (too large, wrong type, client gone).
    pub async fn discard(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

impl Received {
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let kept = blobs.keep(&a).await.unwrap();
        let mut b = blobs.receive().await.unwrap();
        b.write(b"%PDF-1.7 hello world").await.unwrap();
        let b = b.finish().await.unwrap();
        assert_eq!(blobs.keep(&b).await.unwrap(), kept);
        assert_eq!(
            blobs.read(&a.sha256).await.unwrap(),
            b"%PDF-1.7 hello world"
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0,
            "no temporary files left"
        );
    }
}
