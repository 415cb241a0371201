-- H2 only (Flyway location classpath:db/vendor/{vendor}): stored_order hands out its values from a
-- cache of 1000 instead of H2's default 32. H2 writes a sequence's state back each time its cache
-- runs out, in a commit of its own; with WRITE_DELAY=0 every commit writes an MVStore chunk, so a
-- group-commit batch of ~100 rows cost three or four chunk writes besides its own (a third of the
-- persist writer's time in a profile of the embedded default). The cache is the database's, not a
-- session's: values stay in insert order; a crash only skips the unused rest of the cache.
-- Not on PostgreSQL, where a sequence cache is per session and would break that order.
ALTER TABLE ar_message ALTER COLUMN stored_order SET CACHE 1000;
