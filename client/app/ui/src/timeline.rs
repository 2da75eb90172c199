//! The timeline's layout: photos grouped by month and day, laid out in rows of square tiles, and
//! which rows a scroll position shows. Pure arithmetic, so 10,000 photos cost a few hundred
//! kilobytes of rows and the DOM holds only the rows on screen.

use std::ops::Range;

use crate::model::Photo;

/// The gap between tiles, px.
pub const GAP: f64 = 4.0;
/// The tile size the layout aims for, px; the real size fills the width.
pub const TARGET_TILE: f64 = 150.0;
/// Fewest tiles a row has (a phone held upright shows three).
pub const MIN_COLUMNS: usize = 3;
/// A month's heading, px.
pub const MONTH_HEIGHT: f64 = 52.0;
/// A day's heading, px.
pub const DAY_HEIGHT: f64 = 34.0;
/// Rows drawn beyond the screen above and below, px.
pub const OVERSCAN: f64 = 600.0;

/// What a row shows.
#[derive(Clone, Debug, PartialEq)]
pub enum RowKind {
    /// "March 2024".
    Month(String),
    /// "Saturday 16 March".
    Day(String),
    /// Photos `range` of the list.
    Tiles(Range<usize>),
}

/// A row and where it sits.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// What it shows.
    pub kind: RowKind,
    /// Its top, px from the timeline's top.
    pub top: f64,
    /// Its height, px.
    pub height: f64,
}

/// The laid-out timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Rows, top to bottom.
    pub rows: Vec<Row>,
    /// Tiles a row holds.
    pub columns: usize,
    /// A tile's side, px.
    pub tile: f64,
    /// Height of everything, px.
    pub height: f64,
}

impl Layout {
    /// Lays out `photos` (newest first) in a timeline `width` px wide.
    pub fn new(photos: &[Photo], width: f64) -> Layout {
        let width = width.max(120.0);
        let columns = (((width + GAP) / (TARGET_TILE + GAP)).floor() as usize).max(MIN_COLUMNS);
        let tile = ((width - GAP * (columns as f64 - 1.0)) / columns as f64).floor();
        let mut rows = Vec::new();
        let mut top = 0.0;
        let mut push = |kind: RowKind, height: f64, rows: &mut Vec<Row>| {
            rows.push(Row { kind, top, height });
            top += height;
        };
        let mut i = 0;
        let mut month = None;
        while i < photos.len() {
            let day = day_of(photos[i].taken_ms);
            let (y, m, _) = civil(day);
            if month != Some((y, m)) {
                month = Some((y, m));
                push(RowKind::Month(month_label(day)), MONTH_HEIGHT, &mut rows);
            }
            push(RowKind::Day(day_label(day)), DAY_HEIGHT, &mut rows);
            let mut end = i;
            while end < photos.len() && day_of(photos[end].taken_ms) == day {
                end += 1;
            }
            let mut start = i;
            while start < end {
                let stop = (start + columns).min(end);
                push(RowKind::Tiles(start..stop), tile + GAP, &mut rows);
                start = stop;
            }
            i = end;
        }
        Layout {
            rows,
            columns,
            tile,
            height: top,
        }
    }

    /// The rows a viewport `height` px tall scrolled to `scroll_top` shows, with
    /// [`OVERSCAN`] px more either side.
    pub fn visible(&self, scroll_top: f64, height: f64) -> Range<usize> {
        let from = scroll_top - OVERSCAN;
        let to = scroll_top + height + OVERSCAN;
        let start = self.rows.partition_point(|r| r.top + r.height <= from);
        let end = self.rows.partition_point(|r| r.top < to);
        start..end.max(start)
    }
}

/// Days since 1970-01-01 of a wall-clock time in ms.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// `(year, month 1–12, day 1–31)` of days since 1970-01-01 (the proleptic Gregorian calendar;
/// H. Hinnant's `civil_from_days`).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// "March 2024".
pub fn month_label(day: i64) -> String {
    let (y, m, _) = civil(day);
    format!("{} {y}", MONTHS[m as usize - 1])
}

/// "Saturday 16 March 2024".
pub fn day_label(day: i64) -> String {
    let (y, m, d) = civil(day);
    let weekday = WEEKDAYS[day.rem_euclid(7) as usize];
    format!("{weekday} {d} {} {y}", MONTHS[m as usize - 1])
}

/// "16 Mar 2024, 14:05" for a wall-clock time in ms.
pub fn date_time(ms: i64) -> String {
    let day = day_of(ms);
    let (y, m, d) = civil(day);
    let minutes = ms.rem_euclid(86_400_000) / 60_000;
    format!(
        "{d} {} {y}, {:02}:{:02}",
        &MONTHS[m as usize - 1][..3],
        minutes / 60,
        minutes % 60
    )
}

