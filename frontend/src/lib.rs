//! The browser entry point: hydrate the server-rendered page, once the chunks of its
//! lazily loaded route are in (`app::routes`), then mark it interactive. Everything else
//! lives in the `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // What `leptos::mount::hydrate_lazy` does, with a step after the page is hydrated.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let page = leptos::mount::hydrate_from_async(
            leptos::prelude::document()
                .body()
                .expect("a page has a body"),
            app::App,
        )
        .await;
        page.forget();
        app::mark_hydrated();
    });
}
