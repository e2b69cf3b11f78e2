//! The official GTSRB ground-truth CSV (`GT-000CC.csv`, `GT-final_test.csv`, and our
//! `train_meta.csv`): `;`-separated, header
//! `Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId`, CRLF or LF.
//!
//! Columns are found by name, so extra or reordered columns are fine; a missing column
//! or a non-numeric value is an error naming the file and line.

use std::path::Path;

use crate::error::{DataError, Result};

/// One row of a GTSRB ground-truth file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtRow {
    /// `Filename` as written (`00000_00000.ppm`, or `00000/00000_00000.ppm` in
    /// `train_meta.csv`).
    pub filename: String,
    /// Width of the original (full-resolution) image.
    pub width: u32,
    /// Height of the original image.
    pub height: u32,
    /// Region of interest in original pixels: X1, Y1, X2, Y2.
    pub roi: [u32; 4],
    /// The class.
    pub class_id: u32,
}

const COLUMNS: [&str; 8] = [
    "Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId",
];

/// The rows as a ground-truth CSV (the official header, `;`, LF line ends as in the
/// packed layout's `train_meta.csv`), which [`parse_gt_csv`] reads back.
pub fn gt_csv_bytes(rows: &[GtRow]) -> Vec<u8> {
    let mut out = COLUMNS.join(";");
    out.push('\n');
    for r in rows {
        let [x1, y1, x2, y2] = r.roi;
        out.push_str(&format!(
            "{};{};{};{x1};{y1};{x2};{y2};{}\n",
            r.filename, r.width, r.height, r.class_id
        ));
    }
    out.into_bytes()
}

/// Reads every row of a ground-truth CSV.
pub fn read_gt_csv(path: &Path) -> Result<Vec<GtRow>> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_gt_csv(path, &bytes)
}

/// Parses ground-truth CSV bytes; `path` is only used in error messages.
pub fn parse_gt_csv(path: &Path, bytes: &[u8]) -> Result<Vec<GtRow>> {
    let csv_err = |line: u64, problem: String| DataError::Csv {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| csv_err(1, format!("unreadable header: {e}")))?
        .clone();
    let mut index = [0usize; 8];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| csv_err(1, format!("missing column `{name}`")))?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        // The csv crate's own line count is one short per CRLF row (the official
        // files are CRLF), so the line is counted from the record's byte offset — only
        // for an error: counted for every row, it made a load quadratic in the file
        // (95 % of an experiment test's time on GTSRB's 39,209 rows).
        let line_at = |p: Option<&csv::Position>| {
            p.map_or(0, |p| {
                // A CRLF record's position is its preceding `\n`: skip line ends.
                let mut start = (p.byte() as usize).min(bytes.len());
                while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                    start += 1;
                }
                1 + bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64
            })
        };
        let record = record.map_err(|e| {
            let line = line_at(e.position());
            csv_err(line, e.to_string())
        })?;
        let line = || line_at(record.position());
        let field = |k: usize| record.get(index[k]).unwrap_or("").trim();
        let number = |k: usize| -> Result<u32> {
            field(k).parse::<u32>().map_err(|_| {
                csv_err(
                    line(),
                    format!(
                        "`{}` is `{}`, not a non-negative integer",
                        COLUMNS[k],
                        field(k)
                    ),
                )
            })
        };
        // The file name is joined to the class folder: it may not leave it.
        if !repair_core::stays_inside(Path::new(field(0))) {
            return Err(csv_err(
                line(),
                format!(
                    "`Filename` is `{}`, not a relative path inside the image folder",
                    field(0)
                ),
            ));
        }
        rows.push(GtRow {
            filename: field(0).to_string(),
            width: number(1)?,
            height: number(2)?,
            roi: [number(3)?, number(4)?, number(5)?, number(6)?],
            class_id: number(7)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\r\n";

    #[test]
    fn a_file_name_that_leaves_its_folder_is_refused_with_its_line() {
        for bad in ["../00001/x.ppm", "/etc/passwd", ""] {
            let text =
                format!("{HEADER}00000_00000.ppm;29;30;5;6;24;25;0\r\n{bad};1;1;0;0;1;1;0\r\n");
            let err = parse_gt_csv(Path::new("GT-00000.csv"), text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("GT-00000.csv") && err.contains("line 3"),
                "{err}"
            );
            assert!(err.contains("not a relative path inside"), "{err}");
        }
    }

    #[test]
    fn parses_official_rows_with_crlf() {
        let text = format!(
            "{HEADER}00000_00000.ppm;29;30;5;6;24;25;0\r\n00000_00001.ppm;30;30;5;5;25;25;0\r\n"
        );
        let rows = parse_gt_csv(Path::new("GT-00000.csv"), text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            GtRow {
                filename: "00000_00000.ppm".into(),
                width: 29,
                height: 30,
                roi: [5, 6, 24, 25],
                class_id: 0
            }
        );
    }

    #[test]
    fn a_missing_column_is_named_with_the_file() {
        let text = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n00000.ppm;1;1;0;0;1;1\n";
        let err = parse_gt_csv(Path::new("GT-final_test.csv"), text.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("GT-final_test.csv") && msg.contains("missing column `ClassId`"),
            "{msg}"
        );
    }

    #[test]
    fn a_non_numeric_class_id_names_its_line() {
        let text = format!("{HEADER}a.ppm;1;1;0;0;1;1;3\r\nb.ppm;1;1;0;0;1;1;stop\r\n");
        let err = parse_gt_csv(Path::new("GT-00014.csv"), text.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("GT-00014.csv: line 3") && msg.contains("`ClassId` is `stop`"),
            "{msg}"
        );
    }
}
