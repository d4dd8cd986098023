//! The [`BlobStore`] port — where the bytes of files live, addressed by their SHA-256 — and
//! [`LocalBlobStore`], its implementation on a local directory.
//!
//! A blob is written to a private place first and published under its hash only when complete
//! and flushed to disk, so a crash mid-upload leaves at most an unpublished partial that nothing
//! refers to. Because the same content can be uploaded again while the sweep is removing it, a
//! publish keeps a private copy until the file's record is committed ([`PendingBlob::settle`]),
//! and the sweep moves a blob out of reach before it checks that nothing uses it
//! ([`BlobStore::retire`]); whichever of the two comes second puts the content back.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncWriteExt};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stored content, ready to read.
pub struct BlobReader {
    pub size: u64,
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
}

/// Where file contents live. Contents are named by their lowercase hex SHA-256.
pub trait BlobStore: Send + Sync {
    /// Starts a new blob.
    fn create(&self) -> BoxFuture<'_, io::Result<Box<dyn BlobWriter>>>;
    /// The content published under `sha256` (`NotFound` if there is none).
    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<BlobReader>>;
    /// Contents published at least `age` ago: the candidates of a sweep.
    fn published_before(&self, age: Duration) -> BoxFuture<'_, io::Result<Vec<String>>>;
    /// Takes a content out of reach (`None` if it is not there), to be restored or purged once
    /// the caller knows whether anything uses it.
    fn retire<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<Option<Box<dyn RetiredBlob>>>>;
    /// Removes partial blobs older than `age` (an upload cut off by a crash) and restores
    /// contents a crashed sweep left retired. Returns how many partials it removed.
    fn tidy(&self, age: Duration) -> BoxFuture<'_, io::Result<u64>>;
}

/// A blob being written. Dropped before [`BlobWriter::publish`], it leaves nothing behind.
pub trait BlobWriter: Send {
    fn write<'a>(&'a mut self, chunk: &'a [u8]) -> BoxFuture<'a, io::Result<()>>;
    /// Makes the bytes readable under `sha256`, which the caller computed over exactly the bytes
    /// it wrote. The result must be settled once the record naming it is committed, or abandoned.
    fn publish(self: Box<Self>, sha256: String) -> BoxFuture<'static, io::Result<Box<dyn PendingBlob>>>;
}

/// A published content whose record is not committed yet.
pub trait PendingBlob: Send {
    /// The record is committed: make sure the content is still published (a sweep may have
    /// retired it meanwhile) and drop the private copy.
    fn settle(self: Box<Self>) -> BoxFuture<'static, io::Result<()>>;
    /// No record was written: drop the private copy (the published content, unused, goes with a
    /// later sweep).
    fn abandon(self: Box<Self>) -> BoxFuture<'static, io::Result<()>>;
}

/// A content taken out of reach by [`BlobStore::retire`].
pub trait RetiredBlob: Send {
    fn restore(self: Box<Self>) -> BoxFuture<'static, io::Result<()>>;
    fn purge(self: Box<Self>) -> BoxFuture<'static, io::Result<()>>;
}

/// Contents in a local directory: `<root>/ab/cd/<sha256>`, partial uploads in `<root>/tmp`,
/// retired contents in `<root>/trash`. Several instances may share the directory (a network
/// file system): every step is a rename or a hard link, which are atomic.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

fn valid_sha(sha256: &str) -> io::Result<()> {
    if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256 in lowercase hex"))
    }
}

fn unique() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Makes a directory entry (a new name, a rename) durable.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

fn older_than(meta: &std::fs::Metadata, age: Duration) -> bool {
    let cutoff = SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
    meta.modified().map(|m| m <= cutoff).unwrap_or(false)
}

async fn entries(dir: &Path) -> io::Result<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    let mut rd = match tokio::fs::read_dir(dir).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    while let Some(e) = rd.next_entry().await? {
        let meta = e.metadata().await?;
        out.push((e.path(), meta));
    }
    Ok(out)
}

