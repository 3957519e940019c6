//! `sql_store!`: the one implementation of [`Store`](crate::Store) over a
//! native sqlx pool, expanded once per backend in `sql/mod.rs` (whose
//! imports its body uses), with its helper macros.

/// Implements [`Store`] for a struct with a `pool` field of a native sqlx pool.
macro_rules! sql_store {
    ($store:ty) => {
        #[async_trait]
        impl Store for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn count_operators(&self) -> Result<i64, StoreError> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM operators").fetch_one(&self.pool).await?;
                Ok(n)
            }

            async fn insert_operator(&self, op: &Operator, credential: &Credential) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO operators (id, name, email, roles, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&op.id)
                .bind(&op.name)
                .bind(&op.email)
                .bind(op.roles.to_string())
                .bind(&op.created_by)
                .bind(op.created_at.unix())
                .execute(&mut *tx)
                .await
                .map_err(conflict_as("an operator with this id"))?;
                insert_credential!(tx, credential);
                tx.commit().await?;
                Ok(())
            }

            async fn list_operators(&self) -> Result<Vec<Operator>, StoreError> {
                let sql = format!("{OPERATOR_SELECT} ORDER BY created_at, id");
                let rows: Vec<OperatorRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(Operator::try_from).collect()
            }

            async fn get_operator(&self, id: &str) -> Result<Option<Operator>, StoreError> {
                let sql = format!("{OPERATOR_SELECT} WHERE id = $1");
                let row: Option<OperatorRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(Operator::try_from).transpose()
            }

            async fn insert_resource(&self, r: &Resource, credential: &Credential) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO resources (id, name, kind, audience, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&r.id)
                .bind(&r.name)
                .bind(r.kind.as_str())
                .bind(r.audience.as_str())
                .bind(&r.created_by)
                .bind(r.created_at.unix())
                .execute(&mut *tx)
                .await
                .map_err(conflict_as("a resource with this audience"))?;
                for (position, scope) in (0_i64..).zip(&r.scopes) {
                    sqlx::query(
                        "INSERT INTO resource_scopes (resource_id, name, description, data_class, position) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&r.id)
                    .bind(scope.name.as_str())
                    .bind(&scope.description)
                    .bind(scope.data_class.as_str())
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_as("a scope with this name on this resource"))?;
                }
                insert_credential!(tx, credential);
                tx.commit().await?;
                Ok(())
            }

            async fn list_resources(&self) -> Result<Vec<Resource>, StoreError> {
                let sql = format!("{RESOURCE_SELECT} ORDER BY created_at, id");
                let rows: Vec<ResourceRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                let sql = format!("{SCOPE_SELECT} ORDER BY resource_id, position");
                let scopes: Vec<ScopeRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(|r| r.into_resource(&scopes)).collect()
            }

            async fn get_resource_by_audience(&self, audience: &Audience) -> Result<Option<Resource>, StoreError> {
                let sql = format!("{RESOURCE_SELECT} WHERE audience = $1");
                let row: Option<ResourceRow> =
                    sqlx::query_as(&sql).bind(audience.as_str()).fetch_optional(&self.pool).await?;
                let Some(row) = row else { return Ok(None) };
                let sql = format!("{SCOPE_SELECT} WHERE resource_id = $1 ORDER BY position");
                let scopes: Vec<ScopeRow> = sqlx::query_as(&sql).bind(&row.id).fetch_all(&self.pool).await?;
                row.into_resource(&scopes).map(Some)
            }

            async fn get_resource(&self, id: &str) -> Result<Option<Resource>, StoreError> {
                let sql = format!("{RESOURCE_SELECT} WHERE id = $1");
                let row: Option<ResourceRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                let Some(row) = row else { return Ok(None) };
                let sql = format!("{SCOPE_SELECT} WHERE resource_id = $1 ORDER BY position");
                let scopes: Vec<ScopeRow> = sqlx::query_as(&sql).bind(&row.id).fetch_all(&self.pool).await?;
                row.into_resource(&scopes).map(Some)
            }

            async fn insert_agent(&self, a: &Agent, credential: &Credential) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO agents (id, name, platform, vendor, owner, purpose, environment, \
                     acts_on_behalf_of, tags, status, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&a.id)
                .bind(&a.name)
                .bind(a.platform.as_str())
                .bind(&a.vendor)
                .bind(&a.owner)
                .bind(&a.purpose)
                .bind(&a.environment)
                .bind(a.acts_on_behalf_of.as_str())
                .bind(serde_json::to_string(&a.tags)?)
                .bind(a.status.as_str())
                .bind(&a.created_by)
                .bind(a.created_at.unix())
                .execute(&mut *tx)
                .await
                .map_err(conflict_as("an agent with this id"))?;
                insert_credential!(tx, credential);
                tx.commit().await?;
                Ok(())
            }

            async fn list_agents(&self, filter: &AgentFilter) -> Result<Vec<Agent>, StoreError> {
                // A tag matches its quoted JSON text inside the tags array
                // (LIKE wildcards escaped), then is checked exactly.
                let sql = format!(
                    "{AGENT_SELECT} WHERE ($1 IS NULL OR platform = $1) AND ($2 IS NULL OR status = $2) \
                     AND ($3 IS NULL OR owner = $3) AND ($4 IS NULL OR vendor = $4) \
                     AND ($5 IS NULL OR tags LIKE $5 ESCAPE '\\') \
                     AND ($6 IS NULL OR id IN (SELECT g.agent_id FROM grants g JOIN resources r ON r.id = g.resource_id \
                          WHERE r.audience = $6 AND g.status = 'approved' AND g.expires_at > $7)) \
                     AND ($8 IS NULL OR created_at > $8 OR (created_at = $8 AND id > $9)) \
                     ORDER BY created_at, id LIMIT $10"
                );
                let tag_like = filter.tag.as_ref().map(|t| format!("%{}%", escape_like(&serde_json::Value::from(t.as_str()).to_string())));
                let rows: Vec<AgentRow> = sqlx::query_as(&sql)
                    .bind(filter.platform.map(|p| p.as_str()))
                    .bind(filter.status.map(|s| s.as_str()))
                    .bind(filter.owner.as_deref())
                    .bind(filter.vendor.as_deref())
                    .bind(tag_like)
                    .bind(filter.resource.as_deref())
                    .bind(filter.at.unix())
                    .bind(filter.after.as_ref().map(|(at, _)| at.unix()))
                    .bind(filter.after.as_ref().map(|(_, id)| id.as_str()))
                    .bind(filter.limit.unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                let agents = rows.into_iter().map(Agent::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok(agents.into_iter().filter(|a| filter.tag.as_ref().is_none_or(|t| a.tags.contains(t))).collect())
            }

            async fn get_agent(&self, id: &str) -> Result<Option<Agent>, StoreError> {
                let sql = format!("{AGENT_SELECT} WHERE id = $1");
                let row: Option<AgentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(Agent::try_from).transpose()
            }

            async fn kill_agents(
                &self,
                ids: &[String],
                at: Timestamp,
                by: &str,
                reason: &str,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for id in ids {
                    sqlx::query("UPDATE agents SET status = 'killed', killed_at = $1 WHERE id = $2")
                        .bind(at.unix())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO agent_kills (id, agent_id, killed_at, killed_by, reason) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(kill_record_id(id, at))
                    .bind(id)
                    .bind(at.unix())
                    .bind(by)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn restore_agent(
                &self,
                id: &str,
                at: Timestamp,
                by: &str,
                reason: &str,
            ) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE agents SET status = 'active' WHERE id = $1 AND status = 'killed'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE agent_kills SET restored_at = $1, restored_by = $2, restore_reason = $3 \
                     WHERE agent_id = $4 AND restored_at IS NULL",
                )
                .bind(at.unix())
                .bind(by)
                .bind(reason)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn kills_for_agent(&self, id: &str) -> Result<Vec<KillRecord>, StoreError> {
                let rows: Vec<KillRow> = sqlx::query_as(
                    "SELECT killed_at, killed_by, reason, restored_at, restored_by, restore_reason \
                     FROM agent_kills WHERE agent_id = $1 ORDER BY killed_at, id",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(KillRecord::from).collect())
            }

            async fn insert_revoked_token(
                &self,
                jti: &str,
                agent_id: &str,
                expires_at: Timestamp,
                revoked_at: Timestamp,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO revoked_tokens (jti, agent_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(agent_id)
                .bind(expires_at.unix())
                .bind(revoked_at.unix())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn append_audit_with(&self, events: &[NewAuditEvent], last_use: &LastUse<'_>) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                // Taking the head's row lock first serialises every writer.
                let (mut seq, mut prev): (i64, String) =
                    sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                        .fetch_one(&mut *tx)
                        .await?;
                let mut rows = Vec::with_capacity(events.len());
                for event in events {
                    seq += 1;
                    let detail = event.detail.to_string();
                    let hash = chain_hash(
                        &prev,
                        seq,
                        event.at,
                        &event.actor,
                        &event.action,
                        event.agent_id.as_deref(),
                        event.resource.as_deref(),
                        &detail,
                    );
                    rows.push((seq, event, detail, std::mem::replace(&mut prev, hash.clone()), hash));
                }
                for chunk in statement_chunks(&rows) {
                    let sql = format!(
                        "INSERT INTO audit_events (seq, at, actor, action, agent_id, resource, detail, prev_hash, hash) \
                         VALUES {}",
                        values_list(chunk.len(), 9)
                    );
                    let mut insert = sqlx::query(&sql);
                    for (seq, event, detail, prev_hash, hash) in chunk {
                        insert = insert
                            .bind(*seq)
                            .bind(event.at.unix())
                            .bind(&event.actor)
                            .bind(&event.action)
                            .bind(event.agent_id.as_deref())
                            .bind(event.resource.as_deref())
                            .bind(detail)
                            .bind(prev_hash)
                            .bind(hash);
                    }
                    insert.execute(&mut *tx).await?;
                }
                record_last_use!(tx, last_use);
                sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(seq)
                    .bind(&prev)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT seq, at, actor, action, agent_id, resource, detail, prev_hash, hash FROM audit_events \
                     WHERE ($1 IS NULL OR agent_id = $1) AND ($2 IS NULL OR action = $2) \
                     AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR resource = $4) \
                     AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at <= $6) AND ($7 IS NULL OR seq > $7) \
                     ORDER BY seq LIMIT $8",
                )
                .bind(filter.agent_id.as_deref())
                .bind(filter.action.as_deref())
                .bind(filter.actor.as_deref())
                .bind(filter.resource.as_deref())
                .bind(filter.since.map(Timestamp::unix))
                .bind(filter.until.map(Timestamp::unix))
                .bind(filter.after_seq)
                .bind(filter.limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(AuditEvent::from).collect())
            }

            async fn audit_head(&self) -> Result<(i64, String), StoreError> {
                Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
            }

            async fn denylist_snapshot(&self, now: Timestamp) -> Result<DenylistSnapshot, StoreError> {
                let kills: Vec<(String, i64)> =
                    sqlx::query_as("SELECT id, killed_at FROM agents WHERE killed_at IS NOT NULL")
                        .fetch_all(&self.pool)
                        .await?;
                let tokens: Vec<(String, i64)> =
                    sqlx::query_as("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1")
                        .bind(now.unix())
                        .fetch_all(&self.pool)
                        .await?;
                let grants: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT g.agent_id, r.audience, MAX(g.revoked_at) FROM grants g \
                     JOIN resources r ON r.id = g.resource_id \
                     WHERE g.status = 'revoked' AND g.revoked_at IS NOT NULL GROUP BY g.agent_id, r.audience",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(DenylistSnapshot {
                    kills: kills.into_iter().map(|(id, at)| (id, Timestamp(at))).collect(),
                    tokens: tokens.into_iter().map(|(jti, exp)| (jti, Timestamp(exp))).collect(),
                    grants: grants.into_iter().map(|(a, aud, at)| (a, aud, Timestamp(at))).collect(),
                })
            }

            async fn set_agent_status(
                &self,
                id: &str,
                from: AgentStatus,
                to: AgentStatus,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE agents SET status = $1 WHERE id = $2 AND status = $3")
                    .bind(to.as_str())
                    .bind(id)
                    .bind(from.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_grant(&self, g: &Grant) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO grants (id, agent_id, resource_id, scopes, justification, status, \
                     requested_by, requested_at, expires_at, max_token_ttl, approvals, approvals_required) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&g.id)
                .bind(&g.agent_id)
                .bind(&g.resource_id)
                .bind(g.scopes.to_string())
                .bind(&g.justification)
                .bind(g.status.as_str())
                .bind(&g.requested_by)
                .bind(g.requested_at.unix())
                .bind(g.expires_at.unix())
                .bind(g.max_token_ttl)
                .bind(serde_json::to_string(&g.approvals)?)
                .bind(i64::from(g.approvals_required))
                .execute(&self.pool)
                .await
                .map_err(conflict_as("a grant with this id"))?;
                Ok(())
            }

            async fn get_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
                let sql = format!("{GRANT_SELECT} WHERE g.id = $1");
                let row: Option<GrantRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(Grant::try_from).transpose()
            }

            async fn grants_for_agent(&self, agent_id: &str) -> Result<Vec<Grant>, StoreError> {
                let sql = format!("{GRANT_SELECT} WHERE g.agent_id = $1 ORDER BY g.requested_at, g.id");
                let rows: Vec<GrantRow> = sqlx::query_as(&sql).bind(agent_id).fetch_all(&self.pool).await?;
                rows.into_iter().map(Grant::try_from).collect()
            }

            async fn update_grant(&self, g: &Grant, previous: &Grant) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE grants SET status = $1, approved_by = $2, approved_at = $3, denied_by = $4, \
                     denied_at = $5, revoked_by = $6, revoked_at = $7, approvals = $10 \
                     WHERE id = $8 AND status = $9 AND approvals = $11",
                )
                .bind(g.status.as_str())
                .bind(g.approved_by.as_deref())
                .bind(g.approved_at.map(Timestamp::unix))
                .bind(g.denied_by.as_deref())
                .bind(g.denied_at.map(Timestamp::unix))
                .bind(g.revoked_by.as_deref())
                .bind(g.revoked_at.map(Timestamp::unix))
                .bind(&g.id)
                .bind(previous.status.as_str())
                .bind(serde_json::to_string(&g.approvals)?)
                .bind(serde_json::to_string(&previous.approvals)?)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn credentials_for_client(&self, client_id: &ClientId) -> Result<Vec<Credential>, StoreError> {
                let sql = format!("{CREDENTIAL_SELECT} WHERE client_id = $1 AND retired_at IS NULL ORDER BY created_at, id");
                let rows: Vec<CredentialRow> =
                    sqlx::query_as(&sql).bind(client_id.as_str()).fetch_all(&self.pool).await?;
                rows.into_iter().map(Credential::try_from).collect()
            }

            async fn all_credentials_for_client(&self, client_id: &ClientId) -> Result<Vec<Credential>, StoreError> {
                let sql = format!("{CREDENTIAL_SELECT} WHERE client_id = $1 ORDER BY created_at, id");
                let rows: Vec<CredentialRow> =
                    sqlx::query_as(&sql).bind(client_id.as_str()).fetch_all(&self.pool).await?;
                rows.into_iter().map(Credential::try_from).collect()
            }

            async fn add_credential(&self, credential: &Credential, max_live: i64) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                // Lock the client's credentials (any write does in SQLite) before counting.
                sqlx::query("UPDATE credentials SET client_id = client_id WHERE client_id = $1")
                    .bind(credential.client_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                let (live,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM credentials WHERE client_id = $1 AND retired_at IS NULL")
                        .bind(credential.client_id.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                if live >= max_live {
                    return Ok(false);
                }
                insert_credential!(tx, credential);
                tx.commit().await?;
                Ok(true)
            }

            async fn retire_credential(&self, client_id: &ClientId, id: &str, at: Timestamp) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE credentials SET client_id = client_id WHERE client_id = $1")
                    .bind(client_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                let (live,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM credentials WHERE client_id = $1 AND retired_at IS NULL")
                        .bind(client_id.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                if live <= 1 {
                    return Ok(false);
                }
                let done = sqlx::query(
                    "UPDATE credentials SET retired_at = $1 WHERE id = $2 AND client_id = $3 AND retired_at IS NULL",
                )
                .bind(at.unix())
                .bind(id)
                .bind(client_id.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_assertion_jti(
                &self,
                client_id: &ClientId,
                jti: &str,
                expires_at: Timestamp,
                now: Timestamp,
            ) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM assertion_jtis WHERE expires_at <= $1")
                    .bind(now.unix())
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query(
                    "INSERT INTO assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (client_id, jti) DO NOTHING",
                )
                .bind(client_id.as_str())
                .bind(jti)
                .bind(expires_at.unix())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

/// Writes the last use an audit batch records ([`LastUse`]) inside the
/// transaction `$tx`: a few statements per table ([`statement_chunks`]),
/// each joining the table to a `VALUES` list.
macro_rules! record_last_use {
    ($tx:ident, $last:expr) => {
        let last = $last;
        let agents: Vec<_> = last.agents.iter().collect();
        for chunk in statement_chunks(&agents) {
            let sql = format!(
                "UPDATE agents SET last_token_at = v.column2, last_token_resource = v.column3 \
                 FROM (VALUES {}) AS v WHERE agents.id = v.column1 \
                 AND (agents.last_token_at IS NULL OR agents.last_token_at <= v.column2)",
                values_list(chunk.len(), 3)
            );
            let mut update = sqlx::query(&sql);
            for (agent_id, (at, resource)) in chunk {
                update = update.bind(*agent_id).bind(at.unix()).bind(*resource);
            }
            update.execute(&mut *$tx).await?;
        }
        let grants: Vec<_> = last.grants.iter().collect();
        for chunk in statement_chunks(&grants) {
            let sql = format!(
                "UPDATE grants SET last_used_at = v.column3 FROM (VALUES {}) AS v \
                 WHERE grants.agent_id = v.column1 AND grants.status = 'approved' \
                 AND grants.resource_id IN (SELECT id FROM resources WHERE audience = v.column2) \
                 AND (grants.last_used_at IS NULL OR grants.last_used_at <= v.column3)",
                values_list(chunk.len(), 3)
            );
            let mut update = sqlx::query(&sql);
            for ((agent_id, audience), at) in chunk {
                update = update.bind(*agent_id).bind(*audience).bind(at.unix());
            }
            update.execute(&mut *$tx).await?;
        }
        let credentials: Vec<_> = last.credentials.iter().collect();
        for chunk in statement_chunks(&credentials) {
            let sql = format!(
                "UPDATE credentials SET last_used_at = v.column2 FROM (VALUES {}) AS v \
                 WHERE credentials.id = v.column1 \
                 AND (credentials.last_used_at IS NULL OR credentials.last_used_at <= v.column2)",
                values_list(chunk.len(), 2)
            );
            let mut update = sqlx::query(&sql);
            for (credential_id, at) in chunk {
                update = update.bind(*credential_id).bind(at.unix());
            }
            update.execute(&mut *$tx).await?;
        }
    };
}

/// Inserts a credential inside the transaction `$tx`.
macro_rules! insert_credential {
    ($tx:ident, $c:expr) => {
        sqlx::query(INSERT_CREDENTIAL)
            .bind(&$c.id)
            .bind($c.client_id.as_str())
            .bind($c.client_kind.as_str())
            .bind($c.method.as_str())
            .bind($c.secret_hash.as_deref())
            .bind($c.jwks.as_deref())
            .bind($c.created_at.unix())
            .execute(&mut *$tx)
            .await
            .map_err(conflict_as("a credential with this id"))?
    };
}
