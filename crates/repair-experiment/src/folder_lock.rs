//! One writer per experiment folder. Two `experiment` processes on one folder would
//! interleave their units and both write `repairs.csv`; a second one is refused, naming
//! the first one's PID and host.
//!
//! The locks are the operating system's advisory file locks (`flock`, through
//! `std::fs::File::try_lock`), so a holder killed with `kill -9` releases its lock with
//! its life and no stale lock file ever blocks a resume. Slurm shards of one experiment
//! write disjoint units and may run together: a whole run takes `.experiment.lock`
//! exclusively; a shard takes it shared, and its own `.experiment-shard-I-of-N.lock`
//! exclusively. So a whole run excludes everything, a shard excludes the same shard,
//! and shards run side by side. Each lock file holds its holder's PID and host, for the
//! message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::shard::Shard;
use repair_pipeline::{file_error, PipelineError, Result};

/// The lock every writer of the folder holds (exclusive: whole runs; shared: shards).
const FOLDER_LOCK: &str = ".experiment.lock";

/// Held while this process writes an experiment folder; released on drop or death.
#[derive(Debug)]
pub struct FolderLock {
    _folder: File,
    _shard: Option<File>,
}

impl FolderLock {
    /// Takes the folder `out` for this process's `shard`, or fails naming the process
    /// that holds it.
    pub fn acquire(out: &Path, shard: Shard) -> Result<FolderLock> {
        let folder_path = out.join(FOLDER_LOCK);
        let mut folder = open(&folder_path)?;
        let taken = if shard.is_whole() {
            folder.try_lock()
        } else {
            folder.try_lock_shared()
        };
        match taken {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(held(out, &folder_path, shard)),
            Err(TryLockError::Error(e)) => return Err(file_error(&folder_path, e)),
        }
        if shard.is_whole() {
            write_holder(&mut folder, &folder_path)?;
            return Ok(FolderLock {
                _folder: folder,
                _shard: None,
            });
        }
        let shard_path = out.join(shard_lock_name(shard));
        let mut own = open(&shard_path)?;
        match own.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(held(out, &shard_path, shard)),
            Err(TryLockError::Error(e)) => return Err(file_error(&shard_path, e)),
        }
        write_holder(&mut own, &shard_path)?;
        Ok(FolderLock {
            _folder: folder,
            _shard: Some(own),
        })
    }
}

fn shard_lock_name(shard: Shard) -> String {
    format!(
        ".experiment-shard-{}.lock",
        shard.to_string().replace('/', "-of-")
    )
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| file_error(path, e))
}

/// Writes "PID on HOST" into a lock file this process holds exclusively.
fn write_holder(file: &mut File, path: &Path) -> Result<()> {
    let text = format!("{} on {}\n", std::process::id(), host());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(text.as_bytes()))
        .map_err(|e| file_error(path, e))
}

/// The refusal: who holds `path`, and the holders of every shard lock beside it (a
/// whole run is also blocked by running shards, which share the folder lock).
fn held(out: &Path, path: &Path, shard: Shard) -> PipelineError {
    let mut holders: Vec<String> = Vec::new();
    let mut candidates: Vec<PathBuf> = vec![path.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(out) {
        let mut shards: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(".experiment-shard-"))
            })
            .collect();
        shards.sort();
        candidates.extend(shards);
    }
    for candidate in candidates {
        if is_locked(&candidate) {
            let mut text = String::new();
            if let Ok(mut f) = File::open(&candidate) {
                let _ = f.read_to_string(&mut text);
            }
            let who = text.trim();
            let who = if who.is_empty() { "a process" } else { who };
            holders.push(format!("PID {who} ({})", candidate.display()));
        }
    }
    if holders.is_empty() {
        holders.push(format!("a process ({})", path.display()));
    }
    let me = if shard.is_whole() {
        "this experiment".to_string()
    } else {
        format!("shard {shard}")
    };
    PipelineError::Invalid(format!(
        "{} is being written by another experiment process: {}; {me} would interleave with it. \
         Wait for it to end (or stop it), then run again: the run resumes",
        out.display(),
        holders.join(", ")
    ))
}

/// Whether some process holds a lock on `path` (probed with a shared try-lock, which
/// only an exclusive holder blocks; the folder lock's shared holders are listed by
/// their shard files).
fn is_locked(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
}

/// This machine's name, for the message (Linux: the kernel's hostname).
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(text: &str) -> Shard {
        text.parse().unwrap()
    }

    #[test]
    fn a_second_whole_run_is_refused_naming_the_holder_and_the_lock_dies_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path(), Shard::WHOLE).unwrap();
        let e = FolderLock::acquire(dir.path(), Shard::WHOLE)
            .unwrap_err()
            .to_string();
        let pid = std::process::id().to_string();
        assert!(
            e.contains("being written by another experiment process")
                && e.contains(&format!("PID {pid} on")),
            "{e}"
        );
        assert!(FolderLock::acquire(dir.path(), shard("1/2")).is_err());
        drop(first);
        FolderLock::acquire(dir.path(), Shard::WHOLE).unwrap();
    }

    #[test]
    fn shards_share_the_folder_but_not_a_shard_and_block_a_whole_run() {
        let dir = tempfile::tempdir().unwrap();
        let one = FolderLock::acquire(dir.path(), shard("1/2")).unwrap();
        let two = FolderLock::acquire(dir.path(), shard("2/2")).unwrap();
        let e = FolderLock::acquire(dir.path(), shard("2/2"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("shard 2/2 would interleave"), "{e}");
        let e = FolderLock::acquire(dir.path(), Shard::WHOLE)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(".experiment-shard-1-of-2.lock")
                && e.contains(".experiment-shard-2-of-2.lock"),
            "{e}"
        );
        drop((one, two));
        FolderLock::acquire(dir.path(), Shard::WHOLE).unwrap();
    }
}
