//! What generations cost (issue 19 §4): the price list in force, the cost of a finished
//! job (from the usage its provider reported), a month's spend, and the monthly caps that
//! refuse a job before anything is sent to a provider.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use model::{
    micros, usd, AccountSpend, CapStatus, Cost, CostBasis, InstanceSpend, KeySource, ModelPrice,
    PriceList, PriceSource, ProviderId, SpendLine, SpendSummary, SpendingCapRequest,
};

use super::{auth::Principal, provider_keys::KeyUse, ServiceError};
use crate::{
    config::pricing,
    db::{
        self,
        jobs::JobRecord,
        spend::{Entry, Group},
    },
    domain::FieldError,
    jobs::JobRequest,
    providers, Backend,
};

/// The most an account's cap may be, in dollars.
pub const MAX_CAP_USD: f64 = 1_000_000.0;

/// Whose key paid for a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidBy {
    pub source: KeySource,
    pub last4: Option<String>,
}

impl PaidBy {
    pub fn of(key: Option<&KeyUse>) -> Self {
        match key {
            Some(k) => Self {
                source: k.source,
                last4: k.last4.clone(),
            },
            None => Self {
                source: KeySource::None,
                last4: None,
            },
        }
    }
}

/// The prices in force: the shipped ones, the `PRICING_FILE`'s over them, the
/// administrators' over both. The version names each layer, so that every cost says which
/// prices made it.
pub async fn price_list(backend: &Backend) -> Result<PriceList, ServiceError> {
    let mut prices = pricing::shipped();
    let file = &backend.config.price_file;
    let mut put = |price: ModelPrice| match prices
        .iter()
        .position(|p| p.provider == price.provider && p.model == price.model)
    {
        Some(i) => prices[i] = price,
        None => prices.push(price),
    };
    for price in &file.prices {
        put(price.clone());
    }
    let overrides = db::spend::price_overrides(&backend.db).await?;
    let mut latest = None;
    for row in &overrides {
        match serde_json::from_str::<ModelPrice>(&row.price) {
            Ok(price) => {
                put(ModelPrice {
                    source: PriceSource::Administrator,
                    ..price
                });
                latest = latest.max(Some(row.updated_at));
            }
            Err(e) => tracing::error!(provider = %row.provider, model = %row.model, error = %e,
                "an administrator's price cannot be read; the other prices apply"),
        }
    }
    let mut version = pricing::SHIPPED_VERSION.to_owned();
    if !file.version.is_empty() {
        version = format!("{version}+{}", file.version);
    }
    if let Some(at) = latest {
        version = format!("{version}+admin:{at}");
    }
    Ok(PriceList { version, prices })
}

/// `GET /api/v1/prices`.
pub async fn prices(backend: &Backend, _principal: &Principal) -> Result<PriceList, ServiceError> {
    price_list(backend).await
}

/// `PUT /api/v1/admin/prices`: an administrator's price for one model of the catalogue.
pub async fn set_price(
    backend: &Backend,
    principal: &Principal,
    price: ModelPrice,
) -> Result<PriceList, ServiceError> {
    principal.require_admin()?;
    if providers::find_model(price.provider, Some(&price.model)).is_none() {
        return Err(FieldError::new(
            "model",
            format!(
                "{} has no model '{}': price one of its models.",
                price.provider.label(),
                price.model
            ),
        )
        .into());
    }
    let price = ModelPrice {
        source: PriceSource::Administrator,
        ..price
    };
    pricing::check(&price).map_err(|m| FieldError::new("price", capitalised(&m)))?;
    let json = serde_json::to_string(&price).map_err(ServiceError::internal)?;
    db::spend::set_price(
        &backend.db,
        price.provider.as_str(),
        &price.model,
        &json,
        principal.user_id(),
    )
    .await?;
    tracing::info!(provider = %price.provider, model = %price.model, "price set by an administrator");
    price_list(backend).await
}

/// `DELETE /api/v1/admin/prices/{provider}/{model}`: back to the file's or shipped price.
pub async fn delete_price(
    backend: &Backend,
    principal: &Principal,
    provider: ProviderId,
    model: &str,
) -> Result<PriceList, ServiceError> {
    principal.require_admin()?;
    if !db::spend::delete_price(&backend.db, provider.as_str(), model).await? {
        return Err(ServiceError::NotFound);
    }
    price_list(backend).await
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// A calendar month (UTC) as milliseconds: `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// `YYYY-MM`.
    pub label: String,
    pub first: NaiveDate,
    pub next: NaiveDate,
    pub from: i64,
    pub to: i64,
}

