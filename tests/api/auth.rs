//! Authentication and authorization (esmond-api.md §3): tokens on every request, anonymous
//! reads, authenticated writes, IP networks with trusted and untrusted `X-Forwarded-For`.

use esmond_metadata::auth::{generate_api_key, hash_api_key};
use esmond_server::Settings;
use esmond_tests::{TestApp, send, spawn_app, spawn_app_with};
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::throughput_body;

async fn post_as(app: &TestApp, headers: &[(&str, &str)], body: &Value) -> esmond_tests::Answer {
    let mut request = app
        .archive(Method::POST, "")
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

#[tokio::test]
async fn token_header_is_checked_on_every_request() {
    let app = spawn_app().await;
    let get_with =
        |value: &'static str| send(app.archive(Method::GET, "").header("authorization", value));
    get_with("Token 0000000000000000000000000000000000000000")
        .await
        .assert_detail(401, "Invalid token.");
    get_with("Token")
        .await
        .assert_detail(401, "Invalid token header. No credentials provided.");
    get_with("Token a b").await.assert_detail(
        401,
        "Invalid token header. Token string should not contain spaces.",
    );
    let bad = get_with("Token nope").await;
    assert_eq!(bad.header("www-authenticate"), Some("Token"));
    // Other schemes are ignored: the request is anonymous, and reads are open.
    assert_eq!(get_with("Basic dXNlcjpwYXNz").await.status, 200);
    assert_eq!(get_with("ApiKey user:key").await.status, 200);
    let own = send(
        app.archive(Method::GET, "")
            .header("authorization", format!("token {}", app.key)),
    )
    .await;
    assert_eq!(own.status, 200);
    let not_utf8 = HeaderValue::from_bytes(b"Token \xff\xfe").unwrap();
    send(
        app.archive(Method::GET, "")
            .header("authorization", not_utf8),
    )
    .await
    .assert_detail(
        401,
        "Invalid token header. Token string should not contain invalid characters.",
    );
}

#[tokio::test]
async fn disabled_users_are_refused() {
    let app = spawn_app_with(no_key_cache).await;
    let token = app.token();
    app.metadata.set_user_active("writer", false).await.unwrap();
    let refused = send(app.archive(Method::GET, "").header("authorization", &token)).await;
    refused.assert_detail(401, "User inactive or deleted.");
    app.metadata.set_user_active("writer", true).await.unwrap();
    assert_eq!(
        post_as(&app, &[("authorization", &token)], &throughput_body())
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn writes_need_an_identity() {
    let app = spawn_app().await;
    let anonymous = post_as(&app, &[], &throughput_body()).await;
    anonymous.assert_detail(401, "Authentication credentials were not provided.");
    assert_eq!(anonymous.header("www-authenticate"), Some("Token"));
    let basic = post_as(
        &app,
        &[("authorization", "Basic dXNlcjpwYXNz")],
        &throughput_body(),
    )
    .await;
    assert_eq!(basic.status, 401);
    let token = app.token();
    assert_eq!(
        post_as(&app, &[("authorization", &token)], &throughput_body())
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn revoked_and_removed_keys_stop_working() {
    let app = spawn_app_with(no_key_cache).await;
    let key = second_key(&app).await;
    let header = format!("Token {key}");
    assert_eq!(
        post_as(&app, &[("authorization", &header)], &throughput_body())
            .await
            .status,
        201
    );
    assert!(
        app.metadata
            .revoke_api_key(&hash_api_key(&key))
            .await
            .unwrap()
    );
    post_as(&app, &[("authorization", &header)], &throughput_body())
        .await
        .assert_detail(401, "Invalid token.");

    let token = app.token();
    app.metadata.remove_user("writer").await.unwrap();
    post_as(&app, &[("authorization", &token)], &throughput_body())
        .await
        .assert_detail(401, "Invalid token.");
}

#[tokio::test]
async fn ip_networks_authenticate_the_longest_prefix() {
    let app = spawn_app().await;
    // Without a network, the loopback client is anonymous.
    assert_eq!(post_as(&app, &[], &throughput_body()).await.status, 401);
    app.metadata
        .allow_network("wide", "127.0.0.0/8".parse().unwrap())
        .await
        .unwrap();
    app.metadata
        .allow_network("narrow", "127.0.0.1/32".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(post_as(&app, &[], &throughput_body()).await.status, 201);
    // A spoofed X-Forwarded-For from an untrusted peer is ignored: the peer address counts.
    let spoofed = post_as(
        &app,
        &[("x-forwarded-for", "192.0.2.1")],
        &throughput_body(),
    )
    .await;
    assert_eq!(spoofed.status, 201);

    let networks = app.metadata.list_networks().await.unwrap();
    assert_eq!(networks.len(), 2);
    assert!(
        app.metadata
            .remove_network("narrow", "127.0.0.1/32".parse().unwrap())
            .await
            .unwrap()
    );
    assert!(
        app.metadata
            .remove_network("wide", "127.0.0.0/8".parse().unwrap())
            .await
            .unwrap()
    );
    assert_eq!(post_as(&app, &[], &throughput_body()).await.status, 401);
}

#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    let app = spawn_app_with(|settings| {
        settings.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    app.metadata
        .allow_network("site", "198.51.100.0/24".parse().unwrap())
        .await
        .unwrap();
    let body = throughput_body();
    assert_eq!(
        post_as(&app, &[("x-forwarded-for", "198.51.100.20")], &body)
            .await
            .status,
        201
    );
    // The rightmost hop that is not a trusted proxy is the client.
    assert_eq!(
        post_as(
            &app,
            &[("x-forwarded-for", "198.51.100.20, 127.0.0.1")],
            &body
        )
        .await
        .status,
        201
    );
    assert_eq!(
        post_as(
            &app,
            &[("x-forwarded-for", "198.51.100.20, 203.0.113.5")],
            &body
        )
        .await
        .status,
        401
    );
    assert_eq!(
        post_as(&app, &[("x-forwarded-for", "not an address")], &body)
            .await
            .status,
        401
    );
    // Without the header the proxy itself is the client, and it has no network.
    assert_eq!(post_as(&app, &[], &body).await.status, 401);

    let untrusting = spawn_app().await;
    untrusting
        .metadata
        .allow_network("site", "198.51.100.0/24".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        post_as(&untrusting, &[("x-forwarded-for", "198.51.100.20")], &body)
            .await
            .status,
        401
    );
}

/// Returns a new key of a second user, "second".
async fn second_key(app: &TestApp) -> String {
    let key = generate_api_key();
    app.metadata
        .add_api_key("second", &hash_api_key(&key), "x")
        .await
        .unwrap();
    key
}

/// Every request asks the metadata store about its key, as esmond does.
fn no_key_cache(settings: &mut Settings) {
    settings.http.api_key_cache_secs = 0;
}

#[tokio::test]
async fn a_revoked_key_stops_working_once_its_cache_lifetime_ends() {
    let app = spawn_app_with(|settings| settings.http.api_key_cache_secs = 5).await;
    let key = second_key(&app).await;
    let header = format!("Token {key}");
    let (headers, body) = ([("authorization", header.as_str())], throughput_body());
    let post = || post_as(&app, &headers, &body);
    assert_eq!(post().await.status, 201);
    assert!(
        app.metadata
            .revoke_api_key(&hash_api_key(&key))
            .await
            .unwrap()
    );
    // The node still trusts the key it checked a moment ago...
    let trusted = post().await;
    assert_ne!(trusted.status, 401, "{}", trusted.text);
    // ...and refuses it once the lifetime is over.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let answer = post().await;
        if answer.status == 401 {
            answer.assert_detail(401, "Invalid token.");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked key still works after 30 s"
        );
    }
}
