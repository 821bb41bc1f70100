namespace Keel.Sqlite;

/// <summary>The schema, as numbered migrations. Never edit a shipped migration: add the next one.</summary>
internal static class SqliteSchema
{
    public static readonly string[] Migrations =
    [
        // 1: runs and their journals
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            workflow TEXT NOT NULL,
            status TEXT NOT NULL,
            input TEXT,
            result TEXT,
            error TEXT,
            status_reason TEXT,
            priority INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            completed_at INTEGER,
            due_at INTEGER,
            owner TEXT,
            lease_epoch INTEGER NOT NULL DEFAULT 0,
            lease_expires_at INTEGER,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            recovery_attempts INTEGER NOT NULL DEFAULT 0,
            next_index INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_runnable ON runs (priority DESC, due_at) WHERE due_at IS NOT NULL;
        CREATE INDEX runs_created ON runs (created_at DESC, run_id DESC);
        CREATE INDEX runs_owner ON runs (owner) WHERE owner IS NOT NULL;
        CREATE TABLE journal (
            run_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            attempt INTEGER NOT NULL DEFAULT 0,
            started_at INTEGER,
            recorded_at INTEGER NOT NULL,
            payload TEXT,
            error TEXT,
            retry_at INTEGER,
            PRIMARY KEY (run_id, idx)
        ) WITHOUT ROWID;
        """,

        // 2: retention purges finished runs by completion time
        """
        CREATE INDEX runs_finished ON runs (completed_at) WHERE completed_at IS NOT NULL;
        """,

        // 3: what a run says it is doing now
        """
        ALTER TABLE runs ADD COLUMN custom_status TEXT;
        """,

        // 4: operators pause and resume runs
        """
        ALTER TABLE runs ADD COLUMN pause_requested INTEGER NOT NULL DEFAULT 0;
        """,

        // 5: signal inboxes and pending approvals
        """
        ALTER TABLE runs ADD COLUMN waiting_for TEXT;
        CREATE TABLE signals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            name TEXT NOT NULL,
            payload TEXT,
            sent_at INTEGER NOT NULL
        );
        CREATE INDEX signals_run ON signals (run_id, name, id);
        CREATE TABLE approvals (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            request TEXT NOT NULL,
            requested_at INTEGER NOT NULL,
            deadline INTEGER,
            decided_at INTEGER,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;
        CREATE INDEX approvals_pending ON approvals (requested_at) WHERE decided_at IS NULL;
        """,

        // 6: child runs know their parent; a run that continued as new knows its successor
        """
        ALTER TABLE runs ADD COLUMN continued_as TEXT;
        ALTER TABLE runs ADD COLUMN parent_run_id TEXT;
        ALTER TABLE runs ADD COLUMN parent_seq INTEGER;
        CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
        """,

        // 7: a run's journal length is read from its journal (appends no longer rewrite the run's row to count it)
        """
        ALTER TABLE runs DROP COLUMN next_index;
        """,

        // 8: blame for a worker's death is kept per run: how often the run was interrupted without progress, whether its
        // holder runs it alone (1: claimed alone; 2: its code started, so a death now is its own), and what it was about
        // to do; claims no longer count recoveries
        """
        ALTER TABLE runs ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN held_alone INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN recovery_point TEXT;
        UPDATE runs SET recovery_attempts = 0 WHERE status NOT IN ('Completed', 'Failed', 'Cancelled', 'Blocked');
        CREATE INDEX runs_interrupted ON runs (due_at) WHERE interrupted > 0;
        """,

        // 9: workers register themselves: what they serve, where they run, when they were last seen
        """
        CREATE TABLE workers (
            worker_id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            build TEXT,
            workflows TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            stopped_at INTEGER
        );
        """,

        // 10: a released run keeps the JSON kinds of payload its waits can read, by signal name: a send of another kind is refused
        """
        ALTER TABLE runs ADD COLUMN waiting_kinds TEXT;
        """,

        // 11: steps' default idempotency keys no longer move when other steps are added (run id and step name instead of run id
        // and position): runs in flight keep the keys their steps used, marked by version -1 of the change "keel.idempotency-key"
        """
        INSERT INTO journal (run_id, idx, seq, kind, name, recorded_at, payload)
        SELECT r.run_id, COALESCE((SELECT MAX(j.idx) + 1 FROM journal j WHERE j.run_id = r.run_id), 0), 0, 'VersionMarker',
               'keel.idempotency-key', r.created_at, '-1'
        FROM runs r WHERE r.status NOT IN ('Completed', 'Failed', 'Cancelled');
        """,

        // 12: a run's token totals (its model calls' usage), kept by the append that journals each call; runs recorded
        // before have none (0 calls), their usage stays readable from their journal
        """
        ALTER TABLE runs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN total_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN model_calls INTEGER NOT NULL DEFAULT 0;
        """,

        // 13: chat messages stored once by their content's hash, and which runs refer to them (a message goes when no
        // remaining run does)
        """
        CREATE TABLE messages (
            hash TEXT PRIMARY KEY,
            body TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE run_messages (
            run_id TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (run_id, hash)
        ) WITHOUT ROWID;
        CREATE INDEX run_messages_hash ON run_messages (hash);
        """,

        // 14: a run records the build it started on (set by its first claim, or at creation for an eager start or a fork)
        """
        ALTER TABLE runs ADD COLUMN build_id TEXT;
        """,

        // 15: the trace the run's start belonged to (W3C traceparent), so each resume continues it
        """
        ALTER TABLE runs ADD COLUMN trace_parent TEXT;
        """,
    ];

    public static int LatestVersion => Migrations.Length;
}
