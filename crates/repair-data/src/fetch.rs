//! Fetching a dataset's official archives: download them (through a [`Downloader`]: the
//! command line's runs `curl`, so the library pays for no HTTP or TLS stack), verify
//! their published MD5, unpack them into a staging folder and move the result into
//! place only when everything succeeded. On any failure the staging folder is removed, so nothing
//! half-written is left looking complete. The result is the official layout (for GTSRB
//! the PPM folders), which [`crate::import_gtsrb_official`] packs.

use std::fs;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use repair_core::Progress;

use crate::error::{DataError, Result};
use crate::manifest::Manifest;

/// Fetches one URL into a file.
pub trait Downloader {
    /// Writes what `url` holds to `to`, or says in one line why it could not.
    fn download(&self, url: &str, to: &Path) -> std::result::Result<(), DownloadError>;
}

/// Why a download failed, in one line (the network, the server, the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DownloadError(pub String);

/// The archives of a local mirror: copies `file://` URLs and refuses every other one
/// (as an unreachable server would), so that a machine without a network, and the
/// tests, fetch from files.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileUrls;

impl Downloader for FileUrls {
    fn download(&self, url: &str, to: &Path) -> std::result::Result<(), DownloadError> {
        let path = url
            .strip_prefix("file://")
            .ok_or_else(|| DownloadError(format!("{url}: not a file:// URL of a local mirror")))?;
        fs::copy(path, to)
            .map(drop)
            .map_err(|e| DownloadError(format!("{path}: {e}")))
    }
}

/// Downloads (with `downloader`) and unpacks every archive of `manifest` into `out`.
/// `progress` sees one stage of as many steps as there are archives, each step with the
/// archive's name.
pub fn fetch_official(
    manifest: &Manifest,
    out: &Path,
    downloader: &dyn Downloader,
    progress: &dyn Progress,
) -> Result<()> {
    if manifest.archives.is_empty() {
        return Err(DataError::invalid(
            format!("datasets/{}.toml", manifest.name),
            "lists no downloadable archive; get the data as its README explains",
        ));
    }
    let out_existed = out.exists();
    let staging = out.join(format!(".fetch-{}.partial", manifest.name));
    let result = fetch_into(manifest, &staging, downloader, progress)
        .and_then(|()| move_into_place(&staging, out));
    let _ = fs::remove_dir_all(&staging);
    if result.is_err() && !out_existed {
        // Only removes the folder we created, and only while it is empty.
        let _ = fs::remove_dir(out);
    }
    result
}

fn fetch_into(
    manifest: &Manifest,
    staging: &Path,
    downloader: &dyn Downloader,
    progress: &dyn Progress,
) -> Result<()> {
    let unpacked = staging.join("unpacked");
    fs::create_dir_all(&unpacked).map_err(|e| DataError::io(&unpacked, e))?;
    progress.begin(
        &format!("fetch {}", manifest.name),
        manifest.archives.len() as u64,
    );
    for archive in &manifest.archives {
        // The archive's own name, never a path from the URL.
        let name = archive_name(&archive.url);
        let file = staging.join(&name);
        downloader
            .download(&archive.url, &file)
            .map_err(|e| DataError::Download {
                url: archive.url.clone(),
                problem: format!(
                    "{e}; the network may be unreachable from this machine, and nothing was written"
                ),
            })?;
        if let Some(expected) = &archive.md5 {
            let found = md5_file(&file)?;
            if &found != expected {
                return Err(DataError::invalid(
                    &archive.url,
                    format!("has MD5 {found}, but {expected} was published; not unpacking it"),
                ));
            }
        }
        unzip(&file, &unpacked)?;
        fs::remove_file(&file).ok();
        progress.advance(1, Some(&name));
    }
    progress.end();
    Ok(())
}

/// The last segment of a URL, with anything but letters, digits, `.`, `-` and `_`
/// replaced, so that a URL in a manifest cannot name a file outside the staging folder.
fn archive_name(url: &str) -> String {
    let last = url.rsplit('/').next().unwrap_or("");
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("archive{name}")
    } else {
        name
    }
}

