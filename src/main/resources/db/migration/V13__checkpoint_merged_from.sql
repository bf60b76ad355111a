-- The checkpoints a weight-space merge combined, in expert order (its parent_id is the common base), so a
-- client can draw the lineage base -> specialists -> merges. Deleting one of them removes it from the list
-- (CheckpointCatalog.delete), as deleting a parent clears parent_id.
alter table checkpoint add column merged_from uuid[] not null default '{}';
create index checkpoint_by_merged_from on checkpoint using gin (merged_from);
