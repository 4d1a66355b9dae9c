//! What generations cost, shown: a month's total against its caps, a bar chart of the
//! days and the breakdowns (by provider, by model, by key). The logic (bar heights, the
//! chart's summary, month names and steps, cap meters) is plain Rust, tested here; the
//! components hold the views.

use leptos::prelude::*;
use model::{format_usd, CapStatus, SpendLine, SpendSummary};

use crate::{
    api::spend::MySpend,
    components::{handler, Skeleton},
};

fn parse_month(label: &str) -> Option<(i32, u32)> {
    let (y, m) = label.split_once('-')?;
    let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u32>().ok()?);
    (1..=12).contains(&m).then_some((y, m))
}

/// "2026-12" → "December 2026".
pub fn month_name(label: &str) -> String {
    match parse_month(label) {
        Some((y, m)) => format!("{} {y}", crate::format::MONTHS[(m - 1) as usize]),
        None => label.to_owned(),
    }
}

/// The month `delta` months from `label` ("2026-12", 1 → "2027-01").
pub fn month_step(label: &str, delta: i32) -> String {
    let Some((y, m)) = parse_month(label) else {
        return label.to_owned();
    };
    let index = y * 12 + (m as i32 - 1) + delta;
    format!("{}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

/// One bar of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// Of the tallest bar, 0 to 1.
    pub height: f64,
    /// What the bar's tooltip says: "4 Dec: $0.21, 3 images".
    pub title: String,
}

fn images(n: u64) -> String {
    if n == 1 {
        "1 image".to_owned()
    } else {
        format!("{n} images")
    }
}

pub fn bars(days: &[SpendLine]) -> Vec<Bar> {
    let peak = days.iter().map(|d| d.usd).fold(0.0_f64, f64::max);
    days.iter()
        .map(|d| Bar {
            label: d.label.clone(),
            height: if peak > 0.0 { d.usd / peak } else { 0.0 },
            title: format!("{}: {}, {}", d.label, format_usd(d.usd), images(d.images)),
        })
        .collect()
}

/// The chart in words, for screen readers and as its caption.
pub fn chart_summary(days: &[SpendLine]) -> String {
    let total: f64 = days.iter().map(|d| d.usd).sum();
    let peak = days
        .iter()
        .filter(|d| d.usd > 0.0)
        .max_by(|a, b| a.usd.total_cmp(&b.usd));
    match peak {
        None => "Nothing spent on any day of the month.".to_owned(),
        Some(p) => format!(
            "Spend by day: {} in all, most on {} ({}).",
            format_usd(total),
            p.label,
            format_usd(p.usd)
        ),
    }
}

/// A cap as a meter: its words, how full (0 to 1) and whether nearly reached.
pub fn cap_meter(whose: &str, cap: &CapStatus) -> (String, f64, bool) {
    let fraction = if cap.monthly_usd > 0.0 {
        (cap.spent_usd / cap.monthly_usd).min(1.0)
    } else {
        1.0
    };
    (
        format!(
            "{whose}: {} of {} spent, {} left",
            format_usd(cap.spent_usd),
            format_usd(cap.monthly_usd),
            format_usd(cap.left_usd)
        ),
        fraction,
        fraction >= 0.9,
    )
}

#[component]
#[allow(clippy::needless_pass_by_value)] // component properties are owned
pub fn SpendChart(days: Vec<SpendLine>) -> impl IntoView {
    let summary = chart_summary(&days);
    let bars = bars(&days);
    let width = (bars.len().max(1) * 10) as f64;
    let first = bars.first().map(|b| b.label.clone()).unwrap_or_default();
    let last = bars.last().map(|b| b.label.clone()).unwrap_or_default();
    view! {
        <figure class="spend-chart">
            <svg viewBox=format!("0 0 {width} 100") preserveAspectRatio="none" role="img" aria-label=summary.clone() class="spend-chart__bars">
                {bars.into_iter().enumerate().map(|(i, b)| {
                    let h = (b.height * 96.0).max(if b.height > 0.0 { 2.0 } else { 0.0 });
                    view! {
                        <rect x=format!("{}", i * 10 + 1) y=format!("{:.2}", 100.0 - h) width="8" height=format!("{h:.2}") class="spend-chart__bar">
                            <title>{b.title}</title>
                        </rect>
                    }
                }).collect_view()}
                <line x1="0" y1="100" x2=format!("{width}") y2="100" class="spend-chart__axis" />
            </svg>
            <div class="spend-chart__ends" aria-hidden="true"><span>{first}</span><span>{last}</span></div>
            <figcaption class="muted">{summary}</figcaption>
        </figure>
    }
}

#[component]
pub fn SpendTable(caption: &'static str, lines: Vec<SpendLine>) -> impl IntoView {
    (!lines.is_empty()).then(|| {
        view! {
            <table class="spend-table">
                <caption>{caption}</caption>
                <thead><tr><th scope="col">""</th><th scope="col">"Images"</th><th scope="col">"Spend"</th></tr></thead>
                <tbody>
                    {lines.into_iter().map(|l| view! {
                        <tr><th scope="row">{l.label}</th><td>{l.images}</td><td>{format_usd(l.usd)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    })
}

#[component]
fn CapMeter(whose: &'static str, cap: CapStatus) -> impl IntoView {
    let (text, fraction, high) = cap_meter(whose, &cap);
    view! {
        <p class="spend__cap" class:spend__cap--high=high>
            <meter min="0" max="100" low="70" high="90" optimum="0" value=format!("{:.0}", fraction * 100.0) aria-hidden="true"></meter>
            <span>{text}</span>
        </p>
    }
}

/// A month's spend: total, caps, the days' chart and the breakdowns (`keys`: with the
/// breakdown by key, as Settings shows it).
#[component]
pub fn SpendPanel(summary: SpendSummary, #[prop(optional)] keys: bool) -> impl IntoView {
    let s = summary;
    view! {
        <div class="spend">
            <p class="spend__total">
                <strong>{format_usd(s.total_usd)}</strong>
                {format!(" in {}, {}", month_name(&s.month), images(s.images))}
            </p>
            {s.account_cap.map(|c| view! { <CapMeter whose="Your cap" cap=c /> })}
            {s.instance_cap.map(|c| view! { <CapMeter whose="This server's cap (all accounts)" cap=c /> })}
            <SpendChart days=s.by_day />
            <div class="spend__tables">
                <SpendTable caption="By provider" lines=s.by_provider />
                <SpendTable caption="By model" lines=s.by_model />
                {keys.then(|| view! { <SpendTable caption="By key" lines=s.by_key /> })}
            </div>
            <p class="muted spend__note">{format!("Estimated from the providers' published prices (prices {}).", s.pricing_version)}</p>
        </div>
    }
}

/// The person's spend with a month switcher (the dashboard and Settings); `version`
/// reloads it (after the cap is changed).
#[component]
pub fn SpendCard(
    #[prop(optional)] keys: bool,
    #[prop(optional, into)] version: Option<Signal<usize>>,
) -> impl IntoView {
    let month = RwSignal::new(None::<String>);
    let summary = crate::server_resource::server_resource(
        move || (month.get(), version.map(|v| v.get())),
        |(month, _)| MySpend { month },
    );
    view! {
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(Some(s)) => {
                        let shown = s.month.clone();
                        let (prev, next) = (month_step(&shown, -1), month_step(&shown, 1));
                        let (prev_name, next_name) = (month_name(&prev), month_name(&next));
                        view! {
                            <nav class="spend__months" aria-label="Month">
                                <button type="button" class="button button--small" on:click=handler(move |_| month.set(Some(prev.clone())))>{format!("← {prev_name}")}</button>
                                <button type="button" class="button button--small" on:click=handler(move |_| month.set(Some(next.clone())))>{format!("{next_name} →")}</button>
                            </nav>
                            <SpendPanel summary=s keys=keys />
                        }.into_any()
                    }
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(label: &str, usd: f64, images: u64) -> SpendLine {
        SpendLine {
            key: label.into(),
            label: label.into(),
            usd,
            images,
        }
    }

    #[test]
    fn months_are_named_and_stepped() {
        assert_eq!(month_name("2026-12"), "December 2026");
        assert_eq!(month_step("2026-12", 1), "2027-01");
        assert_eq!(month_step("2026-01", -1), "2025-12");
        assert_eq!(month_step("2026-05", -13), "2025-04");
        assert_eq!(month_name("soon"), "soon");
    }

    #[test]
    fn bars_are_relative_to_the_busiest_day() {
        let days = [
            day("1 Dec", 0.0, 0),
            day("2 Dec", 0.2, 2),
            day("3 Dec", 0.05, 1),
        ];
        let b = bars(&days);
        assert_eq!(b[0].height, 0.0);
        assert_eq!(b[1].height, 1.0);
        assert_eq!(b[2].height, 0.25);
        assert_eq!(b[2].title, "3 Dec: $0.05, 1 image");
        assert_eq!(
            chart_summary(&days),
            "Spend by day: $0.25 in all, most on 2 Dec ($0.20)."
        );
        assert!(bars(&[day("1 Dec", 0.0, 0)])
            .iter()
            .all(|b| b.height == 0.0));
        assert_eq!(
            chart_summary(&[day("1 Dec", 0.0, 0)]),
            "Nothing spent on any day of the month."
        );
    }

    #[test]
    fn a_cap_reads_as_spent_of_cap_and_warns_near_it() {
        let cap = CapStatus {
            monthly_usd: 5.0,
            spent_usd: 4.6,
            left_usd: 0.4,
        };
        let (text, fraction, high) = cap_meter("Your cap", &cap);
        assert_eq!(text, "Your cap: $4.60 of $5.00 spent, $0.40 left");
        assert!((fraction - 0.92).abs() < 1e-9);
        assert!(high);
        let zero = CapStatus {
            monthly_usd: 0.0,
            spent_usd: 0.0,
            left_usd: 0.0,
        };
        assert!(cap_meter("Your cap", &zero).2);
    }
}
