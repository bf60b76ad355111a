-- A pin keeps a blob that is being published (staged bytes on their way to the store, outside any
-- transaction) from being collected before its owner's transaction attaches it. Each publication has its
-- own pin, which the attach removes; pins of publications that never attached (a crash, a failed owner
-- transaction) are dropped by the blob sweep once they are older than its grace period.
create table blob_pin (
    id         uuid        primary key,
    sha256     char(64)    not null references blob (sha256) on delete cascade,
    created_at timestamptz not null default now()
);
create index blob_pin_sha256 on blob_pin (sha256);
