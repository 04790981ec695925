//! Helpers for the black-box suites: start a real esmond-rs on a free loopback port with a fresh
//! data directory, talk to it over HTTP, and load esmond's own fixtures.
//!
//! Layout: [`TestApp`] is one running server; [`fixtures`] reads esmond's Django fixtures.

pub mod fixtures;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use esmond_api::UpdateTracker;
use esmond_metadata::MetadataStore;
use esmond_metadata::auth::{generate_api_key, hash_api_key, key_hint};
use esmond_server::{Application, Settings, open_metadata};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sqlx::{AssertSqlSafe, PgPool};

/// A running esmond-rs and a client for it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    /// The configured prefix, e.g. `/esmond`.
    pub prefix: String,
    /// A key of user `writer`.
    pub key: String,
    /// The server's metadata store, for setting up state that has no HTTP route.
    pub metadata: MetadataStore,
    /// The server's `time-updated` tracker.
    pub updates: UpdateTracker,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The PostgreSQL database of the metadata, when the suite runs against PostgreSQL.
    pub postgres_url: Option<String>,
    client: reqwest::Client,
    /// Removed when the app that created it is dropped.
    _owned_dir: Option<tempfile::TempDir>,
}

/// Starts a server with the default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` has adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut app = start(data_dir.path(), configure).await;
    app._owned_dir = Some(data_dir);
    app
}

/// Starts a second server on the stores of `app` (its data directory and its PostgreSQL
/// database, if any), as a second API node would.
pub async fn spawn_peer(app: &TestApp) -> TestApp {
    let url = app.postgres_url.clone();
    start(&app.data_dir, move |settings| {
        settings.postgres.url = url.map(SecretString::from)
    })
    .await
}

