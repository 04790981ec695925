//! 10,000 points into one event type cost PostgreSQL a handful of `time_updated` writes.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{CLUSTER, postgres_app, throughput_record};

#[tokio::test]
#[ignore = "needs the test cluster of tests/scripts/postgres.sh; tests/run.sh runs it"]
async fn ten_thousand_points_few_time_updated_writes() {
    let _cluster = CLUSTER.lock().await;
    let app = postgres_app().await;
    let key = throughput_record(&app, "time-updated").await;
    let database = PgPool::connect(app.postgres_url.as_deref().unwrap())
        .await
        .unwrap();
    // Count every UPDATE statement PostgreSQL receives on event_type (time_updated is the only
    // column esmond-rs ever updates), whether or not it changes a row.
    for statement in [
        "create table update_count (statements bigint not null)",
        "insert into update_count values (0)",
        "create function count_update() returns trigger language plpgsql as \
         $$ begin update update_count set statements = statements + 1; return null; end $$",
        "create trigger count_updates after update on event_type for each statement execute function count_update()",
    ] {
        sqlx::query(statement).execute(&database).await.unwrap();
    }

    for batch in 0..100 {
        let data: Vec<Value> = (0..100)
            .map(|i| json!({"ts": 1_500_000_000 + (batch * 100 + i) * 30, "val": [{"event-type": "throughput", "val": i}]}))
            .collect();
        let answer = app.put_data(&key, &json!({ "data": data })).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    let points = app
        .get(&format!("{key}/throughput/base?time-start=0&limit=20000"))
        .await
        .json();
    assert_eq!(points.as_array().unwrap().len(), 10_000);

    let statements: i64 = sqlx::query_scalar("select statements from update_count")
        .fetch_one(&database)
        .await
        .unwrap();
    println!("time_updated updates for 10,000 points: {statements}");
    assert!(
        (1..=3).contains(&statements),
        "{statements} time_updated updates for 10,000 points"
    );
    let updated: Option<i64> = sqlx::query_scalar(
        "select max(time_updated) from event_type e join metadata m using (metadata_id) where m.metadata_key = $1",
    )
    .bind(&key)
    .fetch_one(&database)
    .await
    .unwrap();
    assert!(updated.is_some());
}
