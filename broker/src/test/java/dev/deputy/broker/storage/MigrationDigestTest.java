package dev.deputy.broker.storage;

import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.testing.MariaDbDatabase;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jooq.impl.DSL;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static dev.deputy.broker.storage.jooq.Tables.SCHEMA_DIGESTS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A start skips Flyway when the schema is recorded at this build's migration set, and runs it otherwise — on the
 * embedded default and on MariaDB. That Flyway did not run is shown by what it would have done: a history row
 * removed between two starts would have made it apply V230 again (and fail on the existing table).
 */
class MigrationDigestTest {
    @Test
    void digestIsStableAndCoversJavaMigrations() throws Exception {
        ClassLoader cl = getClass().getClassLoader();
        String a = MigrationSet.digest(cl, List.of(new IdentifierCollation()));
        assertEquals(a, MigrationSet.digest(cl, List.of(new IdentifierCollation())));
        assertEquals(64, a.length());
        assertNotEquals(a, MigrationSet.digest(cl, List.of(new IdentifierCollation(), new Extra())));
    }

    @Test
    void h2(@TempDir Path dir) {
        check(() -> new Database(new DeputySettings(dir, dir, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty())));
    }

    @Test
    void mariaDb(@TempDir Path dir) {
        try (MariaDbDatabase db = MariaDbDatabase.create()) {
            check(() -> new Database(new DeputySettings(dir, dir, Optional.empty(), Optional.empty(),
                    Optional.of(new DeputySettings.MySql(db.jdbcUrl(), db.user(), db.password())), Optional.empty())));
        }
    }

    private static void check(Supplier<Database> open) {
        org.jooq.Table<?> history = DSL.table(DSL.name("flyway_schema_history"));
        Database db = open.get();
        String digest = db.read(dsl -> dsl.select(SCHEMA_DIGESTS.DIGEST).from(SCHEMA_DIGESTS).fetchSingle().value1());
        int applied = count(db, history);
        assertTrue(applied > 20, "applied " + applied);
        // a schema not recorded at this set: the next start runs Flyway (nothing to apply) and records it
        db.tx(dsl -> dsl.deleteFrom(SCHEMA_DIGESTS).execute());
        db.close();

        db = open.get();
        List<String> digests = db.read(dsl -> dsl.select(SCHEMA_DIGESTS.DIGEST).from(SCHEMA_DIGESTS).fetch().getValues(0, String.class));
        assertEquals(List.of(digest), digests);
        assertEquals(applied, count(db, history));
        // what Flyway would apply again if it ran: the last migration's history row
        int removed = db.tx(dsl -> dsl.deleteFrom(history).where(DSL.field(DSL.name("version")).eq("230")).execute());
        assertEquals(1, removed);
        db.close();

        db = open.get();
        try {
            // skipped: the row stays missing (Flyway would have re-run V230 and failed on the existing table)
            assertEquals(applied - 1, count(db, history));
            assertEquals(1, count(db, SCHEMA_DIGESTS));
        } finally {
            db.close();
        }
    }

    private static int count(Database db, org.jooq.Table<?> table) {
        Integer n = db.read(dsl -> dsl.fetchCount(table));
        return n;
    }

    /** A Java migration the build does not have: another set, another digest. */
    private static final class Extra implements JavaMigration {
        @Override
        public MigrationVersion getVersion() {
            return MigrationVersion.fromVersion("999");
        }

        @Override
        public String getDescription() {
            return "extra";
        }

        @Override
        public Integer getChecksum() {
            return 1;
        }

        @Override
        public boolean canExecuteInTransaction() {
            return true;
        }

        @Override
        public void migrate(Context context) {
        }
    }
}
