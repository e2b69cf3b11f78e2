//! The one atomic file writer of the workspace: a temporary file beside the target,
//! written, fsynced, renamed over the target, then the folder fsynced, so that neither
//! a crash nor a power loss leaves a half-written file that looks complete (the rename
//! is durable only once the directory entry is on disk).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically. Creates missing parent folders. The error is
/// the operating system's; callers name the file in their own error type.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |tmp| {
        let mut file = std::fs::File::create(tmp)?;
        file.write_all(bytes)
    })
}

/// Atomically replaces `path` with what `write` puts at the temporary path it is given
/// (for writers that only take a path, such as candle's safetensors `save`).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = folder_of(path);
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = write(&tmp)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .and_then(|()| sync_folder(&dir));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// fsync of a folder, so a rename inside it survives a power loss. Windows cannot open
/// a folder as a file; there the rename's own guarantees are all there is.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_is_left() {
        let dir = std::env::temp_dir().join(format!("repair-core-atomic-{}", std::process::id()));
        let path = dir.join("sub/result.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let left: Vec<_> = std::fs::read_dir(dir.join("sub")).unwrap().collect();
        assert_eq!(left.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_writer_leaves_the_old_file_and_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("repair-core-failed-{}", std::process::id()));
        let path = dir.join("result.csv");
        write_atomic(&path, b"kept").unwrap();
        let err = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
