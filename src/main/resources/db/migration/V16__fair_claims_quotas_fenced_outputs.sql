-- Fair claims across tenants (issue 16, item 3): when a job was last claimed, so that claims can go round-robin
-- between tenants instead of by priority across all of them.
alter table job add column claimed_at timestamptz;
create index job_by_tenant_claimed on job (tenant, claimed_at);
create index job_by_tenant_status on job (tenant, status);

-- Per-tenant quotas, set by the admin; a null limit falls back to the service's default (consort.quotas.*).
create table tenant_quota (
    tenant           varchar(64) primary key,
    max_queued_jobs  int    check (max_queued_jobs >= 0),
    max_running_jobs int    check (max_running_jobs >= 1),
    max_stored_bytes bigint check (max_stored_bytes >= 0),
    updated_at       timestamptz not null default now()
);

-- Fenced job outputs (item 5): a job produces at most one checkpoint and one routed model of each name. Rows a
-- stale worker duplicated before this constraint existed keep their data under a name that says so.
update checkpoint c set name = left(c.name, 170) || '-duplicate-' || left(c.id::text, 8)
where c.producing_job_id is not null and exists (
    select 1 from checkpoint d where d.producing_job_id = c.producing_job_id and d.name = c.name and d.id < c.id);
create unique index checkpoint_one_per_job_and_name on checkpoint (producing_job_id, name)
    where producing_job_id is not null;
update routed_model r set name = left(r.name, 170) || '-duplicate-' || left(r.id::text, 8)
where r.producing_job_id is not null and exists (
    select 1 from routed_model d where d.producing_job_id = r.producing_job_id and d.name = r.name and d.id < r.id);
create unique index routed_model_one_per_job_and_name on routed_model (producing_job_id, name)
    where producing_job_id is not null;
