//! The gallery's first page, read for the grid.

use leptos::prelude::*;
use model::{Image, ImageCard, Page};

use crate::{hydration_codec::QuotesSwappedJson, markup::Markup, AppError};

/// The first page as the gallery keeps it (`GalleryPage`).
pub(super) type FirstPageResource = Resource<Result<Page<ImageCard>, AppError>, QuotesSwappedJson>;

/// What the first page holds, as the grid is drawn from it.
pub(super) enum FirstPage {
    Empty,
    Images {
        /// The page after it.
        next_cursor: Option<String>,
        /// The plain grid's tiles, written by the server (`server_tiles`); empty in the
        /// browser, which keeps the tiles the server wrote.
        tiles: Markup,
        /// The page's images, for the browser's grid to merge live changes into; empty on
        /// the server, which draws only the plain grid.
        read: Vec<Image>,
    },
}

impl FirstPage {
    /// A page of `count` images, with what the grid is drawn from.
    fn of(count: usize, next_cursor: Option<String>, tiles: Markup, read: Vec<Image>) -> Self {
        if count == 0 {
            Self::Empty
        } else {
            Self::Images {
                next_cursor,
                tiles,
                read,
            }
        }
    }
}

/// Waits for the first page; its view is then built once (`suspend::read`). The server's
/// render polls this twice and reads the page where the resource keeps it, writing the
/// tiles from it: copied out, converted to images and merged, the hundred images were a
/// tenth of the server's work for the page (issue 17 §5). The browser takes its own copy
/// for the grid, through the resource's future, which also ties the resource to the
/// `<Transition>`.
pub(super) async fn first_page(first: FirstPageResource) -> Result<FirstPage, AppError> {
    #[cfg(feature = "ssr")]
    {
        // Ready, and past the dry walk, before anything is read out of it.
        crate::suspend::read(async move {
            first.by_ref().await;
        })
        .await;
        match &*first.by_ref().await {
            Ok(page) => {
                let tiles = super::server_tiles::tiles_html(&page.items).into();
                Ok(FirstPage::of(
                    page.items.len(),
                    page.next_cursor.clone(),
                    tiles,
                    Vec::new(),
                ))
            }
            Err(e) => Err(e.clone()),
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        // The page is this read's own copy: its cards become the grid's images.
        crate::suspend::read(first).await.map(|page| {
            let (count, next_cursor) = (page.items.len(), page.next_cursor);
            FirstPage::of(
                count,
                next_cursor,
                Markup::default(),
                model::images_of(page.items),
            )
        })
    }
}
