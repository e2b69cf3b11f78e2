//! `cargo xtask data fetch`: download the official archives with `curl`, verify their
//! published MD5, unpack them into a staging folder and move the result into place only
//! when everything succeeded. On any failure the staging folder is removed, so nothing
//! half-written is left looking complete.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use md5::{Digest, Md5};
use repair_data::Manifest;

/// Downloads and unpacks every archive of `manifest` into `out`.
pub fn fetch(manifest: &Manifest, out: &Path) -> anyhow::Result<()> {
    if manifest.archives.is_empty() {
        bail!(
            "datasets/{}.toml lists no downloadable archive; get the data as its README explains",
            manifest.name
        );
    }
    let out_existed = out.exists();
    let staging = out.join(format!(".fetch-{}.partial", manifest.name));
    let result = fetch_into(manifest, &staging).and_then(|()| move_into_place(&staging, out));
    let _ = fs::remove_dir_all(&staging);
    if result.is_err() && !out_existed {
        // Only removes the folder we created, and only while it is empty.
        let _ = fs::remove_dir(out);
    }
    result
}

fn fetch_into(manifest: &Manifest, staging: &Path) -> anyhow::Result<()> {
    let unpacked = staging.join("unpacked");
    fs::create_dir_all(&unpacked).with_context(|| format!("creating {}", unpacked.display()))?;
    let bar = indicatif::ProgressBar::new(manifest.archives.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template"),
    );
    bar.set_prefix(format!("fetch {}", manifest.name));
    for archive in &manifest.archives {
        let name = archive.url.rsplit('/').next().unwrap_or("archive.zip");
        bar.set_message(name.to_string());
        let file = staging.join(name);
        download(&archive.url, &file)?;
        if let Some(expected) = &archive.md5 {
            let found = md5_file(&file)?;
            if &found != expected {
                bail!(
                    "{} has MD5 {found}, but {expected} was published; not unpacking it",
                    archive.url
                );
            }
        }
        unzip(&file, &unpacked)?;
        fs::remove_file(&file).ok();
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

/// `curl -fsSL`; any failure becomes one sentence naming the URL.
fn download(url: &str, to: &Path) -> anyhow::Result<()> {
    let output = Command::new("curl")
        .args([
            "--fail",
            "--silent",
            "--show-error",
            "--location",
            "--connect-timeout",
            "20",
            "--output",
        ])
        .arg(to)
        .arg(url)
        .output()
        .context("could not run curl, which data fetch uses to download")?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        let why = why.trim().trim_start_matches("curl: ").replace('\n', " ");
        bail!(
            "could not download {url}: {why}; the network may be unreachable from this machine, and nothing was written"
        );
    }
    Ok(())
}

fn md5_file(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn unzip(archive: &Path, into: &Path) -> anyhow::Result<()> {
    let file = fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    zip::ZipArchive::new(file)
        .and_then(|mut z| z.extract(into))
        .with_context(|| format!("{} is not a readable zip archive", archive.display()))
}

/// The official zips unpack to `GTSRB/Final_Training`, `GTSRB/Final_Test` and a bare
/// `GT-final_test.csv`; the last goes to `GTSRB/Final_Test/`, where our loader looks
/// first. Then each top-level entry is renamed into `out`.
fn move_into_place(staging: &Path, out: &Path) -> anyhow::Result<()> {
    let unpacked = staging.join("unpacked");
    let loose_gt = unpacked.join("GT-final_test.csv");
    let test_dir = unpacked.join("GTSRB").join("Final_Test");
    if loose_gt.is_file() && test_dir.is_dir() {
        fs::rename(&loose_gt, test_dir.join("GT-final_test.csv"))?;
    }
    for entry in fs::read_dir(&unpacked)? {
        let entry = entry?;
        let target: PathBuf = out.join(entry.file_name());
        if target.exists() {
            bail!(
                "{} already exists; remove it or fetch into another folder",
                target.display()
            );
        }
        fs::rename(entry.path(), &target)
            .with_context(|| format!("moving {} into place", target.display()))?;
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
            .map(|(url, md5)| repair_data::Archive {
                url: url.clone(),
                md5: md5.clone(),
                sha256: None,
            })
            .collect();
        m
    }

    #[test]
    fn an_unreachable_server_fails_in_one_sentence_and_leaves_nothing() {
        let out = tempfile::tempdir().unwrap();
        // Port 9 (discard) on loopback: connection refused, no network needed.
        let m = manifest_with(&[(
            "http://127.0.0.1:9/GTSRB_Final_Training_Images.zip".into(),
            None,
        )]);
        let err = fetch(&m, out.path()).unwrap_err().to_string();
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
        fetch(&m, out.path()).unwrap();
        let corpus =
            repair_data::load_gtsrb_official(out.path(), &repair_data::Preprocess::none()).unwrap();
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
        let err = fetch(&m, out.path()).unwrap_err().to_string();
        assert!(
            err.contains("has MD5") && err.contains("not unpacking"),
            "{err}"
        );
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
