//! A listing page's cursor as text, `<sort key>.<file id in hex>`: how the HTTP API takes it
//! in a query string and how front ends carry it (docs/PROTOCOL.md §5).

use std::fmt;
use std::str::FromStr;

use serde_bytes::ByteBuf;

use crate::types::Cursor;

/// Text that is not a page cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorError;

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a page cursor (`<sort key>.<32 hex digits>`)")
    }
}

impl std::error::Error for CursorError {}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.sort_key, hex::encode(&self.file_id))
    }
}

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(text: &str) -> Result<Self, CursorError> {
        let (sort_key, id) = text.split_once('.').ok_or(CursorError)?;
        let sort_key = sort_key.parse().map_err(|_| CursorError)?;
        let mut file_id = [0u8; 16];
        hex::decode_to_slice(id, &mut file_id).map_err(|_| CursorError)?;
        Ok(Cursor {
            sort_key,
            file_id: ByteBuf::from(file_id.to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_go_there_and_back() {
        for sort_key in [i64::MIN, -1, 0, 1_700_000_000_000, i64::MAX] {
            let cursor = Cursor {
                sort_key,
                file_id: ByteBuf::from((0u8..16).collect::<Vec<_>>()),
            };
            let text = cursor.to_string();
            // It goes into URLs and query strings as it is.
            assert!(!text.contains(['/', '#', '?', '&', ' ']), "{text}");
            assert_eq!(text.parse::<Cursor>(), Ok(cursor));
        }
        let cursor = Cursor {
            sort_key: 42,
            file_id: ByteBuf::from(vec![0xab; 16]),
        };
        assert_eq!(cursor.to_string(), format!("42.{}", "ab".repeat(16)));
    }

    #[test]
    fn what_is_not_a_cursor_is_refused() {
        let id = "000102030405060708090a0b0c0d0e0f";
        for bad in [
            "",
            "12",
            "42.",
            id,
            &format!("x.{id}"),
            &format!("1.{}", &id[..30]),
            &format!("1.{id}00"),
            &format!("1.{}zz", &id[..30]),
            &format!("99999999999999999999.{id}"),
        ] {
            assert_eq!(bad.parse::<Cursor>(), Err(CursorError), "{bad:?}");
        }
    }
}
