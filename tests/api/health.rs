//! `/healthz`, `/readyz` and graceful shutdown, as a balancer sees them.

use std::net::SocketAddr;
use std::time::Duration;

use esmond_server::{Application, Settings};
use esmond_tests::{receive, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer_outside_the_archive() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let answer = receive(app.request(Method::GET, &format!("{}{path}", app.origin))).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.json(), json!({"status": "ok"}));
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
    // Not under the archive prefix, and not affected by a bad token.
    let checked = receive(
        app.request(Method::GET, &format!("{}/readyz", app.origin))
            .header("authorization", "Token bad"),
    )
    .await;
    assert_eq!(checked.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_fails_readiness_first_then_stops() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.storage.data_dir = data_dir.path().to_owned();
    settings.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.http.shutdown_grace_secs = 2;
    let application = Application::build(&settings).await.unwrap();
    let origin = format!("http://{}", application.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let ready = || client.get(format!("{origin}/readyz")).send();
    assert_eq!(ready().await.unwrap().status(), 200);

    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Still listening, but no longer ready: the balancer moves traffic away.
    let draining = ready().await.unwrap();
    assert_eq!(draining.status(), 503);
    assert_eq!(
        draining.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "unavailable", "reason": "shutting down"})
    );
    assert_eq!(
        client
            .get(format!("{origin}/esmond/perfsonar/archive/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // After the grace period the server stops by itself.
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped")
        .unwrap()
        .unwrap();
    assert!(ready().await.is_err(), "the listener is closed");
}
