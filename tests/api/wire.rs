//! The wire format of esmond-api.md §1–§2: exact headers, redirects, negotiation, methods.

use esmond_tests::{send, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::throughput_body;

#[tokio::test]
async fn responses_carry_esmond_headers() {
    let app = spawn_app().await;
    let key = app.create_metadata(&throughput_body()).await;
    let cases = [
        ("", "GET, POST, HEAD, OPTIONS"),
        (&*format!("{key}/"), "GET, PUT, PATCH, HEAD, OPTIONS"),
        (&*format!("{key}/throughput"), "GET, POST, HEAD, OPTIONS"),
        (
            &*format!("{key}/throughput/averages"),
            "GET, POST, HEAD, OPTIONS",
        ),
        ("nokey/", "GET, PUT, PATCH, HEAD, OPTIONS"),
    ];
    for (path, allow) in cases {
        let answer = app.get(path).await;
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert_eq!(answer.header("allow"), Some(allow), "{path}");
        assert_eq!(answer.header("vary"), Some("Accept"), "{path}");
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert!(
            !answer.text.contains(": ") && !answer.text.ends_with('\n'),
            "compact json: {}",
            answer.text
        );
    }
    let root = send(app.request(
        Method::GET,
        &format!("{}{}/perfsonar/", app.origin, app.prefix),
    ))
    .await;
    assert_eq!(root.json(), json!({"archive": app.archive_url("")}));
    assert_eq!(root.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn missing_slashes_redirect_reads_but_never_writes() {
    let app = spawn_app().await;
    let base = format!("{}{}/perfsonar/archive", app.origin, app.prefix);
    let answer = send(app.request(Method::GET, &format!("{base}?event-type=throughput"))).await;
    assert_eq!(answer.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        answer.header("location"),
        Some(format!("{}/perfsonar/archive/?event-type=throughput", app.prefix).as_str())
    );
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(answer.text, "");
    let detail = send(app.request(Method::GET, &format!("{base}/somekey"))).await;
    assert_eq!(detail.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        detail.header("location"),
        Some(format!("{}/perfsonar/archive/somekey/", app.prefix).as_str())
    );

    // A POST without the slash is served in place: a redirect would drop its body.
    let created = send(
        app.request(Method::POST, &base)
            .header("authorization", app.token())
            .header("content-type", "application/json")
            .body(throughput_body().to_string()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let key = created.json()["metadata-key"].as_str().unwrap().to_owned();
    let patched = send(
        app.request(Method::PATCH, &format!("{base}/{key}"))
            .header("authorization", app.token()),
    )
    .await;
    patched.assert_detail(405, "does not support PATCH verb");
}

#[tokio::test]
async fn negotiation_and_methods() {
    let app = spawn_app().await;
    let get_accept =
        |accept: &'static str| send(app.archive(Method::GET, "").header("accept", accept));
    assert_eq!(get_accept("application/json").await.status, 200);
    assert_eq!(
        get_accept("text/html,application/xhtml+xml,*/*;q=0.8")
            .await
            .status,
        200
    );
    get_accept("text/plain")
        .await
        .assert_detail(406, "Could not satisfy the request Accept header.");
    assert_eq!(app.get("?format=json").await.status, 200);
    app.get("?format=xml")
        .await
        .assert_detail(404, "Not found.");

    let head = send(app.archive(Method::HEAD, "")).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.text, "");
    let options = send(app.archive(Method::OPTIONS, "")).await;
    assert_eq!(options.status, 200);
    assert_eq!(options.header("allow"), Some("GET, POST, HEAD, OPTIONS"));
    assert!(options.json().is_object());

    // Permission comes before the method check, as in esmond.
    send(app.archive(Method::DELETE, ""))
        .await
        .assert_detail(401, "Authentication credentials were not provided.");
    send(
        app.archive(Method::DELETE, "")
            .header("authorization", app.token()),
    )
    .await
    .assert_detail(405, "Method \"DELETE\" not allowed.");
    send(
        app.archive(Method::PUT, "")
            .header("authorization", app.token()),
    )
    .await
    .assert_detail(405, "Method \"PUT\" not allowed.");
}

#[tokio::test]
async fn unknown_paths_get_django_html_404() {
    let app = spawn_app().await;
    for path in [
        "a/b/c/d/e/",
        "has%20space/throughput",
        "key.with.dots/",
        "key/throughput/averages/3600/extra",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.header("content-type"), Some("text/html"), "{path}");
        assert_eq!(
            answer.text,
            "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
        );
    }
    let unprefixed =
        send(app.request(Method::GET, &format!("{}/perfsonar/archive/", app.origin))).await;
    assert_eq!(unprefixed.status, StatusCode::NOT_FOUND);
    let nested = send(app.request(
        Method::GET,
        &format!("{}/x{}/perfsonar/archive/", app.origin, app.prefix),
    ))
    .await;
    assert_eq!(nested.status, StatusCode::NOT_FOUND);
    // Dots are fine below a key.
    assert_eq!(
        app.get("key.with.dots/throughput").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let app = spawn_app().await;
    let answer = send(
        app.archive(Method::OPTIONS, "")
            .header("origin", "https://graphs.example.net")
            .header("access-control-request-method", "GET"),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        answer.header("access-control-allow-methods"),
        Some("GET, POST, HEAD, OPTIONS")
    );
    assert!(
        answer
            .header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
}
