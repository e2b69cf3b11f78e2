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
    create_folder(&dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}{TEMPORARY_SUFFIX}", std::process::id()));
    let result = write(&tmp)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .and_then(|()| sync_folder(&dir));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// How a temporary of [`write_atomic`] ends: `.NAME.PID.tmp`.
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Whether `file_name` is a temporary of [`write_atomic`] (`.NAME.PID.tmp`), which only
/// a writer killed between writing and renaming leaves behind.
pub fn is_atomic_temporary(file_name: &str) -> bool {
    let Some(stem) = file_name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TEMPORARY_SUFFIX))
    else {
        return false;
    };
    match stem.rsplit_once('.') {
        Some((name, pid)) => {
            !name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Removes every temporary of [`write_atomic`] under `dir`, in all its subfolders, and
/// returns how many there were. Call it only while no other process writes there (an
/// experiment does, holding its folder lock exclusively): a live writer's temporary
/// would vanish under it.
pub fn remove_atomic_temporaries(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_file() && entry.file_name().to_str().is_some_and(is_atomic_temporary)
            {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// `create_dir_all`, but a file where a folder must be (an `--out` that names a file)
/// is said in words instead of the system's bare "File exists".
fn create_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        match dir.ancestors().find(|a| a.exists() && !a.is_dir()) {
            Some(file) => std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is a file, not a folder", file.display()),
            ),
            None => e,
        }
    })
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

    #[test]
    fn a_file_where_the_folder_should_be_is_named() {
        let dir = std::env::temp_dir().join(format!("repair-core-notdir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("out"), b"a file").unwrap();
        let e = write_atomic(&dir.join("out/run-1/split.json"), b"{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{} is a file, not a folder", dir.join("out").display())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_killed_writers_temporaries_are_found_and_removed_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("repair-core-stray-{}", std::process::id()));
        let keep = [
            "row.json",
            ".hidden",
            ".x.tmp",
            ".a.b.tmp",
            "a.123.tmp",
            ".experiment.lock",
        ];
        let stray = [".row.json.4242.tmp", "deep/er/.epoch-003.safetensors.7.tmp"];
        for name in keep.iter().chain(&stray) {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"x").unwrap();
        }
        assert!(is_atomic_temporary(".row.json.4242.tmp"));
        assert!(!is_atomic_temporary(".a.b.tmp") && !is_atomic_temporary("..1.tmp"));
        assert_eq!(remove_atomic_temporaries(&dir).unwrap(), 2);
        for name in keep {
            assert!(dir.join(name).is_file(), "{name} removed");
        }
        for name in stray {
            assert!(!dir.join(name).exists(), "{name} left");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
