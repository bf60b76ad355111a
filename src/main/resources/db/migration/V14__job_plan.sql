-- The validated, resolved form of a job's spec, written at submission by its handler and read by the
-- worker that runs it (JobHandler.plan). Null for jobs queued before this column existed: their worker
-- plans them from the spec instead.
alter table job add column plan jsonb;