fn md5_file(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| DataError::io(path, e))?;
    Ok(Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn unzip(archive: &Path, into: &Path) -> Result<()> {
    let file = fs::File::open(archive).map_err(|e| DataError::io(archive, e))?;
    // `extract` refuses entries that would land outside `into` (zip-slip).
    zip::ZipArchive::new(file)
        .and_then(|mut z| z.extract(into))
        .map_err(|e| DataError::invalid(archive, format!("not a readable zip archive: {e}")))
}

/// The official zips unpack to `GTSRB/Final_Training`, `GTSRB/Final_Test` and a bare
/// `GT-final_test.csv`; the last goes to `GTSRB/Final_Test/`, where our loader looks
/// first. Then each top-level entry is renamed into `out`.
fn move_into_place(staging: &Path, out: &Path) -> Result<()> {
    let unpacked = staging.join("unpacked");
    let loose_gt = unpacked.join("GT-final_test.csv");
    let test_dir = unpacked.join("GTSRB").join("Final_Test");
    if loose_gt.is_file() && test_dir.is_dir() {
        let target = test_dir.join("GT-final_test.csv");
        fs::rename(&loose_gt, &target).map_err(|e| DataError::io(&target, e))?;
    }
    let entries = fs::read_dir(&unpacked).map_err(|e| DataError::io(&unpacked, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(&unpacked, e))?;
        let target: PathBuf = out.join(entry.file_name());
        if target.exists() {
            return Err(DataError::invalid(
                &target,
                "already exists; remove it or fetch into another folder",
            ));
        }
        fs::rename(entry.path(), &target).map_err(|e| DataError::io(&target, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn manifest_with(urls: &[(String, Option<String>)]) -> Manifest {
        let mut m = Manifest::builtin("gtsrb").unwrap();
        m.archives = urls
            .iter()
            .map(|(url, md5)| crate::Archive {
                url: url.clone(),
                md5: md5.clone(),
                sha256: None,
            })
            .collect();
        m
    }

    #[test]
    fn an_archive_name_from_a_url_never_leaves_the_staging_folder() {
        assert_eq!(
            archive_name("https://x/a/GTSRB_Final_Test_GT.zip"),
            "GTSRB_Final_Test_GT.zip"
        );
        assert_eq!(archive_name("https://x/a/.."), "archive..");
        assert_eq!(archive_name("https://x/"), "archive");
        assert_eq!(archive_name("file:///tmp/a\\..\\b.zip"), "a_.._b.zip");
    }

    #[test]
    fn an_unreachable_server_fails_in_one_sentence_and_leaves_nothing() {
        let out = tempfile::tempdir().unwrap();
        let m = manifest_with(&[(
            "http://127.0.0.1:9/GTSRB_Final_Training_Images.zip".into(),
            None,
        )]);
        let err = fetch_official(&m, out.path(), &FileUrls, &repair_core::NoProgress)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("could not download http://127.0.0.1:9/"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one sentence: {err}");
        assert_eq!(
            fs::read_dir(out.path()).unwrap().count(),
            0,
            "nothing left behind"
        );
    }

    fn zip_with(path: &Path, files: &[(&str, &[u8])]) -> String {
        let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
        for (name, bytes) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
        md5_file(path).unwrap()
    }

    #[test]
    fn archives_are_verified_unpacked_and_moved_into_place() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let ppm: &[u8] = b"P6\n1 1\n255\n\x01\x02\x03";
        let header = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\r\n";
        let train_csv = format!("{header}00000_00000.ppm;1;1;0;0;1;1;0\r\n");
        let test_csv = format!("{header}00000.ppm;1;1;0;0;1;1;5\r\n");
        let train = src.path().join("train.zip");
        let test = src.path().join("test.zip");
        let gt = src.path().join("gt.zip");
        let md5_train = zip_with(
            &train,
            &[
                (
                    "GTSRB/Final_Training/Images/00000/GT-00000.csv",
                    train_csv.as_bytes(),
                ),
                ("GTSRB/Final_Training/Images/00000/00000_00000.ppm", ppm),
            ],
        );
        let md5_test = zip_with(&test, &[("GTSRB/Final_Test/Images/00000.ppm", ppm)]);
        let _ = zip_with(&gt, &[("GT-final_test.csv", test_csv.as_bytes())]);
        let url = |p: &Path| format!("file://{}", p.display());
        let m = manifest_with(&[
            (url(&train), Some(md5_train)),
            (url(&test), Some(md5_test)),
            (url(&gt), None),
        ]);
        fetch_official(&m, out.path(), &FileUrls, &repair_core::NoProgress).unwrap();
        let corpus = crate::load_gtsrb_official(out.path(), &crate::Preprocess::none()).unwrap();
        assert_eq!(corpus.images().pixels(), &[1, 2, 3, 1, 2, 3]);
        assert_eq!(corpus.images().raw_labels(), &[0, 5]);
        let names: Vec<_> = fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["GTSRB"], "no staging folder left");
    }

    #[test]
    fn a_wrong_checksum_is_refused_and_nothing_is_left() {
        let src = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let a = src.path().join("a.zip");
        zip_with(&a, &[("GTSRB/x.txt", b"x")]);
        let m = manifest_with(&[(format!("file://{}", a.display()), Some("0".repeat(32)))]);
        let err = fetch_official(&m, out.path(), &FileUrls, &repair_core::NoProgress)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has MD5") && err.contains("not unpacking"),
            "{err}"
        );
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
