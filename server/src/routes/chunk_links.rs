//! A page's head names the chunks of WebAssembly its code needs, so that a first visit
//! fetches them beside the main module instead of one after another as hydration reaches
//! them.
//!
//! Which chunks those are is known only once the page is rendered: every `#[lazy]`
//! function the render called (a route's view, the dashboard) notes its name in a
//! [`PrefetchLazyFn`] set, and the build's split manifest (`__wasm_split_manifest.json`,
//! written by `cargo leptos build --split`) lists the chunks each function needs. Leptos
//! writes those links itself, each through a `leptos_meta` `<Link>` component with fifteen
//! optional attributes: for the gallery's 84 links, a tenth of its whole render (README,
//! "Server-side rendering", item 13). Here each chunk's link is written once, when the
//! server starts, and a page gets the links of the functions it called, each chunk once,
//! inserted into its head as it is sent whole ([`super::whole_pages`]). The request
//! carries the set the render notes into: the middleware puts a fresh one in the request's
//! extensions and [`note_lazy_calls`], run in every render's context, provides it in place
//! of Leptos' own, which stays empty, so Leptos writes no links of its own.
//!
//! Without a manifest (a build without `--split`, where every chunk is part of the one
//! module) or with hashed file names (not used here; Leptos then reads the names from its
//! hash file), nothing is taken over and Leptos does as it always does.

use std::{
    collections::{BTreeSet, HashMap},
    path::Path,
};

use axum::body::Bytes;
use leptos::{config::LeptosOptions, prelude::*, PrefetchLazyFn};

/// Each chunk's link, and which chunks each lazily loaded function needs.
#[derive(Debug)]
pub struct ChunkLinks {
    /// The chunks (indices into `links`) each function needs, by the function's name.
    needs: HashMap<String, Vec<usize>>,
    /// One `<link rel="preload">` per chunk, in the order of their numbers.
    links: Vec<String>,
    /// The module that loads the chunks, preloaded whenever a page needs any.
    loader: String,
}

impl ChunkLinks {
    /// The links of the build the server serves, if it was split.
    pub fn load(options: &LeptosOptions) -> Option<Self> {
        if options.hash_files {
            return None;
        }
        let pkg = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        let manifest = std::fs::read_to_string(pkg.join("__wasm_split_manifest.json")).ok()?;
        match serde_json::from_str(&manifest) {
            Ok(manifest) => Some(Self::new(&format!("/{}", options.site_pkg_dir), &manifest)),
            Err(e) => {
                // Leptos, reading the same file, would stop the server; its pages then name
                // no chunks and still work, only slower on a first visit.
                tracing::warn!(error = %e, "the split manifest could not be read");
                None
            }
        }
    }

    /// The links of a manifest's chunks, served under `pkg_url`.
    pub fn new(pkg_url: &str, manifest: &HashMap<String, Vec<String>>) -> Self {
        // In the order the manifest lists a function's chunks (by their number, its own
        // module last), the order the loader asks for them in: on a slow network the
        // first it needs then arrive first (`/gallery`'s time to interactive under
        // throttling was 0.18 s longer with the names in plain string order).
        let mut chunks: Vec<&str> = manifest.values().flatten().map(String::as_str).collect();
        chunks.sort_unstable_by_key(|chunk| numbered(chunk));
        chunks.dedup();
        let index: HashMap<&str, usize> = chunks.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let needs = manifest
            .iter()
            .map(|(function, chunks)| {
                (
                    function.clone(),
                    chunks.iter().map(|c| index[c.as_str()]).collect(),
                )
            })
            .collect();
        let links = chunks
            .iter()
            .map(|chunk| {
                format!(
                    "<link rel=\"preload\" href=\"{pkg_url}/{chunk}.wasm\" as=\"fetch\" \
                     type=\"application/wasm\" crossorigin>"
                )
            })
            .collect();
        // The name Leptos gives the loader when file names are not hashed.
        let loader = format!(
            "<link rel=\"modulepreload\" href=\"{pkg_url}/__wasm_split.______________________.js\" \
             crossorigin>"
        );
        Self {
            needs,
            links,
            loader,
        }
    }

