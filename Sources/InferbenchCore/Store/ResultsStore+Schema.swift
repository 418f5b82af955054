import GRDB

extension ResultsStore {
    /// Schema versions, oldest first. Never edit a registered migration: add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Dates are ISO 8601 text in UTC, so they sort and compare as strings.
            try db.execute(
                sql: """
                    CREATE TABLE run (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,                -- 'run' or 'load'
                        started_at TEXT NOT NULL,
                        finished_at TEXT,
                        status TEXT NOT NULL,              -- 'complete' or 'incomplete'
                        command TEXT NOT NULL,
                        hostname TEXT NOT NULL,
                        host TEXT NOT NULL,                -- HostInfo JSON
                        inferbench_version TEXT NOT NULL,
                        cells_total INTEGER NOT NULL,
                        cells_ok INTEGER NOT NULL,
                        results_path TEXT,                 -- the results.json written beside the store, if any
                        results_json TEXT NOT NULL         -- the whole RunResults: the source of truth
                    );
                    CREATE INDEX run_started ON run(started_at);
                    CREATE TABLE environment (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        python TEXT NOT NULL,
                        python_version TEXT,
                        torch TEXT,
                        cuda TEXT,
                        cudnn TEXT,
                        triton TEXT,
                        device TEXT,
                        gpu TEXT,
                        gpu_count INTEGER NOT NULL,
                        driver TEXT,
                        PRIMARY KEY (run_id, name)
                    );
                    CREATE TABLE cell (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        cell_id TEXT NOT NULL,
                        model TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        compile TEXT NOT NULL,
                        precision TEXT NOT NULL,
                        batch_size INTEGER NOT NULL,
                        channels_last INTEGER NOT NULL,
                        device TEXT,
                        status TEXT NOT NULL,
                        error_kind TEXT,
                        error_message TEXT,
                        n INTEGER,
                        mean REAL, stddev REAL, min REAL, p50 REAL, p90 REAL, p95 REAL, p99 REAL, p999 REAL, max REAL,
                        p50_ci_low REAL, p50_ci_high REAL,
                        throughput REAL,
                        load_s REAL, compile_s REAL, first_call_ms REAL,
                        peak_allocated_mb REAL,
                        PRIMARY KEY (run_id, cell_id)
                    );
                    CREATE INDEX cell_model ON cell(model);
                    CREATE TABLE histogram (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        cell_id TEXT NOT NULL,
                        encoding TEXT NOT NULL,            -- 'int64le-ns': raw samples, little-endian nanoseconds
                        count INTEGER NOT NULL,
                        samples BLOB NOT NULL,
                        PRIMARY KEY (run_id, cell_id)
                    );
                    CREATE TABLE load_step (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        step INTEGER NOT NULL,
                        scenario TEXT NOT NULL,
                        target_qps REAL,
                        achieved_qps REAL NOT NULL,
                        concurrency INTEGER,
                        completed INTEGER NOT NULL,
                        errors INTEGER NOT NULL,
                        p50 REAL, p99 REAL,
                        sla_met INTEGER,
                        PRIMARY KEY (run_id, step)
                    );
                    CREATE TABLE load_window (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        step INTEGER NOT NULL,
                        t REAL NOT NULL,
                        seconds REAL NOT NULL,
                        qps REAL NOT NULL,
                        p50 REAL, p99 REAL,
                        errors INTEGER NOT NULL,
                        gpu_util REAL, power_w REAL, mem_used_mb REAL
                    );
                    CREATE INDEX load_window_run ON load_window(run_id, step);
                    CREATE TABLE telemetry (
                        run_id TEXT PRIMARY KEY NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        timeline_json TEXT NOT NULL        -- the run's Timeline (GPU and host samples)
                    );
                    """)
        }
        migrator.registerMigration("v2") { db in
            // Load tests record themselves as they go: windows as they close (with the whole window
            // as JSON, to rebuild a killed test's results), and telemetry in pieces.
            try db.execute(
                sql: """
                    ALTER TABLE run ADD COLUMN model TEXT;             -- a load test's model ('run' keeps its models in cell)
                    ALTER TABLE load_window ADD COLUMN start_t REAL;   -- monotonic seconds, the clock of telemetry samples
                    ALTER TABLE load_window ADD COLUMN end_t REAL;
                    ALTER TABLE load_window ADD COLUMN offered_qps REAL;
                    ALTER TABLE load_window ADD COLUMN window_json TEXT;
                    CREATE TABLE telemetry_chunk (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        timeline_json TEXT NOT NULL        -- a Timeline of the samples taken since the previous chunk
                    );
                    CREATE INDEX telemetry_chunk_run ON telemetry_chunk(run_id, seq);
                    """)
        }
        migrator.registerMigration("v3") { db in
            // `inferbench recommend` searches: the whole recommend.json, saved after each stage, so
            // `recommend --resume ID` continues one from the store (its stages are runs of their own).
            try db.execute(
                sql: """
                    CREATE TABLE recommend (
                        id TEXT PRIMARY KEY NOT NULL,
                        started_at TEXT NOT NULL,
                        finished_at TEXT,
                        status TEXT NOT NULL,              -- 'complete' or 'incomplete'
                        command TEXT NOT NULL,
                        model TEXT NOT NULL,
                        sla_p99_ms REAL NOT NULL,
                        folder TEXT NOT NULL,              -- the search folder, absolute
                        answer TEXT,                       -- the recommended configuration, if any
                        record_json TEXT NOT NULL          -- the whole RecommendRecord: the source of truth
                    );
                    CREATE INDEX recommend_started ON recommend(started_at);
                    """)
        }
        return migrator
    }

    /// The migrations applied to this store, oldest first (e.g. ["v1", "v2", "v3"]).
    public func appliedMigrations() throws(InferbenchError) -> [String] {
        try access("read the schema version") { try pool.read { db in try Self.migrator.appliedMigrations(db) } }
    }

    /// The store's table names, sorted (for `doctor`-style checks and tests).
    public func tableNames() throws(InferbenchError) -> [String] {
        try access("read the schema") {
            try pool.read { db in
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
            }
        }
    }
}
