//! The one content-hash format of the workspace's records (`xxh3-64:` and 16 hex
//! digits): config hashes in checkpoints, `run.json` and `experiment.json`, and corpus
//! checksums in split files.

/// The tag of a finished xxh3-64 digest.
pub fn hash_tag(digest: u64) -> String {
    format!("xxh3-64:{digest:016x}")
}

/// The tagged xxh3-64 hash of `bytes`.
pub fn content_hash(bytes: &[u8]) -> String {
    hash_tag(xxhash_rust::xxh3::xxh3_64(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_sixteen_hex_digits_of_xxh3() {
        assert_eq!(hash_tag(0xab), "xxh3-64:00000000000000ab");
        assert_eq!(content_hash(b""), hash_tag(0x2d06800538d394c2));
    }
}
