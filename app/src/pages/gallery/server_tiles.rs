//! The server-rendered grid's tiles, written as one string of HTML (issue 17 §5).
//!
//! Before the page is interactive, and without JavaScript, the gallery is a plain grid of
//! square tiles. Once the page is hydrated the virtual grid replaces it at once
//! (`grid::Grid`), so those tiles never become live views: the browser hydrates their
//! `<ul>` and keeps what is inside as the server wrote it. Drawn through Leptos' renderer,
//! each tile was a view with a memo, three handlers and a picture component, built for the
//! page and thrown away: the largest part of the gallery's render. Here they are written
//! straight into one string in the same markup, every text and attribute escaped by
//! `html-escape` (the crate Leptos' own renderer escapes with), from the page's cards where
//! the resource keeps them (`first_page`).

use html_escape::{
    encode_double_quoted_attribute, encode_double_quoted_attribute_to_string, encode_text_to_string,
};
use model::ImageCard;

use crate::components::picture;

/// How wide a square tile is shown, for the browser to choose a picture's width.
const SQUARE_SIZES: &str = "(min-width: 64rem) 20vw, (min-width: 40rem) 30vw, 48vw";

/// The tiles of `images`, in order, as the `<li>`s of the server-rendered grid.
pub(super) fn tiles_html(images: &[ImageCard]) -> String {
    // About 1.1 KB a tile with a picture.
    let mut out = String::with_capacity(images.len() * 1200);
    for (index, image) in images.iter().enumerate() {
        write_tile(&mut out, image, index);
    }
    out
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    encode_double_quoted_attribute_to_string(value, out);
    out.push('"');
}

fn write_tile(out: &mut String, image: &ImageCard, index: usize) {
    // The label is in the tile four times, in attributes and in texts: escaped once, for an
    // attribute (which is also safe as text).
    let label = image.label();
    let label = encode_double_quoted_attribute(&label);
    let id = encode_double_quoted_attribute(&image.id);
    out.push_str("<li class=\"tile\" data-index=\"");
    out.push_str(&index.to_string());
    out.push_str("\"><button type=\"button\" class=\"tile__open\" aria-label=\"Open ");
    out.push_str(&label);
    out.push_str("\">");
    if image.has_media() {
        out.push_str("<img");
        attr(out, "src", &picture::variant(&image.id, 384, true));
        out.push_str(" srcset=\"");
        picture::push_srcset_attribute(out, &id, true);
        out.push_str("\" sizes=\"");
        out.push_str(SQUARE_SIZES);
        out.push_str("\" alt=\"");
        out.push_str(&label);
        out.push_str("\" width=\"256\" height=\"256\" loading=\"lazy\" decoding=\"async\">");
    } else {
        out.push_str("<span class=\"tile__placeholder\">");
        encode_text_to_string(image.status.as_str(), out);
        out.push_str("</span>");
    }
    out.push_str(
        "</button><label class=\"tile__select\"><input type=\"checkbox\">\
         <span class=\"visually-hidden\">Select ",
    );
    out.push_str(&label);
    out.push_str("</span></label>");
    if image.favorite {
        out.push_str(
            "<span class=\"tile__favorite\" title=\"Favourite\" aria-label=\"Favourite\">★</span>",
        );
    }
    out.push_str("<span class=\"tile__caption\">");
    out.push_str(&label);
    out.push_str("</span></li>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, title: &str, status: &str, favorite: bool) -> ImageCard {
        serde_json::from_value::<model::Image>(serde_json::json!({
            "id": id,
            "kind": "generated",
            "status": status,
            "title": title,
            "url": format!("/media/{id}"),
            "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z",
            "favorite": favorite,
        }))
        .expect("a valid image")
        .into()
    }

    #[test]
    fn a_tile_has_the_picture_checkbox_star_and_caption_of_its_image() {
        let html = tiles_html(&[
            image("img_a", "Red fox", "completed", true),
            image("img_b", "Owl", "error", false),
        ]);
        let (first, second) =
            html.split_at(html.find("<li class=\"tile\" data-index=\"1\"").unwrap());
        assert!(first.starts_with("<li class=\"tile\" data-index=\"0\"><button type=\"button\" class=\"tile__open\" aria-label=\"Open Red fox\"><img src=\"/media/img_a?w=384&amp;h=384&amp;fit=cover\" srcset=\"/media/img_a?w=160&amp;h=160&amp;fit=cover 160w, "), "{first}");
        assert!(first.contains(" 1024w\" sizes=\"(min-width: 64rem) 20vw, (min-width: 40rem) 30vw, 48vw\" alt=\"Red fox\" width=\"256\" height=\"256\" loading=\"lazy\" decoding=\"async\"></button>"), "{first}");
        assert!(
            first.contains(
                "<input type=\"checkbox\"><span class=\"visually-hidden\">Select Red fox</span>"
            ),
            "{first}"
        );
        assert!(first.contains("★"), "{first}");
        assert!(
            first.ends_with("<span class=\"tile__caption\">Red fox</span></li>"),
            "{first}"
        );
        // Not ready: its status instead of a picture, and no star.
        assert!(
            second.contains("<span class=\"tile__placeholder\">error</span></button>"),
            "{second}"
        );
        assert!(
            !second.contains("<img") && !second.contains("★"),
            "{second}"
        );
        assert!(
            second.ends_with("<span class=\"tile__caption\">Owl</span></li>"),
            "{second}"
        );
    }

    #[test]
    fn what_people_wrote_is_escaped_in_texts_and_attributes() {
        let hostile = "\"><script>alert(1)</script><b a='x'>&amp;";
        let html = tiles_html(&[image("img_x", hostile, "completed", false)]);
        assert!(
            !html.contains("<script>") && !html.contains("<b "),
            "{html}"
        );
        assert!(
            html.contains("aria-label=\"Open &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<span class=\"tile__caption\">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b a='x'&gt;&amp;amp;</span>"), "{html}");
        // One <li> and the elements of one tile, whatever the title held.
        assert_eq!(html.matches("<li").count(), 1);
        assert_eq!(html.matches("<span").count(), 2);
    }
}
