//! Printing: JSON with `--json`, aligned text otherwise.

use serde::Serialize;
use vault_client::records::{AlbumEntry, FileEntry, bytes};

use crate::view;

/// Prints `value` as JSON (one document).
pub fn json<T: Serialize + ?Sized>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("views serialise")
    );
}

/// A table: a header row and rows, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Files as a timeline: by when taken (or the file's date, or the upload's).
pub fn files(files: &[FileEntry]) {
    if files.is_empty() {
        println!("no files");
        return;
    }
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            vec![
                f.id.to_string()[..12].to_string(),
                // Taken when the photo says; else the file's date, else the upload's, and
                // which it is.
                match (&f.taken, &f.modified_at) {
                    (Some(taken), _) => view::taken(taken),
                    (None, Some(modified)) => {
                        format!("{} (file date)", modified.format("%Y-%m-%d"))
                    }
                    (None, None) => format!("{} (uploaded)", f.uploaded_at.format("%Y-%m-%d")),
                },
                bytes(f.size),
                match (f.width, f.height) {
                    (Some(w), Some(h)) => format!("{w}x{h}"),
                    _ => "-".into(),
                },
                f.name.clone(),
            ]
        })
        .collect();
    table(&["ID", "TAKEN", "SIZE", "PIXELS", "NAME"], &rows);
}

/// Albums.
pub fn albums(albums: &[AlbumEntry]) {
    if albums.is_empty() {
        println!("no albums (`vault album create NAME` makes one)");
        return;
    }
    let rows: Vec<Vec<String>> = albums
        .iter()
        .map(|a| {
            vec![
                a.id.to_string()[..12].to_string(),
                a.files.to_string(),
                a.created_at.format("%Y-%m-%d").to_string(),
                a.name.clone(),
            ]
        })
        .collect();
    table(&["ID", "FILES", "CREATED", "NAME"], &rows);
}
