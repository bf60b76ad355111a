-- API keys. Only the SHA-256 of a key is stored; the key itself is shown once, when it is made.
create table api_key (
    id                    uuid         primary key,
    tenant                varchar(64)  not null,
    name                  varchar(200) not null,
    prefix                varchar(16)  not null,
    key_sha256            char(64)     not null unique,
    upload_limit_bytes    bigint,
    rate_limit_per_minute int,
    created_at            timestamptz  not null default now(),
    revoked_at            timestamptz
);
create index api_key_by_tenant on api_key (tenant, id);

-- Everything a key can see belongs to its tenant; rows from before keys existed belong to 'default'.
alter table checkpoint add column tenant varchar(64) not null default 'default';
alter table dataset add column tenant varchar(64) not null default 'default';
alter table job add column tenant varchar(64) not null default 'default';
create index checkpoint_by_tenant on checkpoint (tenant, id);
create index dataset_by_tenant on dataset (tenant, id);
create index job_by_tenant on job (tenant, id);

-- An Idempotency-Key belongs to the client that sent it: unique within a tenant, not across tenants.
alter table job drop constraint job_idempotency_key_key;
alter table job add constraint job_idempotency_key_per_tenant unique (tenant, idempotency_key);
