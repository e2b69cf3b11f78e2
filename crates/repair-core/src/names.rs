//! Names read from files (a `model` column, a patient id, a `Filename` field) that end
//! up in paths. Text from outside never chooses where a file is written or read: it
//! becomes a file name only through [`file_name_part`], and a relative path from a data
//! file is followed only when [`stays_inside`] says it cannot leave its folder.

use std::path::{Component, Path};

/// Whether `name` is one plain path component: non-empty, at most 100 bytes, only
/// ASCII letters, digits, `-`, `_` and `.`, and not starting with `.` (so neither `..`
/// nor a hidden file).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `name` as part of a file name: itself when [`is_plain_name`], otherwise its plain
/// characters (others become `_`, at most 40 of them) followed by `-` and a hash of the
/// whole name, so that two different names never share a file and none can escape the
/// folder it is joined to.
pub fn file_name_part(name: &str) -> String {
    if is_plain_name(name) {
        return name.to_string();
    }
    let plain: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = xxhash_rust::xxh3::xxh3_64(name.as_bytes());
    format!("{plain}-{:08x}", digest >> 32)
}

/// Whether the relative path `path`, joined to a folder, stays inside it: only normal
/// components and `.` (no `..`, no root, no drive prefix), at least one normal one.
pub fn stays_inside(path: &Path) -> bool {
    let mut normal = 0;
    for c in path.components() {
        match c {
            Component::Normal(_) => normal += 1,
            Component::CurDir => {}
            _ => return false,
        }
    }
    normal > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_kept_and_others_cannot_escape_or_collide() {
        for plain in ["gtsrb", "cnn-s", "vgg16_bn", "v1.2"] {
            assert!(is_plain_name(plain));
            assert_eq!(file_name_part(plain), plain);
        }
        for hostile in [
            "../../x", "..", ".", "", "a/b", "a\\b", "/etc", "x\0y", "名前",
        ] {
            assert!(!is_plain_name(hostile), "{hostile:?}");
            let part = file_name_part(hostile);
            assert!(is_plain_name(&part), "{hostile:?} → {part:?}");
        }
        assert_ne!(file_name_part("a/b"), file_name_part("a_b"));
        assert_ne!(file_name_part("a/b"), file_name_part("a\\b"));
        assert!(file_name_part(&"x/".repeat(500)).len() < 60);
    }

    #[test]
    fn only_downward_relative_paths_stay_inside() {
        for inside in ["00000_00000.ppm", "00000/00000_00000.ppm", "./a.ppm"] {
            assert!(stays_inside(Path::new(inside)), "{inside}");
        }
        for outside in ["../a.ppm", "a/../../b", "/etc/passwd", ""] {
            assert!(!stays_inside(Path::new(outside)), "{outside}");
        }
    }
}