    /// The links of every chunk the functions called need, each once; `None` when they
    /// need none (or nothing was called).
    pub fn links_for<'a>(&self, called: impl IntoIterator<Item = &'a str>) -> Option<Bytes> {
        let chunks: BTreeSet<usize> = called
            .into_iter()
            .filter_map(|function| self.needs.get(function))
            .flatten()
            .copied()
            .collect();
        if chunks.is_empty() {
            return None;
        }
        let length = chunks.iter().map(|&c| self.links[c].len()).sum::<usize>();
        let mut html = String::with_capacity(length + self.loader.len());
        for chunk in chunks {
            html.push_str(&self.links[chunk]);
        }
        html.push_str(&self.loader);
        Some(Bytes::from(html))
    }

    /// The links a render that noted its calls in `called` needs.
    pub fn links_of(&self, called: &PrefetchLazyFn) -> Option<Bytes> {
        let called = called.0.try_read_value()?;
        self.links_for(called.iter().copied())
    }
}

/// A chunk's name as its stem and its number (`chunk_12` before `chunk_100`; the
/// functions' own modules, `split_…`, after every `chunk_…`).
fn numbered(name: &str) -> (&str, usize, &str) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &name[stem.len()..];
    (stem, digits.len(), digits)
}

/// Provides, in a page's render, the set its request carries (put there by
/// [`super::whole_pages::send_whole`] when the build is split), so that the `#[lazy]`
/// functions the render calls are noted there instead of in Leptos' own set.
pub fn note_lazy_calls() {
    // Read in place: `use_context` would copy the request's headers and extensions.
    let carried = with_context::<http::request::Parts, _>(|parts| {
        parts.extensions.get::<PrefetchLazyFn>().cloned()
    })
    .flatten();
    if let Some(called) = carried {
        provide_context(called);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> HashMap<String, Vec<String>> {
        HashMap::from([
            (
                "gallery".to_owned(),
                vec![
                    "chunk_2".to_owned(),
                    "chunk_10".to_owned(),
                    "split_gallery".to_owned(),
                ],
            ),
            (
                "live".to_owned(),
                vec!["chunk_2".to_owned(), "split_live".to_owned()],
            ),
            ("empty".to_owned(), vec![]),
        ])
    }

    fn hrefs(links: &Bytes) -> Vec<String> {
        let html = std::str::from_utf8(links).unwrap();
        html.split("href=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
            .collect()
    }

    #[test]
    fn a_page_names_each_chunk_its_functions_need_once_and_the_loader() {
        let links = ChunkLinks::new("/pkg", &manifest());
        let both = links.links_for(["live", "gallery"]).unwrap();
        assert_eq!(
            hrefs(&both),
            [
                "/pkg/chunk_2.wasm",
                "/pkg/chunk_10.wasm",
                "/pkg/split_gallery.wasm",
                "/pkg/split_live.wasm",
                "/pkg/__wasm_split.______________________.js",
            ]
        );
        let html = std::str::from_utf8(&both).unwrap();
        assert!(html.starts_with(
            "<link rel=\"preload\" href=\"/pkg/chunk_2.wasm\" as=\"fetch\" \
             type=\"application/wasm\" crossorigin>"
        ));
        assert!(html.ends_with("<link rel=\"modulepreload\" href=\"/pkg/__wasm_split.______________________.js\" crossorigin>"));

        let live = links.links_for(["live"]).unwrap();
        assert_eq!(
            hrefs(&live),
            [
                "/pkg/chunk_2.wasm",
                "/pkg/split_live.wasm",
                "/pkg/__wasm_split.______________________.js"
            ]
        );
    }

    #[test]
    fn a_page_that_needs_no_chunk_names_none() {
        let links = ChunkLinks::new("/pkg", &manifest());
        assert!(links.links_for([]).is_none());
        assert!(links.links_for(["empty", "not-in-the-manifest"]).is_none());
    }

    #[test]
    fn the_calls_a_render_noted_are_read_from_its_set() {
        let links = ChunkLinks::new("/pkg", &manifest());
        let called = PrefetchLazyFn::default();
        assert!(links.links_of(&called).is_none());
        called.0.write_value().insert("gallery");
        assert_eq!(hrefs(&links.links_of(&called).unwrap()).len(), 4);
    }
}
