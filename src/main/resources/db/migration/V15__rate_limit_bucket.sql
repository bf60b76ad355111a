-- Bucket4j's token buckets for API keys' request rates (tenant.RequestRateLimiter): one row per rate-limited
-- key, its state a serialised bucket, locked with SELECT ... FOR UPDATE by whichever api replica serves it.
create table rate_limit_bucket (
    id uuid primary key references api_key (id) on delete cascade,
    state bytea
);
