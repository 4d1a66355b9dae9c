//! An account's use of its quota as three meters (images in the last 24 hours, jobs at
//! once, storage), shown in Settings, on the home page and, per account, to
//! administrators. What each meter says is worked out in [`meters`], tested here.

use leptos::prelude::*;
use model::Usage;

use crate::format::file_size;

/// One meter: what it counts, how much of the limit is used (as words and as a part of 1,
/// `None` without a limit), and whether it is nearly spent.
#[derive(Debug, Clone, PartialEq)]
pub struct Meter {
    pub label: &'static str,
    pub text: String,
    pub fraction: Option<f64>,
    pub high: bool,
}

fn meter(label: &'static str, used: u64, limit: u64, show: impl Fn(u64) -> String) -> Meter {
    if limit == 0 {
        return Meter {
            label,
            text: format!("{} (no limit)", show(used)),
            fraction: None,
            high: false,
        };
    }
    #[allow(clippy::cast_precision_loss)] // a meter's width, not a count
    let fraction = (used as f64 / limit as f64).min(1.0);
    Meter {
        label,
        text: format!("{} of {}", show(used), show(limit)),
        fraction: Some(fraction),
        high: fraction >= 0.9,
    }
}

/// The three meters of a usage.
pub fn meters(usage: &Usage) -> [Meter; 3] {
    let q = usage.quota;
    [
        meter(
            "Images in the last 24 hours",
            usage.images_today,
            u64::from(q.images_per_day),
            |n| n.to_string(),
        ),
        meter(
            "Jobs queued or running",
            usage.active_jobs,
            u64::from(q.active_jobs),
            |n| n.to_string(),
        ),
        meter("Storage", usage.storage_bytes, q.storage_bytes, file_size),
    ]
}

#[component]
pub fn UsageMeters(usage: Usage) -> impl IntoView {
    view! {
        <dl class="usage">
            {meters(&usage).into_iter().map(|m| {
                let value = m.fraction.map(|f| format!("{:.0}", f * 100.0));
                view! {
                    <div class="usage__row" class:usage__row--high=m.high>
                        <dt>{m.label}</dt>
                        <dd>
                            {value.map(|v| view! { <meter min="0" max="100" low="70" high="90" optimum="0" value=v aria-hidden="true"></meter> })}
                            <span>{m.text}</span>
                        </dd>
                    </div>
                }
            }).collect_view()}
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use model::Quota;

    use super::*;

    #[test]
    fn meters_say_how_much_is_used_of_what() {
        let usage = Usage {
            images_today: 46,
            active_jobs: 2,
            storage_bytes: 3 * 1024 * 1024,
            quota: Quota {
                images_per_day: 50,
                active_jobs: 0,
                storage_bytes: 10 * 1024 * 1024,
            },
            custom: false,
        };
        let [images, jobs, storage] = meters(&usage);
        assert_eq!(images.text, "46 of 50");
        assert!(images.high, "92% is nearly spent");
        assert_eq!(jobs.text, "2 (no limit)");
        assert_eq!(jobs.fraction, None);
        assert_eq!(storage.text, "3.0 MB of 10.0 MB");
        assert!(!storage.high);
        let over = Usage {
            storage_bytes: 20 * 1024 * 1024,
            ..usage
        };
        assert_eq!(meters(&over)[2].fraction, Some(1.0));
    }
}
