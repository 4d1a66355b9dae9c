//! How pages travel: rendered whole on the server and sent in one piece, with their length.

use crate::common::TestServer;
use backend::db::Dialect;
use reqwest::StatusCode;

/// Leptos streams a page in chunks (the shell, each part whose data arrived, the hydration
/// data); the server gathers them and sends the page whole (`routes::whole_pages`): one
/// write instead of several, and a length instead of chunked encoding. The page is all
/// there, its hydration data included.
#[tokio::test]
async fn pages_are_sent_whole_with_their_length() {
    let server = TestServer::start(Dialect::Sqlite).await;
    let cookie = server.sign_up("whole@example.com").await;
    for (path, cookie) in [("/", None), ("/login", None), ("/gallery", Some(&cookie))] {
        let mut request = server.client.get(server.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let headers = res.headers().clone();
        assert!(
            headers.get("transfer-encoding").is_none(),
            "{path}: {headers:?}"
        );
        let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        let html = res.text().await.unwrap();
        assert_eq!(html.len(), length, "{path}");
        // The last of Leptos' chunks (the scripts come after `</html>`) is there too.
        assert!(html.contains("__RESOLVED_RESOURCES"), "{path}: {html}");
        assert!(
            html.ends_with("__INCOMPLETE_CHUNKS=[];</script>"),
            "{path}: {html}"
        );
    }
    server.stop().await;
}
