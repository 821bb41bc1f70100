namespace Keel.Postgres;

/// <summary>
/// The schema, as numbered migrations, run with the store's schema first on the search path. Never edit a shipped
/// migration: add the next one. Times are Unix milliseconds (bigint), as in the SQLite store.
/// </summary>
internal static class PostgresSchema
{
    public static readonly string[] Migrations =
    [
        // 1: runs, their journals, and NOTIFY on new work
        """
        CREATE TABLE runs (
            run_id text PRIMARY KEY,
            workflow text NOT NULL,
            status text NOT NULL,
            input text,
            result text,
            error text,
            status_reason text,
            priority integer NOT NULL DEFAULT 0,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            completed_at bigint,
            due_at bigint,
            owner text,
            lease_epoch bigint NOT NULL DEFAULT 0,
            lease_expires_at bigint,
            cancel_requested boolean NOT NULL DEFAULT false,
            recovery_attempts integer NOT NULL DEFAULT 0,
            next_index bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_runnable ON runs (priority DESC, due_at) WHERE due_at IS NOT NULL;
        CREATE INDEX runs_created ON runs (created_at DESC, run_id DESC);
        CREATE INDEX runs_owner ON runs (owner) WHERE owner IS NOT NULL;
        CREATE TABLE journal (
            run_id text NOT NULL,
            idx bigint NOT NULL,
            seq integer NOT NULL,
            kind text NOT NULL,
            name text NOT NULL,
            attempt integer NOT NULL DEFAULT 0,
            started_at bigint,
            recorded_at bigint NOT NULL,
            payload text,
            error text,
            retry_at bigint,
            PRIMARY KEY (run_id, idx)
        );
        -- Wakes idle workers (LISTEN "<schema>.work"): a run was created, asked to cancel, or released and due now.
        CREATE FUNCTION notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_TABLE_SCHEMA || '.work', NEW.run_id);
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER runs_created_notify AFTER INSERT ON runs
            FOR EACH ROW EXECUTE FUNCTION notify_work();
        CREATE TRIGGER runs_cancel_notify AFTER UPDATE OF cancel_requested ON runs
            FOR EACH ROW WHEN (NEW.cancel_requested AND NOT OLD.cancel_requested) EXECUTE FUNCTION notify_work();
        CREATE TRIGGER runs_released_notify AFTER UPDATE OF owner ON runs
            FOR EACH ROW WHEN (OLD.owner IS NOT NULL AND NEW.owner IS NULL AND NEW.due_at IS NOT NULL AND NEW.due_at <= NEW.updated_at)
            EXECUTE FUNCTION notify_work();
        """,

        // 2: retention purges finished runs by completion time
        """
        CREATE INDEX runs_finished ON runs (completed_at) WHERE completed_at IS NOT NULL;
        """,

        // 3: what a run says it is doing now
        """
        ALTER TABLE runs ADD COLUMN custom_status text;
        """,

        // 4: operators pause and resume runs
        """
        ALTER TABLE runs ADD COLUMN pause_requested boolean NOT NULL DEFAULT false;
        """,
    ];

    public static int LatestVersion => Migrations.Length;
}
