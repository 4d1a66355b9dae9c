//! Reference images dropped on the Studio before they are uploaded: kept in the browser's
//! IndexedDB, so that a reload or a lost connection does not lose them, and removed once
//! the server has them. (A thin wrapper over web-sys: the IndexedDB crates bring an async
//! runtime into the wasm for what is three calls here.)

/// A file waiting to be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub name: String,
    /// An object URL of the file, for its thumbnail.
    pub preview: String,
}

#[cfg(feature = "hydrate")]
pub use browser::{list, remove, save, upload};

/// The server's render has no drafts: they live in the browser.
#[cfg(not(feature = "hydrate"))]
mod server {
    use super::Draft;

    pub async fn list() -> Vec<Draft> {
        Vec::new()
    }

    pub async fn save(_file: web_sys::File) -> Result<Draft, String> {
        Err("Dropping files needs JavaScript.".to_owned())
    }

    pub async fn remove(_id: String) {}

    pub async fn upload(_ids: Vec<String>) -> Result<Vec<model::Image>, String> {
        Err("Uploading needs JavaScript.".to_owned())
    }
}

#[cfg(not(feature = "hydrate"))]
pub use server::{list, remove, save, upload};

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

    use super::Draft;

    const DB: &str = "avatar-studio";
    const STORE: &str = "reference-drafts";

    /// Waits for an IndexedDB request.
    async fn done(request: &IdbRequest) -> Result<JsValue, String> {
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            let ok_request = request.clone();
            let ok = Closure::once_into_js(move |_: web_sys::Event| {
                let _ = resolve.call1(
                    &JsValue::NULL,
                    &ok_request.result().unwrap_or(JsValue::UNDEFINED),
                );
            });
            let failed = Closure::once_into_js(move |_: web_sys::Event| {
                let _ = reject.call0(&JsValue::NULL);
            });
            request.set_onsuccess(Some(ok.unchecked_ref()));
            request.set_onerror(Some(failed.unchecked_ref()));
        });
        JsFuture::from(promise)
            .await
            .map_err(|_| "The browser's storage refused the request.".to_owned())
    }

    async fn open() -> Result<IdbDatabase, String> {
        let unavailable = || "This browser keeps no drafts (IndexedDB is off).".to_owned();
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or_else(unavailable)?;
        let request = factory.open_with_u32(DB, 1).map_err(|_| unavailable())?;
        let upgrading = request.clone();
        let upgrade = Closure::once_into_js(move |_: web_sys::Event| {
            if let Ok(db) = upgrading.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                let _ = db.create_object_store(STORE);
            }
        });
        request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
        done(&request)
            .await?
            .dyn_into::<IdbDatabase>()
            .map_err(|_| unavailable())
    }

    fn store(
        db: &IdbDatabase,
        mode: IdbTransactionMode,
    ) -> Result<web_sys::IdbObjectStore, String> {
        db.transaction_with_str_and_mode(STORE, mode)
            .and_then(|t| t.object_store(STORE))
            .map_err(|_| "The browser's storage is not available.".to_owned())
    }

    fn field(value: &JsValue, name: &str) -> JsValue {
        Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    fn preview(blob: &web_sys::Blob) -> String {
        web_sys::Url::create_object_url_with_blob(blob).unwrap_or_default()
    }

    /// Every waiting file, oldest first.
    pub async fn list() -> Vec<Draft> {
        let Ok(db) = open().await else {
            return Vec::new();
        };
        let Ok(request) = store(&db, IdbTransactionMode::Readonly).and_then(|s| {
            s.get_all()
                .map_err(|_| "The browser's storage is not available.".to_owned())
        }) else {
            return Vec::new();
        };
        let Ok(all) = done(&request).await else {
            return Vec::new();
        };
        let mut drafts: Vec<(f64, Draft)> = Array::from(&all)
            .iter()
            .filter_map(|v| {
                let blob = field(&v, "file").dyn_into::<web_sys::Blob>().ok()?;
                Some((
                    field(&v, "added").as_f64().unwrap_or_default(),
                    Draft {
                        id: field(&v, "id").as_string()?,
                        name: field(&v, "name").as_string().unwrap_or_default(),
                        preview: preview(&blob),
                    },
                ))
            })
            .collect();
        drafts.sort_by(|a, b| a.0.total_cmp(&b.0));
        drafts.into_iter().map(|(_, d)| d).collect()
    }

    /// Keeps `file` until it is uploaded.
    pub async fn save(file: web_sys::File) -> Result<Draft, String> {
        let db = open().await?;
        let id = format!(
            "{}-{}",
            js_sys::Date::now() as u64,
            (js_sys::Math::random() * 1e9) as u64
        );
        let value = Object::new();
        for (k, v) in [
            ("id", JsValue::from_str(&id)),
            ("name", JsValue::from_str(&file.name())),
            ("added", JsValue::from_f64(js_sys::Date::now())),
            ("file", file.clone().into()),
        ] {
            let _ = Reflect::set(&value, &JsValue::from_str(k), &v);
        }
        let request = store(&db, IdbTransactionMode::Readwrite)?
            .put_with_key(&value, &JsValue::from_str(&id))
            .map_err(|_| "The browser could not keep this file.".to_owned())?;
        done(&request).await?;
        Ok(Draft {
            id,
            name: file.name(),
            preview: preview(&file),
        })
    }

    pub async fn remove(id: String) {
        if let Ok(db) = open().await {
            if let Ok(request) = store(&db, IdbTransactionMode::Readwrite)
                .and_then(|s| s.delete(&JsValue::from_str(&id)).map_err(|_| String::new()))
            {
                let _ = done(&request).await;
            }
        }
    }

    /// Uploads the drafts `ids` in one request (all or nothing, like the API), and forgets
    /// them once the server kept them. Answers the new images, in order.
    pub async fn upload(ids: Vec<String>) -> Result<Vec<model::Image>, String> {
        let db = open().await?;
        let form =
            web_sys::FormData::new().map_err(|_| "This browser cannot upload.".to_owned())?;
        for id in &ids {
            let request = store(&db, IdbTransactionMode::Readonly)?
                .get(&JsValue::from_str(id))
                .map_err(|_| "A dropped file is gone from the browser's storage.".to_owned())?;
            let value = done(&request).await?;
            let blob = field(&value, "file")
                .dyn_into::<web_sys::Blob>()
                .map_err(|_| "A dropped file is gone from the browser's storage.".to_owned())?;
            let name = field(&value, "name").as_string().unwrap_or_default();
            form.append_with_blob_and_filename("file", &blob, &name)
                .map_err(|_| "This file cannot be read.".to_owned())?;
        }
        fn lost<E>(_: E) -> String {
            "The upload did not reach the server; your files are kept. Try again.".to_owned()
        }
        let response = gloo_net::http::Request::post("/api/v1/uploads")
            .body(form)
            .map_err(lost)?
            .send()
            .await
            .map_err(lost)?;
        let status = response.status();
        // Read as every answer in the browser is read (`crate::json`).
        let text = response.text().await.map_err(lost)?;
        if status != 201 {
            return Err(
                match crate::json::from_slice::<model::ApiError>(text.as_bytes()) {
                    Ok(e) => e.error.message,
                    Err(_) => format!("The server answered {status}."),
                },
            );
        }
        let uploaded: model::UploadResult =
            crate::json::from_slice(text.as_bytes()).map_err(lost)?;
        for id in ids {
            remove(id).await;
        }
        Ok(uploaded.items)
    }
}
