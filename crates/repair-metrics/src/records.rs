//! Tidy CSV records: one struct per concept, written flat.
//!
//! A row that is a key beside a value (a unit's per-class accuracies keyed by run and
//! checkpoint; a pattern keyed by run, class and α) is one struct made of parts, and
//! [`csv_record!`](crate::csv_record) writes the parts' columns side by side. The `csv`
//! crate writes a tuple of structs as one record with both headers, but it cannot write a
//! struct inside a struct or `#[serde(flatten)]` (a map); and reading a flattened struct
//! makes the crate guess each field's type, so a model named `7` would not read back as a
//! name. So a record is written as the tuple of its parts and read back by position, after
//! [`from_csv`] has checked that the file's header is the one the type writes.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::MetricsError;

/// Implements `Serialize` and `Deserialize` for a struct made of parts, each a struct of
/// scalars, as the tuple of its parts: one flat CSV record, the parts' columns in field
/// order. Read such a record with [`from_csv`] (by position).
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Key { run: usize, model: String }
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Score { acc: Option<f64> }
/// #[derive(Debug, PartialEq)]
/// struct Row { key: Key, score: Score }
/// repair_metrics::csv_record!(Row { key: Key, score: Score });
///
/// let rows = [Row { key: Key { run: 1, model: "7".into() }, score: Score { acc: None } }];
/// let bytes = repair_metrics::to_csv(&rows).unwrap();
/// assert_eq!(bytes, b"run,model,acc\n1,7,\n");
/// assert_eq!(repair_metrics::from_csv::<Row>(&bytes[..]).unwrap(), rows);
/// ```
#[macro_export]
macro_rules! csv_record {
    ($record:ident { $($part:ident : $ty:ty),+ $(,)? }) => {
        impl $crate::__serde::Serialize for $record {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                $crate::__serde::Serialize::serialize(&($(&self.$part,)+), serializer)
            }
        }
        impl<'de> $crate::__serde::Deserialize<'de> for $record {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let ($($part,)+) =
                    <($($ty,)+) as $crate::__serde::Deserialize>::deserialize(deserializer)?;
                Ok($record { $($part),+ })
            }
        }
    };
}

/// Serialises rows as CSV (header from the field names).
pub fn to_csv<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, MetricsError> {
    let fail = |e: csv::Error| MetricsError::Csv(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(fail)?;
    }
    w.into_inner().map_err(|e| MetricsError::Csv(e.to_string()))
}

/// Reads rows that [`to_csv`] wrote, field by field in order, after checking that the
/// file's header is the one `T` writes: a renamed, missing or reordered column is an
/// error, not a value read into the wrong field. The error names the data row.
pub fn from_csv<T: Serialize + DeserializeOwned>(
    reader: impl std::io::Read,
) -> Result<Vec<T>, MetricsError> {
    let fail = |e: String| MetricsError::Csv(e);
    let mut reader = csv::Reader::from_reader(reader);
    let header = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let mut rows = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(format!("data row {}: {e}", k + 1)))?;
        let row: T = record
            .deserialize(None)
            .map_err(|e| fail(format!("data row {}{}: {e}", k + 1, column_of(&e, &header))))?;
        if k == 0 {
            let expected = header_of(&row)?;
            if expected != header {
                return Err(fail(format!(
                    "the header is `{}`, expected `{}`",
                    join(&header),
                    join(&expected)
                )));
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// ", column `name`" of the field a deserialisation error is at, from the file's header.
pub(crate) fn column_of(e: &csv::Error, header: &csv::StringRecord) -> String {
    let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
        return String::new();
    };
    err.field()
        .and_then(|i| header.get(i as usize))
        .map_or_else(String::new, |name| format!(", column `{name}`"))
}

/// The header `to_csv` writes for `row`'s type.
fn header_of<T: Serialize>(row: &T) -> Result<csv::StringRecord, MetricsError> {
    let bytes = to_csv(std::slice::from_ref(row))?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    reader
        .headers()
        .cloned()
        .map_err(|e| MetricsError::Csv(e.to_string()))
}

fn join(record: &csv::StringRecord) -> String {
    record.iter().collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Key {
        name: String,
        seed: u64,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    enum Kind {
        Early,
        Late,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Value {
        kind: Kind,
        score: Option<f64>,
        flag: bool,
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Row {
        key: Key,
        value: Value,
    }
    crate::csv_record!(Row {
        key: Key,
        value: Value
    });

    fn row(name: &str, score: Option<f64>) -> Row {
        Row {
            key: Key {
                name: name.into(),
                seed: u64::MAX,
            },
            value: Value {
                kind: Kind::Late,
                score,
                flag: true,
            },
        }
    }

    #[test]
    fn a_record_of_parts_is_one_flat_row_and_reads_back() {
        // Names that look like numbers or booleans stay names.
        let rows = vec![
            row("7", Some(0.25)),
            row("true", None),
            row("a,b", Some(-1.5)),
        ];
        let bytes = to_csv(&rows).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.lines().next(), Some("name,seed,kind,score,flag"));
        assert_eq!(
            text.lines().nth(2),
            Some("true,18446744073709551615,Late,,true")
        );
        assert_eq!(from_csv::<Row>(&bytes[..]).unwrap(), rows);
    }

    #[test]
    fn a_header_other_than_the_types_is_refused() {
        // Values that would read into the fields, under another header.
        let renamed = "model,seed,kind,score,flag\nx,1,Late,,true\n";
        let e = from_csv::<Row>(renamed.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("expected `name,seed,kind,score,flag`"), "{e}");
        let reordered = "seed,name,kind,score,flag\n1,x,Late,,true\n";
        let e = from_csv::<Row>(reordered.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("data row 1"), "{e}");
        let short = "name,seed,kind,score\nx,1,Late,0.5\n";
        let e = from_csv::<Row>(short.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("data row 1"), "{e}");
        let bad = "name,seed,kind,score,flag\nx,1,Late,0.5,true\nx,1,Late,half,true\n";
        let e = from_csv::<Row>(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("data row 2, column `score`"), "{e}");
        let bad = "name,seed,kind,score,flag\nx,1,Soon,0.5,true\n";
        let e = from_csv::<Row>(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("data row 1") && e.contains("Soon"), "{e}");
    }

    #[test]
    fn an_empty_file_body_is_no_rows() {
        assert!(from_csv::<Row>("name,seed,kind,score,flag\n".as_bytes())
            .unwrap()
            .is_empty());
    }
}
