package dev.deputy.broker.storage;

import java.nio.file.Path;

/** The repository contract on a real MariaDB ({@code DEPUTY_TEST_MYSQL_URL}); fails if it is unreachable. */
class RepositoryMariaDbTest extends RepositoryContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }

    @Override
    String expectedDialect() {
        return "mariadb";
    }

    /** A user lookup by e-mail reads one range of its index (V220), not the tenant's rows. */
    @org.junit.jupiter.api.Test
    void aUserLookupByEmailReadsItsIndex() {
        String t = unique("t");
        for (int i = 0; i < 200; i++) {
            backend.users().insert(new dev.deputy.broker.federation.User(t, "usr_" + i, "okta", "https://idp.example.com",
                    "sub-" + i, "User" + i + "@Example.com", null, java.util.List.of(), java.util.List.of(),
                    dev.deputy.broker.federation.User.Status.ACTIVE, i, i));
        }
        org.jooq.Result<org.jooq.Record> plan = backend.database().dsl().fetch("EXPLAIN select * from users where tenant_id = ? "
                + "and email_lower = ? order by created_at, id", t, "user7@example.com");
        org.junit.jupiter.api.Assertions.assertEquals("users_email_lower", plan.get(0).get("key"), plan.formatCSV());
    }
}
