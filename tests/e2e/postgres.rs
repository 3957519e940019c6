//! The production backend: the full flow against a fresh PostgreSQL database.

use sqlx::Connection as _;

use crate::helpers::spawn_app_on_postgres;

#[tokio::test]
async fn the_full_flow_works_on_postgres() {
    let app = spawn_app_on_postgres().await;
    crate::flow::walk_the_full_flow(&app).await;

    // The data went to PostgreSQL, not to an SQLite file.
    let url = app.var("WARRANT_DATABASE_URL").expect("a database URL");
    let mut conn = sqlx::PgConnection::connect(url).await.expect("the test database");
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_one(&mut conn)
            .await
            .expect("counting tables");
    assert!(tables > 0, "migrations ran on PostgreSQL");
    conn.close().await.expect("closing");
    let data_dir = app.var("WARRANT_DATA_DIR").expect("a data directory");
    let sqlite = std::path::Path::new(data_dir).join("warrant.db");
    assert!(!sqlite.exists(), "no SQLite file in PostgreSQL mode");
}

#[tokio::test]
async fn readyz_answers_ready_on_postgres() {
    let app = spawn_app_on_postgres().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app_on_postgres().await;
    assert_eq!(app.get("/readyz").await.status(), reqwest::StatusCode::OK);
    app.drop_database().await;
    let started = std::time::Instant::now();
    let response = app
        .client
        .get(app.url("/readyz"))
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed().as_secs() < 10, "readyz answered in {:?}", started.elapsed());
}
