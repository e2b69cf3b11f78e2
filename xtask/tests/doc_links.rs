//! Every relative link in README.md, ARCHITECTURE.md and docs/ leads to a file or folder
//! of the repository, so that moving a page cannot leave a newcomer at a dead link.

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Markdown pages a reader is sent to.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut folders = vec![root.join("docs")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages
}

/// The targets of the inline links `[text](target)` of a page, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    targets
}

/// A target that names a place in this repository (not a web page or an anchor).
fn is_relative(target: &str) -> bool {
    !(target.is_empty()
        || target.starts_with('#')
        || target.contains("://")
        || target.starts_with("mailto:"))
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let root = repository();
    let pages = pages(&root);
    assert!(pages.len() > 5, "docs/ has its pages: {pages:?}");
    let mut dead = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for target in link_targets(&text).into_iter().filter(|t| is_relative(t)) {
            let path = target.split('#').next().unwrap();
            checked += 1;
            if !page.parent().unwrap().join(path).exists() {
                dead.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(checked > 10, "only {checked} links found");
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn a_link_to_a_missing_page_is_found() {
    let targets = link_targets("see [a](docs/a.md#x) and [b](https://b.org)\n```\n[c](c.md)\n```");
    assert_eq!(targets, ["docs/a.md#x", "https://b.org"]);
    assert!(is_relative("docs/a.md#x") && !is_relative("https://b.org") && !is_relative("#top"));
}

#[test]
fn the_readme_stays_short() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: move details to docs/"
    );
}