impl Month {
    fn of(first: NaiveDate) -> Self {
        let next = if first.month() == 12 {
            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
        }
        .unwrap_or(first);
        let ms = |d: NaiveDate| {
            Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
                .timestamp_millis()
        };
        Self {
            label: first.format("%Y-%m").to_string(),
            first,
            next,
            from: ms(first),
            to: ms(next),
        }
    }

    /// The month holding `at`.
    pub fn containing(at: DateTime<Utc>) -> Self {
        Self::of(NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap_or_default())
    }

    /// `?month=2026-12`, or this month.
    pub fn parse(raw: Option<&str>) -> Result<Self, ServiceError> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(Self::containing(Utc::now()));
        };
        NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2200).contains(&d.year()) && raw.len() == 7)
            .map(Self::of)
            .ok_or_else(|| {
                FieldError::new("month", "Give the month as YYYY-MM, for example 2026-12.").into()
            })
    }
}

/// The estimated price of `n` images of a model before they are made.
fn estimate(
    list: &PriceList,
    provider: ProviderId,
    model: &str,
    size: Option<&str>,
    quality: Option<&str>,
) -> i64 {
    list.find(provider, model)
        .map_or(0, |p| micros(p.per_image(size, quality)))
}

/// One kind of image a request asks for: provider, model, size, quality, how many.
pub struct Asked<'a> {
    pub provider: ProviderId,
    pub model: &'a str,
    pub size: Option<&'a str>,
    pub quality: Option<&'a str>,
    pub n: u32,
}

