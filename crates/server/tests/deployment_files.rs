//! The files of the clustered deployment (`docker/`, `config/haproxy.cfg`) stay true to the code:
//! every setting the compose file gives esmond-rs is one it reads, with a value it accepts, and
//! every path, port and variable the files name exists on the other side. No Docker engine runs
//! here, so this is what checks them.

use std::path::{Path, PathBuf};

use esmond_server::Settings;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Returns the `ESMOND_RS_*: value` pairs of one service's environment block, following the
/// compose file's `<<: *api-env` merge by collecting every such line under the anchor too.
fn esmond_variables(compose: &str) -> Vec<(String, String)> {
    let mut variables = Vec::new();
    for line in compose.lines() {
        let line = line.trim();
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        if name.starts_with("ESMOND_RS_") {
            let value = value.trim().trim_matches('\'').trim_matches('"').to_owned();
            variables.push((name.to_owned(), value));
        }
    }
    variables
}

#[allow(clippy::result_large_err)]
#[test]
fn compose_settings_are_settings_esmond_rs_reads() {
    let compose = read("docker/compose.yml");
    let variables = esmond_variables(&compose);
    assert!(variables.len() >= 6, "{variables:?}");
    figment::Jail::expect_with(|jail| {
        for (name, value) in &variables {
            jail.set_env(name, value);
        }
        let settings = Settings::load(None).expect("the compose settings load");
        assert!(settings.postgres.is_configured());
        assert_eq!(
            settings.cassandra.nodes,
            ["cassandra1:9042", "cassandra2:9042", "cassandra3:9042"]
        );
        assert_eq!(settings.cassandra.replicas, 3);
        assert!(settings.cassandra.consistency().is_ok());
        assert_eq!(settings.http.trusted_proxies.len(), 1);
        assert!(!settings.cassandra.init, "api2 leaves the schema to api1");
        Ok(())
    });
    // The trusted proxy range is the compose network's.
    assert!(compose.contains("subnet: 172.28.0.0/16") && compose.contains("[\"172.28.0.0/16\"]"));
}

#[test]
fn paths_ports_and_variables_match() {
    let compose = read("docker/compose.yml");
    let dockerfile = read("docker/Dockerfile");
    let haproxy = read("config/haproxy.cfg");

    // Paths the compose file and the Dockerfile name, from their contexts.
    assert!(
        compose.contains("dockerfile: docker/Dockerfile")
            && repo().join("docker/Dockerfile").exists()
    );
    assert!(
        compose.contains("../config/haproxy.cfg:")
            && Path::new(&repo().join("config/haproxy.cfg")).exists()
    );
    assert!(
        dockerfile.contains("COPY config/esmond-rs.toml")
            && repo().join("config/esmond-rs.toml").exists()
    );
    assert!(dockerfile.contains("--bin esmond-rs"));

    // The node listens on 8080, which the health checks and HAProxy address.
    assert!(
        dockerfile.contains("ESMOND_RS_HTTP__LISTEN=0.0.0.0:8080")
            && dockerfile.contains("EXPOSE 8080")
    );
    assert!(
        compose.contains("ESMOND_API1: api1:8080") && compose.contains("ESMOND_API2: api2:8080")
    );
    assert!(
        compose.contains("http://127.0.0.1:8080/readyz")
            && dockerfile.contains("http://127.0.0.1:8080/healthz")
    );

    // HAProxy's variables are the ones the compose file (and the cluster test) set, and it checks
    // the readiness endpoint the server has.
    for variable in ["ESMOND_HAPROXY_BIND", "ESMOND_API1", "ESMOND_API2"] {
        assert!(
            haproxy.contains(&format!("\"${{{variable}}}\"")),
            "haproxy.cfg uses {variable}"
        );
        assert!(
            compose.contains(&format!("{variable}:")),
            "compose sets {variable}"
        );
    }
    assert!(haproxy.contains("option httpchk GET /readyz"));
    let health = read("crates/api/src/routes/health.rs");
    assert!(health.contains("\"/readyz\"") && health.contains("\"/healthz\""));

    // The Cassandra CQL port esmond-rs defaults to.
    assert!(compose.matches(":9042").count() >= 3);
}
