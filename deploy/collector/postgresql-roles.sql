-- secscan collector on PostgreSQL: its database, the role that owns the tables, and the role the
-- service runs as, with only the privileges the collector needs. Run once, as a superuser:
--
--   sudo -u postgres psql -v owner_password='...' -v app_password='...' -f postgresql-roles.sql
--
-- then create the tables as the owner role (init and migrate change the schema):
--
--   SECSCAN_DB='postgresql+psycopg://secscan_owner:...@127.0.0.1/secscan' secscan collector init --org org.yaml
--
-- and give the service the runtime role (collector.env):
--
--   SECSCAN_DB=postgresql+psycopg://secscan_app:...@127.0.0.1/secscan
--
-- What the collector runs, and so what each role may do (secscan/collector/*.py):
--   secscan_owner  owns the tables: CREATE TABLE, CREATE/DROP INDEX, ALTER TABLE ADD COLUMN
--                  (`collector init`, `collector migrate`); ANALYZE after an import of 1,000
--                  reports or more (Store.analyze, called by `collector import` only), which
--                  PostgreSQL allows the tables' owner (or, from PostgreSQL 17, the MAINTAIN
--                  privilege). The service never logs in as it.
--   secscan_app    SELECT, INSERT, UPDATE, DELETE on the tables: `serve`, tokens, units,
--                  `import`, `evaluate`, `redecode`, `captures prune`, `hosts`, the reports.
--                  Every key is a text id, so there is no sequence to grant; no function, no
--                  schema change, no TRUNCATE, no TEMPORARY tables.
-- A large import run as secscan_app on PostgreSQL 16 or older still stores everything:
-- PostgreSQL skips its ANALYZE with a WARNING ("skipping ... only table or database owner can
-- analyze it") and autovacuum refreshes the statistics within a minute or so. Run big imports
-- as secscan_owner to have them at once; on PostgreSQL 17 and later the MAINTAIN grant below
-- lets secscan_app do it.

\set ON_ERROR_STOP on

CREATE ROLE secscan_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE secscan_app LOGIN PASSWORD :'app_password';
CREATE DATABASE secscan OWNER secscan_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE secscan FROM PUBLIC;
GRANT CONNECT ON DATABASE secscan TO secscan_app;

\connect secscan
-- The tables live in schema public of their own database. Only the owner creates in it
-- (PostgreSQL 15 and later already refuse CREATE to PUBLIC; older versions allowed it).
ALTER SCHEMA public OWNER TO secscan_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO secscan_app;

-- Tables the owner creates, now and in later migrations (schema version 3 added one), are
-- readable and writable by the service; those that exist already, too (running this part again
-- after an upgrade does no harm).
ALTER DEFAULT PRIVILEGES FOR ROLE secscan_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO secscan_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO secscan_app;

-- PostgreSQL 17 and later: ANALYZE (and VACUUM) on these tables only, so that an import run as
-- secscan_app refreshes the statistics itself. Nothing in the service uses it.
SELECT current_setting('server_version_num')::int >= 170000 AS has_maintain \gset
\if :has_maintain
ALTER DEFAULT PRIVILEGES FOR ROLE secscan_owner IN SCHEMA public GRANT MAINTAIN ON TABLES TO secscan_app;
GRANT MAINTAIN ON ALL TABLES IN SCHEMA public TO secscan_app;
\endif
