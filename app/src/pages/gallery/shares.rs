//! The lightbox's share links: make a link for a chosen time, see the image's links and
//! revoke any of them. The list is read from the server each time the panel is drawn, so
//! a link made or revoked in another tab shows too.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use model::ShareLink;

use crate::{
    api::library::{ImageShares, RevokeShare, ShareImage},
    browser_resource::browser_resource,
    components::{form_error, handler, FormAction, FormError, PostForm},
    format::when,
    live::now,
};

/// How long a new link works: the choices, in hours (the API takes 1 to 720).
pub const DURATIONS: [(u32, &str); 4] = [
    (1, "1 hour"),
    (24, "1 day"),
    (168, "7 days"),
    (720, "30 days"),
];

/// One link as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRow {
    pub id: String,
    pub url: String,
    /// False once it no longer opens the image (revoked or expired).
    pub active: bool,
    /// What the row says about it: until when it works, or why it no longer does.
    pub status: String,
}

/// The rows to show, active links first (newest first within each group).
pub fn share_rows(links: &[ShareLink], now: DateTime<Utc>) -> Vec<ShareRow> {
    let row = |l: &ShareLink| {
        let active = l.is_active(now);
        let status = match l.revoked_at {
            Some(at) => format!("Revoked {}", when(at)),
            None if active => format!("Works until {}", when(l.expires_at)),
            None => format!("Expired {}", when(l.expires_at)),
        };
        ShareRow {
            id: l.id.clone(),
            url: l.url.clone(),
            active,
            status,
        }
    };
    let (mut active, inactive): (Vec<_>, Vec<_>) = links.iter().map(row).partition(|r| r.active);
    active.extend(inactive);
    active
}

#[component]
pub(super) fn SharePanel(image_id: String) -> impl IntoView {
    let create = FormAction::<ShareImage>::new();
    let revoke = FormAction::<RevokeShare>::new();
    let listed = {
        let image_id = image_id.clone();
        browser_resource(move || {
            let _ = (create.version().get(), revoke.version().get());
            ImageShares {
                id: image_id.clone(),
            }
        })
    };
    view! {
        <section class="share-panel" aria-label="Share links">
            <PostForm action=create class="form form--inline">
                <input type="hidden" name="id" value=image_id />
                <label>
                    <span class="filters__label">"Link works for"</span>
                    <select name="expires_in_hours">
                        {DURATIONS.iter().map(|(hours, words)| view! {
                            <option value=hours.to_string() selected=*hours == 24>{*words}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button" disabled=move || create.pending().get()>"Make a share link"</button>
            </PostForm>
            <FormError error=form_error(create) />
            <FormError error=form_error(revoke) />
            <Transition fallback=|| view! { <p class="muted">"Loading links…"</p> }>
                {move || Suspend::new(async move {
                    match listed.await {
                        Err(e) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                        Ok(links) if links.is_empty() => view! { <p class="muted">"No share links. Anyone with a link can see the image without signing in, until it expires or you revoke it."</p> }.into_any(),
                        Ok(links) => view! {
                            <ul class="item-list share-list">
                                {share_rows(&links, now()).into_iter().map(|r| view! { <Row row=r revoke=revoke /> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
#[allow(clippy::needless_pass_by_value)]
fn Row(row: ShareRow, revoke: FormAction<RevokeShare>) -> impl IntoView {
    let ShareRow {
        id,
        url,
        active,
        status,
    } = row;
    view! {
        <li class="item-list__row" class:share-list__row--inactive=!active>
            {if active {
                view! {
                    <label class="share-link">
                        <span class="filters__label">{status}</span>
                        <input type="text" readonly=true value=url aria-label="Share link" on:focus=handler(move |ev: leptos::ev::FocusEvent| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            input.select();
                        }) />
                    </label>
                    <PostForm action=revoke class="form form--inline">
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="button button--danger" disabled=move || revoke.pending().get()>"Revoke"</button>
                    </PostForm>
                }.into_any()
            } else {
                view! { <p class="muted">{status}</p> }.into_any()
            }}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str, expires_in_h: i64, revoked: bool, now: DateTime<Utc>) -> ShareLink {
        ShareLink {
            id: id.to_owned(),
            image_id: "img".to_owned(),
            url: format!("https://x/media/img?share={id}"),
            created_at: now - chrono::Duration::hours(1),
            expires_at: now + chrono::Duration::hours(expires_in_h),
            revoked_at: revoked.then_some(now - chrono::Duration::minutes(5)),
        }
    }

    #[test]
    fn active_links_come_first_and_each_says_where_it_stands() {
        let now = DateTime::from_timestamp(1_763_820_300, 0).unwrap();
        let links = [
            link("revoked", 5, true, now),
            link("expired", -2, false, now),
            link("active", 24, false, now),
        ];
        let rows = share_rows(&links, now);
        let ids: Vec<_> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["active", "revoked", "expired"]);
        assert!(rows[0].active && !rows[1].active && !rows[2].active);
        assert_eq!(rows[0].status, "Works until 2025-11-23 14:05 UTC");
        assert_eq!(rows[1].status, "Revoked 2025-11-22 14:00 UTC");
        assert_eq!(rows[2].status, "Expired 2025-11-22 12:05 UTC");
    }

    #[test]
    fn the_durations_are_what_the_api_accepts() {
        assert!(DURATIONS.iter().all(|(h, _)| (1..=720).contains(h)));
    }
}