impl LocalBlobStore {
    /// Opens (creating if needed) the directory.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for sub in ["tmp", "trash"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[0..2]).join(&sha256[2..4]).join(sha256)
    }

    async fn publish_at(final_path: &Path, private: &Path) -> io::Result<()> {
        let dir = final_path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await?;
        match tokio::fs::hard_link(private, final_path).await {
            Ok(()) => {}
            // Same name, same content: already there.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            // A file system without hard links: a copy, renamed into place.
            Err(_) => {
                let copy = dir.join(format!(".{}.copy", unique()));
                tokio::fs::copy(private, &copy).await?;
                tokio::fs::File::open(&copy).await?.sync_all().await?;
                tokio::fs::rename(&copy, final_path).await?;
            }
        }
        sync_dir(dir).await
    }
}

impl BlobStore for LocalBlobStore {
    fn create(&self) -> BoxFuture<'_, io::Result<Box<dyn BlobWriter>>> {
        Box::pin(async move {
            let path = self.root.join("tmp").join(format!("{}.part", unique()));
            let file = tokio::fs::File::create_new(&path).await?;
            Ok(Box::new(LocalWriter { root: self.clone(), path, file: Some(file) }) as Box<dyn BlobWriter>)
        })
    }

    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<BlobReader>> {
        Box::pin(async move {
            valid_sha(sha256)?;
            let file = tokio::fs::File::open(self.path_of(sha256)).await?;
            let size = file.metadata().await?.len();
            Ok(BlobReader { size, reader: Box::pin(file) })
        })
    }

    fn published_before(&self, age: Duration) -> BoxFuture<'_, io::Result<Vec<String>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for (a, meta_a) in entries(&self.root).await? {
                let name = a.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if !meta_a.is_dir() || name.len() != 2 || name == "tmp" {
                    continue;
                }
                for (b, meta_b) in entries(&a).await? {
                    if !meta_b.is_dir() {
                        continue;
                    }
                    for (blob, meta) in entries(&b).await? {
                        let sha = blob.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                        if meta.is_file() && valid_sha(sha).is_ok() && older_than(&meta, age) {
                            out.push(sha.to_string());
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    fn retire<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<Option<Box<dyn RetiredBlob>>>> {
        Box::pin(async move {
            valid_sha(sha256)?;
            let from = self.path_of(sha256);
            let to = self.root.join("trash").join(format!("{sha256}.{}", unique()));
            match tokio::fs::rename(&from, &to).await {
                Ok(()) => Ok(Some(Box::new(LocalRetired { home: from, at: to }) as Box<dyn RetiredBlob>)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn tidy(&self, age: Duration) -> BoxFuture<'_, io::Result<u64>> {
        Box::pin(async move {
            let mut removed = 0;
            for (path, meta) in entries(&self.root.join("tmp")).await? {
                if meta.is_file() && older_than(&meta, age) {
                    match tokio::fs::remove_file(&path).await {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            // A sweep that died between retiring and deciding: put the content back; the next
            // sweep decides again.
            for (path, meta) in entries(&self.root.join("trash")).await? {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let sha = name.split('.').next().unwrap_or_default();
                if meta.is_file() && valid_sha(sha).is_ok() && older_than(&meta, age) {
                    let home = self.path_of(sha);
                    if let Some(dir) = home.parent() {
                        tokio::fs::create_dir_all(dir).await?;
                    }
                    tokio::fs::rename(&path, &home).await?;
                }
            }
            Ok(removed)
        })
    }
}

struct LocalWriter {
    root: LocalBlobStore,
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl BlobWriter for LocalWriter {
    fn write<'a>(&'a mut self, chunk: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            match self.file.as_mut() {
                Some(f) => f.write_all(chunk).await,
                None => Err(io::Error::other("the blob is already published")),
            }
        })
    }

    fn publish(mut self: Box<Self>, sha256: String) -> BoxFuture<'static, io::Result<Box<dyn PendingBlob>>> {
        Box::pin(async move {
            valid_sha(&sha256)?;
            let mut file = self.file.take().ok_or_else(|| io::Error::other("the blob is already published"))?;
            file.flush().await?;
            file.sync_all().await?;
            drop(file);
            let final_path = self.root.path_of(&sha256);
            LocalBlobStore::publish_at(&final_path, &self.path).await?;
            // From here on the private copy belongs to the pending blob, not to this writer.
            let private = std::mem::take(&mut self.path);
            Ok(Box::new(LocalPending { final_path, private }) as Box<dyn PendingBlob>)
        })
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        // An upload cut off or refused: its partial file goes now (or with `tidy` if this fails).
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

struct LocalPending {
    final_path: PathBuf,
    private: PathBuf,
}

impl PendingBlob for LocalPending {
    fn settle(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async move {
            if tokio::fs::try_exists(&self.final_path).await? {
                return tokio::fs::remove_file(&self.private).await;
            }
            // A sweep retired the content between publish and commit: ours goes back.
            let dir = self.final_path.parent().unwrap_or(Path::new("."));
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::rename(&self.private, &self.final_path).await?;
            sync_dir(dir).await
        })
    }

    fn abandon(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async move { tokio::fs::remove_file(&self.private).await })
    }
}

struct LocalRetired {
    home: PathBuf,
    at: PathBuf,
}

impl RetiredBlob for LocalRetired {
    fn restore(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        // Another upload may have published the same content meanwhile; the same bytes either way.
        Box::pin(async move { tokio::fs::rename(&self.at, &self.home).await })
    }

    fn purge(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async move { tokio::fs::remove_file(&self.at).await })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sha2::{Digest, Sha256};
    use tokio::io::AsyncReadExt;

    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    async fn read(store: &LocalBlobStore, sha256: &str) -> io::Result<Vec<u8>> {
        let mut blob = store.open(sha256).await?;
        let mut out = Vec::new();
        blob.reader.read_to_end(&mut out).await?;
        assert_eq!(blob.size, out.len() as u64);
        Ok(out)
    }

    async fn pending(store: &LocalBlobStore, bytes: &[u8]) -> Box<dyn PendingBlob> {
        let mut w = store.create().await.unwrap();
        for chunk in bytes.chunks(3) {
            w.write(chunk).await.unwrap();
        }
        w.publish(sha(bytes)).await.unwrap()
    }

    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[tokio::test]
    async fn a_published_and_settled_blob_reads_back_and_leaves_no_private_copy() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        pending(&store, b"hello blob").await.settle().await.unwrap();
        assert_eq!(read(&store, &sha(b"hello blob")).await.unwrap(), b"hello blob");
        assert_eq!(count(&dir.path().join("tmp")), 0);
        // The same content again is one blob.
        pending(&store, b"hello blob").await.settle().await.unwrap();
        assert_eq!(store.published_before(Duration::ZERO).await.unwrap(), vec![sha(b"hello blob")]);
    }

    #[tokio::test]
    async fn an_unpublished_or_abandoned_blob_leaves_nothing_readable() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let mut w = store.create().await.unwrap();
        w.write(b"half of it").await.unwrap();
        drop(w);
        assert_eq!(count(&dir.path().join("tmp")), 0, "a dropped writer removes its partial");
        assert!(store.published_before(Duration::ZERO).await.unwrap().is_empty());
        pending(&store, b"refused").await.abandon().await.unwrap();
        assert_eq!(count(&dir.path().join("tmp")), 0);
        assert!(read(&store, "not a hash").await.is_err());
    }

    #[tokio::test]
    async fn a_sweep_that_retires_content_between_publish_and_settle_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let p = pending(&store, b"raced").await;
        // The sweep found no record yet and removes the content …
        store.retire(&sha(b"raced")).await.unwrap().unwrap().purge().await.unwrap();
        assert!(read(&store, &sha(b"raced")).await.is_err());
        // … then the record commits and the upload settles: the content is back.
        p.settle().await.unwrap();
        assert_eq!(read(&store, &sha(b"raced")).await.unwrap(), b"raced");

        // Retired and restored: readable again; retiring what is not there is nothing.
        let r = store.retire(&sha(b"raced")).await.unwrap().unwrap();
        r.restore().await.unwrap();
        assert_eq!(read(&store, &sha(b"raced")).await.unwrap(), b"raced");
        assert!(store.retire(&sha(b"never stored")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn tidy_removes_old_partials_and_puts_back_what_a_crashed_sweep_retired() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        pending(&store, b"kept").await.settle().await.unwrap();
        let retired = store.retire(&sha(b"kept")).await.unwrap().unwrap();
        std::mem::forget(retired); // the sweep died here
        std::fs::write(dir.path().join("tmp").join("old.part"), b"partial").unwrap();
        assert_eq!(store.tidy(Duration::from_secs(3600)).await.unwrap(), 0, "young files are left alone");
        assert_eq!(store.tidy(Duration::ZERO).await.unwrap(), 1);
        assert_eq!(read(&store, &sha(b"kept")).await.unwrap(), b"kept");
        assert_eq!(count(&dir.path().join("trash")), 0);
    }
}