/// Refuses (402) a request whose estimated cost would take this month's spend past the
/// account's or the instance's cap. A request that costs nothing always passes.
pub async fn check_request(
    backend: &Backend,
    user_id: &str,
    asked: &[Asked<'_>],
) -> Result<(), ServiceError> {
    let list = price_list(backend).await?;
    let cost: i64 = asked
        .iter()
        .map(|a| estimate(&list, a.provider, a.model, a.size, a.quality) * i64::from(a.n))
        .sum();
    check_cap(backend, user_id, cost).await
}

/// Before a job's provider call: its own estimate against the caps (the month's spend may
/// have grown since it was queued).
pub async fn check_job(
    backend: &Backend,
    job: &JobRecord,
    request: &JobRequest,
) -> Result<(), ServiceError> {
    let asked = Asked {
        provider: job.provider,
        model: &job.model,
        size: Some(&request.size),
        quality: request.quality.as_deref(),
        n: 1,
    };
    check_request(backend, &job.user_id, &[asked]).await
}

async fn check_cap(backend: &Backend, user_id: &str, cost: i64) -> Result<(), ServiceError> {
    if cost <= 0 {
        return Ok(());
    }
    let month = Month::containing(Utc::now());
    let next = month.next.format("%-d %B").to_string();
    if let Some(cap) = db::spend::cap(&backend.db, user_id).await? {
        let spent = db::spend::total(&backend.db, Some(user_id), month.from, month.to).await?;
        if spent + cost > cap {
            return Err(ServiceError::OverSpendingCap(format!(
                "This would pass your monthly spending cap of {}: {} spent this month, and \
                 this costs about {}. Raise the cap in Settings, or wait until {next}.",
                money(cap),
                money(spent),
                money(cost)
            )));
        }
    }
    if let Some(cap) = backend.config.instance_spend_cap_usd.map(micros) {
        let spent = db::spend::total(&backend.db, None, month.from, month.to).await?;
        if spent + cost > cap {
            return Err(ServiceError::OverSpendingCap(format!(
                "This would pass this server's monthly spending cap of {} (all accounts \
                 together; {} spent this month). Ask its administrator, or wait until {next}.",
                money(cap),
                money(spent)
            )));
        }
    }
    Ok(())
}

fn money(micros: i64) -> String {
    model::format_usd(usd(micros))
}

/// The cost of a finished job, for its image's provenance and the ledger.
pub async fn price_job(
    backend: &Backend,
    job: &JobRecord,
    request: &JobRequest,
    usage: Option<&serde_json::Value>,
    paid_by: PaidBy,
) -> Result<(Cost, Entry), ServiceError> {
    let list = price_list(backend).await?;
    let (amount, basis) = match list.find(job.provider, &job.model) {
        Some(price) => price.cost(Some(&request.size), request.quality.as_deref(), usage),
        None => (0.0, CostBasis::Unpriced),
    };
    let cost_micros = micros(amount);
    let cost = Cost {
        usd: usd(cost_micros),
        basis,
        pricing_version: list.version.clone(),
    };
    let entry = Entry {
        job_id: job.id.clone(),
        user_id: job.user_id.clone(),
        image_id: job.image_id.clone(),
        provider: job.provider.as_str().to_owned(),
        model: job.model.clone(),
        key_source: paid_by.source.as_str(),
        key_last4: paid_by.last4,
        cost_micros,
        pricing_version: list.version,
    };
    Ok((cost, entry))
}

fn cap_status(cap: i64, spent: i64) -> CapStatus {
    CapStatus {
        monthly_usd: usd(cap),
        spent_usd: usd(spent),
        left_usd: usd((cap - spent).max(0)),
    }
}

/// `GET /api/v1/spend`: the caller's month.
pub async fn summary(
    backend: &Backend,
    principal: &Principal,
    month: Option<&str>,
) -> Result<SpendSummary, ServiceError> {
    let month = Month::parse(month)?;
    let user_id = principal.user_id();
    let groups = db::spend::groups(&backend.db, user_id, month.from, month.to).await?;
    let mut summary = summarize(&groups, &month);
    if let Some(cap) = db::spend::cap(&backend.db, user_id).await? {
        summary.account_cap = Some(cap_status(cap, micros(summary.total_usd)));
    }
    if let Some(cap) = backend.config.instance_spend_cap_usd.map(micros) {
        let all = db::spend::total(&backend.db, None, month.from, month.to).await?;
        summary.instance_cap = Some(cap_status(cap, all));
    }
    summary.pricing_version = price_list(backend).await?.version;
    Ok(summary)
}

/// `PUT /api/v1/me/spending-cap`: sets or removes the caller's monthly cap.
pub async fn set_cap(
    backend: &Backend,
    principal: &Principal,
    req: &SpendingCapRequest,
) -> Result<SpendSummary, ServiceError> {
    let cap = match req.monthly_usd {
        None => None,
        Some(v) if v.is_finite() && (0.0..=MAX_CAP_USD).contains(&v) => Some(micros(v)),
        Some(_) => {
            return Err(FieldError::new(
                "monthly_usd",
                "Give the cap in dollars, from 0 to 1,000,000, or leave it empty for none.",
            )
            .into())
        }
    };
    db::spend::set_cap(&backend.db, principal.user_id(), cap).await?;
    summary(backend, principal, None).await
}

/// `GET /api/v1/admin/spend`: every account's month (administrators only).
pub async fn instance(
    backend: &Backend,
    principal: &Principal,
    month: Option<&str>,
) -> Result<InstanceSpend, ServiceError> {
    principal.require_admin()?;
    let month = Month::parse(month)?;
    let accounts = db::spend::by_account(&backend.db, month.from, month.to, 500).await?;
    let providers = db::spend::by_provider(&backend.db, month.from, month.to).await?;
    let total: i64 = providers.iter().map(|(_, m, _)| m).sum();
    Ok(InstanceSpend {
        month: month.label,
        total_usd: usd(total),
        accounts: accounts
            .into_iter()
            .map(|a| AccountSpend {
                user_id: a.user_id,
                email: a.email,
                usd: usd(a.micros),
                images: u64::try_from(a.images).unwrap_or(0),
                monthly_cap_usd: a.cap_micros.map(usd),
            })
            .collect(),
        by_provider: providers
            .into_iter()
            .map(|(p, m, n)| SpendLine {
                label: provider_label(&p),
                key: p,
                usd: usd(m),
                images: u64::try_from(n).unwrap_or(0),
            })
            .collect(),
        instance_cap: backend
            .config
            .instance_spend_cap_usd
            .map(|cap| cap_status(micros(cap), total)),
    })
}

fn provider_label(provider: &str) -> String {
    provider
        .parse::<ProviderId>()
        .map_or_else(|_| provider.to_owned(), |p| p.label().to_owned())
}

fn model_label(provider: &str, model: &str) -> String {
    provider
        .parse::<ProviderId>()
        .ok()
        .and_then(|p| providers::find_model(p, Some(model)))
        .map_or_else(|| model.to_owned(), |m| m.label)
}

fn key_line(g: &Group) -> (String, String) {
    let provider = provider_label(&g.provider);
    match (g.key_source.as_str(), &g.key_last4) {
        ("own", Some(last4)) => (
            format!("{}:own:{last4}", g.provider),
            format!("Your {provider} key …{last4}"),
        ),
        ("server", _) => (
            format!("{}:server", g.provider),
            format!("The server's {provider} key"),
        ),
        _ => (
            format!("{}:none", g.provider),
            format!("{provider}, no key"),
        ),
    }
}

/// Adds one group to the line `key` of `lines`, keeping the lines in first-seen order.
fn add(lines: &mut Vec<(SpendLine, i64)>, key: String, label: String, g: &Group) {
    let images = u64::try_from(g.images).unwrap_or(0);
    match lines.iter_mut().find(|(l, _)| l.key == key) {
        Some((line, micros)) => {
            *micros += g.micros;
            line.images += images;
        }
        None => lines.push((
            SpendLine {
                key,
                label,
                usd: 0.0,
                images,
            },
            g.micros,
        )),
    }
}

fn finish(mut lines: Vec<(SpendLine, i64)>) -> Vec<SpendLine> {
    // Most spent first; sums in micros, turned into dollars once.
    lines.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.key.cmp(&b.0.key)));
    lines
        .into_iter()
        .map(|(line, m)| SpendLine {
            usd: usd(m),
            ..line
        })
        .collect()
}

