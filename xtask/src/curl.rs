//! The command line's downloader for `xtask data fetch`: `curl`, a process of the
//! program rather than an HTTP and TLS stack in the data library; `file://` URLs (a
//! local mirror) are copied without it.

use std::path::Path;
use std::process::Command;

use repair_data::{DownloadError, Downloader, FileUrls};

/// `curl --fail --silent --show-error --location`.
pub struct Curl;

impl Downloader for Curl {
    fn download(&self, url: &str, to: &Path) -> Result<(), DownloadError> {
        if url.starts_with("file://") {
            return FileUrls.download(url, to);
        }
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
            .map_err(|e| {
                DownloadError(format!(
                    "could not run curl, which data fetch uses to download: {e}"
                ))
            })?;
        if output.status.success() {
            return Ok(());
        }
        let why = String::from_utf8_lossy(&output.stderr);
        Err(DownloadError(
            why.trim().trim_start_matches("curl: ").replace('\n', " "),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_server_is_one_line_naming_why() {
        let dir = tempfile::tempdir().unwrap();
        // Port 9 (discard) on loopback: connection refused, no network needed.
        let e = Curl
            .download("http://127.0.0.1:9/a.zip", &dir.path().join("a.zip"))
            .unwrap_err()
            .to_string();
        assert!(!e.is_empty() && !e.contains('\n'), "{e}");
        assert!(e.contains("127.0.0.1") || e.contains("onnect"), "{e}");
    }
}
