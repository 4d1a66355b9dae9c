//! Images from `/media`, responsive: `srcset` over the variant ladder, so that a page
//! never ships full-size originals as thumbnails. `format` is left to the server
//! (`auto`: WebP for browsers that take it).

use leptos::prelude::*;

/// The widths offered to the browser for a picture, from the server's ladder.
const PICTURE_WIDTHS: [&str; 6] = ["160", "256", "384", "512", "768", "1024"];

pub(crate) fn variant(id: &str, w: u32, square: bool) -> String {
    let mut out = String::with_capacity(id.len() + 32);
    push_variant(&mut out, id, &w.to_string(), square, "&");
    out
}

/// A variant's address; `amp` separates the query's parameters (`&`, or `&amp;` in HTML
/// written by hand).
fn push_variant(out: &mut String, id: &str, w: &str, square: bool, amp: &str) {
    out.push_str("/media/");
    out.push_str(id);
    out.push_str("?w=");
    out.push_str(w);
    out.push_str(amp);
    if square {
        out.push_str("h=");
        out.push_str(w);
        out.push_str(amp);
        out.push_str("fit=cover");
    } else {
        out.push_str("fit=contain");
    }
}

fn push_srcset(out: &mut String, id: &str, square: bool, amp: &str) {
    for (i, w) in PICTURE_WIDTHS.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_variant(out, id, w, square, amp);
        out.push(' ');
        out.push_str(w);
        out.push('w');
    }
}

/// `srcset` over the ladder, written into one string (a grid draws a hundred of them).
pub(crate) fn srcset(id: &str, square: bool) -> String {
    let mut out = String::with_capacity(PICTURE_WIDTHS.len() * (id.len() + 40));
    push_srcset(&mut out, id, square, "&");
    out
}

/// `srcset` over the ladder as the value of an HTML attribute written by hand: `id` must
/// be escaped for a double-quoted attribute already.
#[cfg(feature = "ssr")]
pub(crate) fn push_srcset_attribute(out: &mut String, escaped_id: &str, square: bool) {
    push_srcset(out, escaped_id, square, "&amp;");
}

/// A picture of an image, `sizes` telling the browser how wide it is shown.
#[allow(clippy::needless_pass_by_value)] // component properties are owned
#[component]
pub fn Picture(
    #[prop(into)] image_id: String,
    #[prop(into)] alt: String,
    /// How wide the picture is displayed, for the browser to choose a width.
    #[prop(into, default = "(min-width: 64rem) 20vw, (min-width: 40rem) 30vw, 48vw".to_owned())]
    sizes: String,
    /// Cropped to a square (grid tiles), or the whole image.
    #[prop(optional)]
    square: bool,
    /// Load at once (the picture is in view at first) instead of lazily.
    #[prop(optional)]
    eager: bool,
    #[prop(optional)] width: Option<u32>,
    #[prop(optional)] height: Option<u32>,
) -> impl IntoView {
    let srcset = srcset(&image_id, square);
    view! {
        <img
            src=variant(&image_id, 384, square)
            srcset=srcset
            sizes=sizes
            alt=alt
            width=width
            height=height
            loading=if eager { "eager" } else { "lazy" }
            decoding="async"
        />
    }
}

/// A character's avatar at a fixed size (1× and 2× for sharp screens), or its initial.
#[allow(clippy::needless_pass_by_value)] // component properties are owned
#[component]
pub fn Avatar(
    image_id: Option<String>,
    #[prop(into)] name: String,
    /// Displayed size in CSS pixels: 32, 48, 64, 96 or 128.
    #[prop(default = 64)]
    size: u32,
) -> impl IntoView {
    // In capitals by the stylesheet, like the header's (`text-transform`; no case tables
    // in the code).
    let initial: String = name.chars().next().map(String::from).unwrap_or_default();
    match image_id {
        Some(id) => {
            let one = format!("/media/{id}?w={size}&h={size}&fit=cover");
            let two = format!("/media/{id}?w={0}&h={0}&fit=cover", size * 2);
            view! {
                <img
                    class="avatar"
                    src=one.clone()
                    srcset=format!("{one} 1x, {two} 2x")
                    width=size
                    height=size
                    alt=format!("Avatar of {name}")
                    loading="lazy"
                    decoding="async"
                />
            }
            .into_any()
        }
        None => view! {
            <span class=format!("avatar avatar--empty avatar--{size}") aria-hidden="true">
                {initial}
            </span>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_names_every_width_of_the_ladder() {
        assert_eq!(
            srcset("img1", true),
            "/media/img1?w=160&h=160&fit=cover 160w, /media/img1?w=256&h=256&fit=cover 256w, \
             /media/img1?w=384&h=384&fit=cover 384w, /media/img1?w=512&h=512&fit=cover 512w, \
             /media/img1?w=768&h=768&fit=cover 768w, /media/img1?w=1024&h=1024&fit=cover 1024w"
        );
        assert_eq!(
            srcset("x", false).split(", ").next(),
            Some("/media/x?w=160&fit=contain 160w")
        );
        assert_eq!(variant("x", 384, true), "/media/x?w=384&h=384&fit=cover");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_srcset_attribute_is_the_srcset_escaped() {
        let mut out = String::new();
        push_srcset_attribute(&mut out, "img1", true);
        assert_eq!(
            out,
            html_escape::encode_double_quoted_attribute(&srcset("img1", true))
        );
        out.clear();
        push_srcset_attribute(&mut out, "img1", false);
        assert_eq!(
            out,
            html_escape::encode_double_quoted_attribute(&srcset("img1", false))
        );
    }
}
