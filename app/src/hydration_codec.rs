//! How a large resource travels from the server to the browser (issue 17 §5).
//!
//! Leptos hands each resource's value to the browser inside the page, as a JavaScript
//! string literal written with Rust's `{:?}` (`hydration_context`): every `"` of the
//! encoded value becomes `\"`, one escape at a time. The gallery's first page is about 37 KB
//! of JSON holding some 5 000 double quotes, and writing that literal was a ninth of
//! everything the server executed for the page (`scripts/bench-ssr.sh --instructions`).
//!
//! [`QuotesSwappedJson`] is JSON with its two quote characters exchanged, `"` for `'` and
//! `'` for `"`: the literal then needs an escape only where the data itself holds an
//! apostrophe. Both are ASCII, so exchanging bytes keeps the text valid UTF-8, and the
//! exchange is its own inverse: the browser swaps them back and reads plain JSON. Nothing
//! else changes: the literal is still written and escaped by Leptos (`<` included), and
//! read by the browser's own parser. It carries the gallery's first page; every other
//! resource is a [`ServerResource`](crate::server_resource::ServerResource), whose answers
//! travel the same way. Both read with [`crate::json::from_slice`], the reader every answer
//! in the browser goes through: serde's decoders are compiled once per type *and* reader,
//! and Leptos' default codec (`JsonSerdeCodec`, `serde_json::from_str`) made every type a
//! resource fetched compiled twice into the browser's code.

use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// A resource's value as JSON with `"` and `'` exchanged; see the module's documentation.
pub struct QuotesSwappedJson;

/// Turns every `"` into `'` and every `'` into `"`. Two ASCII bytes exchanged for each
/// other: every UTF-8 sequence is left whole.
pub(crate) fn swap_quotes(bytes: &mut [u8]) {
    for b in bytes {
        *b = match *b {
            b'"' => b'\'',
            b'\'' => b'"',
            other => other,
        };
    }
}

/// What the gallery's first page of 100 cards takes, rounded up: the JSON is written into
/// one buffer without growing it on the way.
const EXPECTED_LEN: usize = 48 * 1024;

impl<T: Serialize> Encoder<T> for QuotesSwappedJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, Self::Error> {
        let mut json = Vec::with_capacity(EXPECTED_LEN);
        serde_json::to_writer(&mut json, val)?;
        swap_quotes(&mut json);
        String::from_utf8(json).map_err(<serde_json::Error as serde::ser::Error>::custom)
    }
}

impl<T: DeserializeOwned> Decoder<T> for QuotesSwappedJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, Self::Error> {
        let mut json = val.as_bytes().to_vec();
        swap_quotes(&mut json);
        // From bytes, like `Json` (see the module's documentation).
        crate::json::from_slice(&json)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Card {
        id: String,
        title: Option<String>,
        bytes: u64,
    }

    fn round_trip(card: &Card) -> Card {
        let encoded = <QuotesSwappedJson as Encoder<Card>>::encode(card).expect("encodes");
        <QuotesSwappedJson as Decoder<Card>>::decode(&encoded).expect("decodes")
    }

    #[test]
    fn whatever_people_wrote_comes_back_as_it_was() {
        for title in [
            "A knight's \"copper\" helmet",
            "back\\slash \\\" and \\' together",
            "'\"'\"''\"\"",
            "</script><script>alert('x')</script>",
            "café, 東京, 🦊, tab\there, new\nline",
            "",
        ] {
            let card = Card {
                id: "img_1".into(),
                title: Some(title.into()),
                bytes: 186_110,
            };
            assert_eq!(round_trip(&card), card, "{title}");
        }
    }

    /// The point of the codec: in the string literal Leptos writes (`{:?}` after `<` is
    /// escaped), plain JSON needs an escape per quote; this needs one per apostrophe.
    #[test]
    fn the_page_literal_has_an_escape_only_where_the_data_has_an_apostrophe() {
        let cards: Vec<Card> = (0..100)
            .map(|i| Card {
                id: format!("img_{i}"),
                title: Some(if i == 7 {
                    "Ada's portrait".into()
                } else {
                    format!("Portrait {i}")
                }),
                bytes: 1_000 + i,
            })
            .collect();
        let literal = |encoded: String| format!("{:?}", encoded.replace('<', "\\u003c"));
        let plain = literal(serde_json::to_string(&cards).expect("encodes"));
        let swapped = literal(<QuotesSwappedJson as Encoder<_>>::encode(&cards).expect("encodes"));
        assert!(plain.matches("\\\"").count() >= 100 * 8, "{plain}");
        assert_eq!(swapped.matches('\\').count(), 1, "{swapped}");
        assert!(swapped.contains("Ada\\\"s portrait"), "{swapped}");
        // And what the browser reads back out of that literal is the same list.
        let read_back: String = serde_json::from_str(&swapped).expect("a JSON string too");
        let decoded: Vec<Card> =
            <QuotesSwappedJson as Decoder<_>>::decode(&read_back).expect("decodes");
        assert_eq!(decoded, cards);
    }
}
