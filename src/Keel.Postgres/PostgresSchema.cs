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

        // 5: signal inboxes and pending approvals; NOTIFY when a signal arrives or wakes a released run
        """
        ALTER TABLE runs ADD COLUMN waiting_for text[];
        CREATE TABLE signals (
            id bigserial PRIMARY KEY,
            run_id text NOT NULL,
            name text NOT NULL,
            payload text,
            sent_at bigint NOT NULL
        );
        CREATE INDEX signals_run ON signals (run_id, name, id);
        CREATE TABLE approvals (
            run_id text NOT NULL,
            seq integer NOT NULL,
            name text NOT NULL,
            request text NOT NULL,
            requested_at bigint NOT NULL,
            deadline bigint,
            decided_at bigint,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX approvals_pending ON approvals (requested_at) WHERE decided_at IS NULL;
        CREATE TRIGGER runs_woken_notify AFTER UPDATE OF due_at ON runs
            FOR EACH ROW WHEN (NEW.owner IS NULL AND NEW.due_at IS NOT NULL AND OLD.due_at IS DISTINCT FROM NEW.due_at AND NEW.due_at <= NEW.updated_at)
            EXECUTE FUNCTION notify_work();
        -- "signal:<run id>" tells the worker that holds the run to look in its inbox now.
        CREATE FUNCTION notify_signal() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_TABLE_SCHEMA || '.work', 'signal:' || NEW.run_id);
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER signals_notify AFTER INSERT ON signals
            FOR EACH ROW EXECUTE FUNCTION notify_signal();
        """,

        // 6: child runs know their parent; a run that continued as new knows its successor
        """
        ALTER TABLE runs ADD COLUMN continued_as text;
        ALTER TABLE runs ADD COLUMN parent_run_id text;
        ALTER TABLE runs ADD COLUMN parent_seq integer;
        CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
        """,

        // 7: "finished:<run id>" when a run ends, so a client waiting in any process learns it at once; room on each
        // page of runs for updated rows, so the update of every step stays on its page without touching the indexes (HOT)
        """
        ALTER TABLE runs SET (fillfactor = 70);
        CREATE FUNCTION notify_finished() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_TABLE_SCHEMA || '.work', 'finished:' || NEW.run_id);
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER runs_finished_notify AFTER UPDATE OF status ON runs
            FOR EACH ROW WHEN (NEW.status IN ('Completed', 'Failed', 'Cancelled', 'Blocked') AND OLD.status IS DISTINCT FROM NEW.status)
            EXECUTE FUNCTION notify_finished();
        """,

        // 8: a run created held by the worker of the process that starts it (eager start) wakes no other worker;
        // claims find free runs through an index without the held ones (it replaces runs_runnable)
        """
        CREATE INDEX runs_claimable ON runs (priority DESC, due_at) WHERE owner IS NULL AND due_at IS NOT NULL;
        DROP INDEX runs_runnable;
        DROP TRIGGER runs_created_notify ON runs;
        CREATE TRIGGER runs_created_notify AFTER INSERT ON runs
            FOR EACH ROW WHEN (NEW.owner IS NULL) EXECUTE FUNCTION notify_work();
        """,

        // 9: blame for a worker's death is kept per run: how often the run was interrupted without progress, whether its
        // holder runs it alone (1: claimed alone; 2: its code started, so a death now is its own), and what it was about
        // to do; claims no longer count recoveries
        """
        ALTER TABLE runs ADD COLUMN interrupted integer NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN held_alone smallint NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN recovery_point text;
        UPDATE runs SET recovery_attempts = 0 WHERE status NOT IN ('Completed', 'Failed', 'Cancelled', 'Blocked') AND recovery_attempts <> 0;
        CREATE INDEX runs_interrupted ON runs (due_at) WHERE interrupted > 0;
        """,

        // 10: workers register themselves: what they serve, where they run, when they were last seen
        """
        CREATE TABLE workers (
            worker_id text PRIMARY KEY,
            host text NOT NULL,
            pid integer NOT NULL,
            build text,
            workflows text[] NOT NULL,
            started_at bigint NOT NULL,
            last_seen_at bigint NOT NULL,
            stopped_at bigint
        );
        """,

        // 11: a released run keeps the JSON kinds of payload its waits can read, by signal name: a send of another kind is refused
        """
        ALTER TABLE runs ADD COLUMN waiting_kinds text;
        """,

        // 12: steps' default idempotency keys no longer move when other steps are added (run id and step name instead of run id
        // and position): runs in flight keep the keys their steps used, marked by version -1 of the change "keel.idempotency-key"
        """
        INSERT INTO journal (run_id, idx, seq, kind, name, recorded_at, payload)
        SELECT run_id, next_index, 0, 'VersionMarker', 'keel.idempotency-key', created_at, '-1'
        FROM runs WHERE status NOT IN ('Completed', 'Failed', 'Cancelled');
        UPDATE runs SET next_index = next_index + 1 WHERE status NOT IN ('Completed', 'Failed', 'Cancelled');
        """,

        // 13: a run's token totals (its model calls' usage), kept by the append that journals each call; runs recorded
        // before have none (0 calls), their usage stays readable from their journal
        """
        ALTER TABLE runs ADD COLUMN input_tokens bigint NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN output_tokens bigint NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN total_tokens bigint NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN model_calls bigint NOT NULL DEFAULT 0;
        """,

        // 14: chat messages stored once by their content's hash, and which runs refer to them (a message goes when no
        // remaining run does)
        """
        CREATE TABLE messages (
            hash text PRIMARY KEY,
            body text NOT NULL
        );
        CREATE TABLE run_messages (
            run_id text NOT NULL,
            hash text NOT NULL,
            PRIMARY KEY (run_id, hash)
        );
        CREATE INDEX run_messages_hash ON run_messages (hash);
        """,

        // 15: a run records the build it started on (set by its first claim, or at creation for an eager start or a fork)
        """
        ALTER TABLE runs ADD COLUMN build_id text;
        """,

        // 16: the trace the run's start belonged to (W3C traceparent), so each resume continues it
        """
        ALTER TABLE runs ADD COLUMN trace_parent text;
        """,
    ];

    public static int LatestVersion => Migrations.Length;
}