/// How long a video plays: "0:07", "12:34", "1:02:03".
pub fn duration_text(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_players_show_them() {
        assert_eq!(duration_text(0), "0:00");
        assert_eq!(duration_text(1_043), "0:01");
        assert_eq!(duration_text(754_999), "12:34");
        assert_eq!(duration_text(3_723_000), "1:02:03");
    }

    fn photo(ms: i64) -> Photo {
        Photo {
            id: format!("{ms:032x}"),
            name: "p.jpg".into(),
            mime: "image/jpeg".into(),
            size: 1,
            taken_ms: ms,
            width: None,
            height: None,
            has_thumbnail: true,
            duration_ms: None,
            album: None,
        }
    }

    const DAY: i64 = 86_400_000;

    #[test]
    fn calendar() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_798), (2024, 3, 16));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(day_label(19_798), "Saturday 16 March 2024");
        assert_eq!(month_label(19_798), "March 2024");
        assert_eq!(
            date_time(19_798 * DAY + 14 * 3_600_000 + 5 * 60_000),
            "16 Mar 2024, 14:05"
        );
    }

    #[test]
    fn groups_by_month_and_day_in_rows() {
        // Newest first: seven on 16 March, one on 2 March, one in February.
        let mut photos: Vec<Photo> = (0..7).map(|i| photo(19_798 * DAY + i)).collect();
        photos.push(photo(19_784 * DAY));
        photos.push(photo(19_770 * DAY));
        let layout = Layout::new(&photos, 3.0 * TARGET_TILE + 2.0 * GAP);
        assert_eq!(layout.columns, 3);
        let kinds: Vec<_> = layout.rows.iter().map(|r| r.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                RowKind::Month("March 2024".into()),
                RowKind::Day("Saturday 16 March 2024".into()),
                RowKind::Tiles(0..3),
                RowKind::Tiles(3..6),
                RowKind::Tiles(6..7),
                RowKind::Day("Saturday 2 March 2024".into()),
                RowKind::Tiles(7..8),
                RowKind::Month("February 2024".into()),
                RowKind::Day("Saturday 17 February 2024".into()),
                RowKind::Tiles(8..9),
            ]
        );
        // Rows abut, and the height is their sum.
        for pair in layout.rows.windows(2) {
            assert_eq!(pair[0].top + pair[0].height, pair[1].top);
        }
        let last = layout.rows.last().unwrap();
        assert_eq!(layout.height, last.top + last.height);
    }

    #[test]
    fn a_phone_gets_three_columns_and_a_wide_window_more() {
        assert_eq!(Layout::new(&[photo(0)], 360.0).columns, 3);
        assert_eq!(Layout::new(&[photo(0)], 120.0).columns, 3);
        let wide = Layout::new(&[photo(0)], 1200.0);
        assert_eq!(wide.columns, 7);
        assert!(wide.tile * 7.0 + GAP * 6.0 <= 1200.0);
    }

    #[test]
    fn only_rows_near_the_viewport_are_visible() {
        // 10,000 photos over 400 days.
        let photos: Vec<Photo> = (0..10_000)
            .map(|i| photo(20_000 * DAY - i * DAY / 25))
            .collect();
        let layout = Layout::new(&photos, 1000.0);
        let top = layout.visible(0.0, 800.0);
        assert_eq!(top.start, 0);
        let shown: f64 = layout.rows[top.clone()].iter().map(|r| r.height).sum();
        assert!((800.0 + OVERSCAN..800.0 + OVERSCAN + 400.0).contains(&shown));
        let middle = layout.visible(layout.height / 2.0, 800.0);
        assert!(middle.start > 0 && middle.len() < 40, "{middle:?}");
        for row in &layout.rows[middle.clone()] {
            assert!(row.top + row.height > layout.height / 2.0 - OVERSCAN);
            assert!(row.top < layout.height / 2.0 + 800.0 + OVERSCAN);
        }
        let end = layout.visible(layout.height, 800.0);
        assert_eq!(end.end, layout.rows.len());
        // Every photo is in exactly one tile row.
        let tiles: usize = layout
            .rows
            .iter()
            .map(|r| match &r.kind {
                RowKind::Tiles(range) => range.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(tiles, 10_000);
    }

    #[test]
    fn nothing_to_lay_out() {
        let layout = Layout::new(&[], 800.0);
        assert!(layout.rows.is_empty());
        assert_eq!(layout.height, 0.0);
        assert_eq!(layout.visible(0.0, 800.0), 0..0);
    }
}
