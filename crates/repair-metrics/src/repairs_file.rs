//! Reading `repairs.csv` (this project's or another tool's): the rows, with the one
//! check every reader makes ([`repair_problems`]); errors name the file, the row and
//! the column.

use std::path::Path;

use crate::error::MetricsError;
use crate::records::column_of;
use crate::row_checks::{problems_message, repair_problems};
use crate::tables::RepairRow;

/// Reads `repairs.csv` and refuses rows no repair could have written
/// ([`repair_problems`]); an error names the file, the row and the column.
pub fn read_repairs(path: &Path) -> Result<Vec<RepairRow>, MetricsError> {
    let file = std::fs::File::open(path).map_err(|e| MetricsError::File {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    read_repairs_from(file, path)
}

/// Parses `repairs.csv` without checking the values (for `verify`, which lists the
/// problems of [`repair_problems`] with its own); an error names the file and the line.
pub fn parse_repairs(path: &Path) -> Result<Vec<RepairRow>, MetricsError> {
    let file = std::fs::File::open(path).map_err(|e| MetricsError::File {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    parse_repairs_from(file, path)
}

/// [`read_repairs`] of CSV text from `reader` (the Python package's `table1` of a
/// table in memory), errors naming `name` as the file.
pub fn read_repairs_from(
    reader: impl std::io::Read,
    name: &Path,
) -> Result<Vec<RepairRow>, MetricsError> {
    let rows = parse_repairs_from(reader, name)?;
    let problems = repair_problems(&rows);
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(MetricsError::File {
            path: name.to_path_buf(),
            problem: problems_message(&problems),
        })
    }
}

/// [`parse_repairs`] of what `reader` holds, errors naming `path`.
fn parse_repairs_from(
    reader: impl std::io::Read,
    path: &Path,
) -> Result<Vec<RepairRow>, MetricsError> {
    let fail = |problem: String| MetricsError::File {
        path: path.to_path_buf(),
        problem,
    };
    let mut reader = csv::Reader::from_reader(reader);
    let header = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    reader
        .deserialize()
        .enumerate()
        .map(|(k, row)| {
            row.map_err(|e| fail(format!("data row {}{}: {e}", k + 1, column_of(&e, &header))))
        })
        .collect()
}