/// A month's breakdowns from the ledger's groups, with every day of the month (the days
/// still to come at zero, so that every month's chart has the same shape).
pub fn summarize(groups: &[Group], month: &Month) -> SpendSummary {
    let (mut providers, mut models, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    for g in groups {
        add(
            &mut providers,
            g.provider.clone(),
            provider_label(&g.provider),
            g,
        );
        add(
            &mut models,
            format!("{}/{}", g.provider, g.model),
            model_label(&g.provider, &g.model),
            g,
        );
        let (key, label) = key_line(g);
        add(&mut keys, key, label, g);
    }
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let last = month.next.pred_opt().unwrap_or(month.first);
    let mut days = Vec::new();
    let mut day = month.first;
    while day <= last {
        let n = (day - epoch).num_days();
        let (m, images) = groups
            .iter()
            .filter(|g| g.day == n)
            .fold((0i64, 0i64), |(m, i), g| (m + g.micros, i + g.images));
        days.push(SpendLine {
            key: day.format("%Y-%m-%d").to_string(),
            label: day.format("%-d %b").to_string(),
            usd: usd(m),
            images: u64::try_from(images).unwrap_or(0),
        });
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    let total: i64 = groups.iter().map(|g| g.micros).sum();
    let images: i64 = groups.iter().map(|g| g.images).sum();
    SpendSummary {
        month: month.label.clone(),
        total_usd: usd(total),
        images: u64::try_from(images).unwrap_or(0),
        by_provider: finish(providers),
        by_model: finish(models),
        by_key: finish(keys),
        by_day: days,
        account_cap: None,
        instance_cap: None,
        pricing_version: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(provider: &str, model: &str, key: (&str, Option<&str>), day: i64, m: i64) -> Group {
        Group {
            provider: provider.into(),
            model: model.into(),
            key_source: key.0.into(),
            key_last4: key.1.map(Into::into),
            day,
            micros: m,
            images: 1,
        }
    }

    #[test]
    fn months_are_calendar_months_in_utc() {
        let dec = Month::parse(Some("2026-12")).unwrap();
        assert_eq!(dec.label, "2026-12");
        assert_eq!(dec.next, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(dec.to - dec.from, 31 * 86_400_000);
        assert_eq!(
            Month::parse(Some("2026-02")).unwrap().to - Month::parse(Some("2026-02")).unwrap().from,
            28 * 86_400_000
        );
        for bad in ["2026-13", "26-12", "2026-1", "december", "2026-12-01"] {
            assert!(Month::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_month_is_summed_by_provider_model_key_and_day() {
        let dec = Month::parse(Some("2026-12")).unwrap();
        let first = (dec.first - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
        let groups = vec![
            group(
                "openai",
                "gpt-image-1",
                ("own", Some("abcd")),
                first,
                166_250,
            ),
            group(
                "openai",
                "gpt-image-1",
                ("server", None),
                first + 2,
                166_250,
            ),
            group(
                "gemini",
                "gemini-2.5-flash-image",
                ("own", Some("wxyz")),
                first + 2,
                38_703,
            ),
            group("builtin", "portrait-1", ("none", None), first + 3, 0),
        ];
        let s = summarize(&groups, &dec);
        assert_eq!(s.total_usd, 0.371203);
        assert_eq!(s.images, 4);
        assert_eq!(s.by_provider[0].label, "OpenAI");
        assert_eq!(s.by_provider[0].usd, 0.3325);
        assert_eq!(s.by_provider[0].images, 2);
        assert_eq!(s.by_model[1].label, "Gemini 2.5 Flash Image");
        let keys: Vec<&str> = s.by_key.iter().map(|l| l.label.as_str()).collect();
        assert!(keys.contains(&"Your OpenAI key …abcd"));
        assert!(keys.contains(&"The server's OpenAI key"));
        // Every day of the month, zeros included.
        assert_eq!(s.by_day.len(), 31);
        assert_eq!(s.by_day[1].usd, 0.0);
        assert_eq!(s.by_day[2].usd, 0.204953);
        assert_eq!(s.by_day[0].label, "1 Dec");
        assert_eq!(s.by_day[30].label, "31 Dec");
        let feb = Month::parse(Some("2026-02")).unwrap();
        assert_eq!(summarize(&[], &feb).by_day.len(), 28);
    }
}