/// Returns the PostgreSQL server the suite runs against, if any (`ESMOND_TEST_POSTGRES_URL`,
/// set by `tests/run.sh` for its PostgreSQL pass).
pub fn postgres_server() -> Option<String> {
    std::env::var("ESMOND_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Returns the Cassandra node the suite runs against, if any (`ESMOND_TEST_CASSANDRA`, set by
/// `tests/run.sh` for its Cassandra pass).
pub fn cassandra_node() -> Option<String> {
    std::env::var("ESMOND_TEST_CASSANDRA")
        .ok()
        .filter(|node| !node.is_empty())
}

/// The keyspace of this test process: every app shares it (series keys are random, so tests
/// cannot collide), which spares a schema change per test.
fn test_keyspace() -> &'static str {
    static KEYSPACE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEYSPACE.get_or_init(|| {
        format!(
            "esmond_test_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    })
}

/// Points `settings` at the suite's Cassandra, creating the test keyspace once per process.
async fn use_cassandra(settings: &mut Settings, node: String) {
    static CREATED: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);
    settings.cassandra.nodes = vec![node];
    settings.cassandra.keyspace = test_keyspace().to_owned();
    let mut created = CREATED.lock().await;
    if !*created {
        settings
            .cassandra
            .init_schema()
            .await
            .expect("the test keyspace is created");
        *created = true;
    }
    settings.cassandra.init = false;
}

/// Creates an empty database on the suite's PostgreSQL server and returns its URL.
pub async fn fresh_database(server: &str) -> String {
    let admin = PgPool::connect(server)
        .await
        .expect("the test postgresql answers");
    let name = format!("esmond_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(AssertSqlSafe(format!("create database {name}")))
        .execute(&admin)
        .await
        .expect("database created");
    admin.close().await;
    let (base, _) = server
        .rsplit_once('/')
        .expect("a postgres url ends with its database");
    format!("{base}/{name}")
}

async fn start(data_dir: &Path, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::default();
    settings.storage.data_dir = data_dir.to_owned();
    settings.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.http.dns_timeout_ms = 1000;
    settings.http.shutdown_grace_secs = 0;
    configure(&mut settings);
    if settings.postgres.url.is_none()
        && let Some(server) = postgres_server()
    {
        settings.postgres.url = Some(SecretString::from(fresh_database(&server).await));
    }
    if !settings.cassandra.is_configured()
        && let Some(node) = cassandra_node()
    {
        use_cassandra(&mut settings, node).await;
    }

    let application = Application::build(&settings).await.expect("server starts");
    let origin = format!("http://{}", application.local_addr());
    let updates = application.updates();
    tokio::spawn(application.run_until(std::future::pending()));

    let metadata = open_metadata(&settings)
        .await
        .expect("metadata store opens");
    let key = generate_api_key();
    metadata
        .add_api_key("writer", &hash_api_key(&key), &key_hint(&key))
        .await
        .expect("key stored");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    TestApp {
        origin,
        prefix: settings.http.prefix.clone(),
        key,
        metadata,
        updates,
        data_dir: data_dir.to_owned(),
        postgres_url: settings
            .postgres
            .url
            .as_ref()
            .map(|url| url.expose_secret().to_owned()),
        client,
        _owned_dir: None,
    }
}

impl TestApp {
    /// Returns the absolute URL of a path below the archive root, e.g. `"?limit=1"` or `"k/"`.
    pub fn archive_url(&self, rest: &str) -> String {
        format!("{}{}/perfsonar/archive/{rest}", self.origin, self.prefix)
    }

    /// Returns the archive-relative path as esmond writes it in `uri` fields.
    pub fn archive_path(&self, rest: &str) -> String {
        format!("{}/perfsonar/archive/{rest}", self.prefix)
    }

    /// Starts a request to an absolute URL.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Starts a request below the archive root.
    pub fn archive(&self, method: Method, rest: &str) -> RequestBuilder {
        self.request(method, &self.archive_url(rest))
    }

    /// Returns the `Authorization` header value of the test key.
    pub fn token(&self) -> String {
        format!("Token {}", self.key)
    }

    /// Posts metadata with the test key and returns the response.
    pub async fn post_metadata(&self, body: &Value) -> Answer {
        send(
            self.archive(Method::POST, "")
                .header("authorization", self.token())
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    /// Posts metadata that must be accepted, and returns its key.
    pub async fn create_metadata(&self, body: &Value) -> String {
        let answer = self.post_metadata(body).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "metadata refused: {}",
            answer.text
        );
        answer.json()["metadata-key"]
            .as_str()
            .expect("metadata-key")
            .to_owned()
    }

    /// Sends a bulk PUT of `body` to a record, with the test key.
    pub async fn put_data(&self, key: &str, body: &Value) -> Answer {
        send(
            self.archive(Method::PUT, &format!("{key}/"))
                .header("authorization", self.token())
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    /// POSTs one point to `…/{key}/{event_type}/base`, with the test key.
    pub async fn post_point(&self, key: &str, event_type: &str, ts: i64, value: &Value) -> Answer {
        send(
            self.archive(Method::POST, &format!("{key}/{event_type}/base"))
                .header("authorization", self.token())
                .header("content-type", "application/json")
                .body(serde_json::json!({"ts": ts, "val": value}).to_string()),
        )
        .await
    }

    /// Gets a URL below the archive root anonymously.
    pub async fn get(&self, rest: &str) -> Answer {
        send(self.archive(Method::GET, rest)).await
    }
}

/// A response read whole: status, headers and body text.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Answer {
    /// Returns the body parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|error| panic!("body is not json ({error}): {}", self.text))
    }

    /// Returns a header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the status and esmond's `{"detail": …}` body.
    #[track_caller]
    pub fn assert_detail(&self, status: u16, detail: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body {}",
            self.text
        );
        assert_eq!(
            self.json(),
            serde_json::json!({ "detail": detail }),
            "unexpected error body"
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// Sends a request and reads the whole answer; a 5xx fails the test, as no request of the
/// suites may ever get one.
pub async fn send(request: RequestBuilder) -> Answer {
    let answer = receive(request).await;
    assert!(
        !answer.status.is_server_error(),
        "server error {}: {}",
        answer.status,
        answer.text
    );
    answer
}

/// Sends a request and reads the whole answer, whatever its status (for outage tests).
pub async fn receive(request: RequestBuilder) -> Answer {
    let response: Response = request.send().await.expect("request reaches the server");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body is readable");
    Answer {
        status,
        headers,
        text,
    }
}

/// Returns the current time in epoch seconds.
pub fn epoch_now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970");
    i64::try_from(elapsed.as_secs()).expect("epoch seconds fit i64")
}

/// Returns the `(ts, val)` pairs of a series answer, checking esmond's `{"ts", "val"}` shape.
#[track_caller]
pub fn series_points(answer: &Answer) -> Vec<(i64, Value)> {
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "series read failed: {}",
        answer.text
    );
    let points = answer.json();
    let mut pairs = Vec::new();
    for point in points.as_array().expect("a series is a list") {
        let keys: Vec<&str> = point
            .as_object()
            .expect("a point is an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["ts", "val"], "point keys");
        pairs.push((
            point["ts"].as_i64().expect("integer ts"),
            point["val"].clone(),
        ));
    }
    pairs
}
