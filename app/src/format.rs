//! How times and sizes are written on the pages (without chrono's format-string
//! machinery, which weighs on the wasm).

/// The months' names, January first.
pub const MONTHS: [&str; 12] = [
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

/// `2026-11-22 14:05 UTC`
pub fn when(time: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute()
    )
}

/// `1.5 MB`, `300 KB`, `2.0 GB`
pub fn file_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 * 1024 {
        format!("{:.1} GB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes_read_well() {
        let t = chrono::DateTime::from_timestamp(1_763_820_300, 0).unwrap();
        assert_eq!(when(t), "2025-11-22 14:05 UTC");
        assert_eq!(file_size(1536 * 1024), "1.5 MB");
        assert_eq!(file_size(1000), "1 KB");
        assert_eq!(file_size(0), "0 KB");
        assert_eq!(file_size(3 * 1024 * 1024 * 1024 / 2), "1.5 GB");
    }
}
