//! A kill or a grant revocation in Warrant reaches the ticketing service
//! through the shared Redis denylist: the agent's live tokens stop working
//! there too, while other agents carry on.

use reqwest::StatusCode;

use crate::helpers::{challenge, json_with_status, spawn, str_field, AUDIENCE, READ, WRITE};

#[tokio::test]
async fn a_kill_on_warrant_makes_the_agents_token_dead_at_the_ticketing_service() {
    let env = spawn().await;
    let agent = env.agent_with_grant(&[READ, WRITE]).await;
    let bystander = env.agent_with_grant(&[READ]).await;
    let token = env.token(&agent, None).await;
    let other_token = env.token(&bystander, None).await;
    assert_eq!(env.list_tickets(&token).await.status(), StatusCode::OK);

    let answer = env.kill(&agent, "prompt injection suspected").await;
    assert_eq!(str_field(&answer, "agent_id"), agent.id);
    let audiences: Vec<&str> =
        answer["resources"].as_array().into_iter().flatten().filter_map(|r| r["audience"].as_str()).collect();
    assert_eq!(audiences, [AUDIENCE]);

    let refused = env.until_tickets_answer(&token, StatusCode::UNAUTHORIZED).await;
    assert!(challenge(&refused).starts_with(r#"Bearer error="invalid_token""#), "{}", challenge(&refused));
    assert_eq!(env.open_ticket(&token, "after the kill").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(env.list_tickets(&other_token).await.status(), StatusCode::OK);

    let no_new_token = env.agent_token_response(&agent, AUDIENCE, None).await;
    let body = json_with_status(no_new_token, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn a_kill_reaches_a_second_ticketing_instance_as_well() {
    let mut env = spawn().await;
    let second = env.spawn_ticketing(|_| {}).await;
    let agent = env.agent_with_grant(&[READ]).await;
    let token = env.token(&agent, None).await;
    env.until_tickets_answer_at(&second, &token, StatusCode::OK).await;

    env.kill(&agent, "vendor incident").await;
    env.until_tickets_answer_at(&second, &token, StatusCode::UNAUTHORIZED).await;
    assert_eq!(env.list_tickets(&token).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_grant_revocation_makes_the_agents_token_dead_at_the_ticketing_service() {
    let env = spawn().await;
    let agent = env.agent_with_grant(&[READ, WRITE]).await;
    let token = env.token(&agent, None).await;
    assert_eq!(env.list_tickets(&token).await.status(), StatusCode::OK);

    let revoked = env.revoke_grant(&agent).await;
    assert_eq!(str_field(&revoked, "status"), "revoked");

    env.until_tickets_answer(&token, StatusCode::UNAUTHORIZED).await;
    let no_new_token = env.agent_token_response(&agent, AUDIENCE, None).await;
    let body = json_with_status(no_new_token, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"], "invalid_target");
}

#[tokio::test]
async fn after_a_restore_a_new_token_works_while_the_old_one_stays_dead() {
    let env = spawn().await;
    let agent = env.agent_with_grant(&[READ]).await;
    let old = env.token(&agent, None).await;
    env.kill(&agent, "investigating").await;
    env.until_tickets_answer(&old, StatusCode::UNAUTHORIZED).await;

    env.clock.advance(1);
    env.restore(&agent, "false alarm").await;
    let new = env.token(&agent, None).await;
    assert_eq!(env.list_tickets(&new).await.status(), StatusCode::OK);
    assert_eq!(env.list_tickets(&old).await.status(), StatusCode::UNAUTHORIZED);
}
