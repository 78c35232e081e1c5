package dev.deputy.broker.oauth;

import dev.deputy.broker.testing.MariaDbDatabase;

/** Finding 1 end to end on MariaDB (a database of its own, dropped after). */
class KeyIntegrityHttpMariaDbTest extends KeyIntegrityHttpContract {
    private MariaDbDatabase db;

    @Override
    synchronized String mysqlUrl() {
        if (db == null) {
            db = MariaDbDatabase.create();
        }
        return db.jdbcUrl();
    }

    @Override
    void dropDatabase() {
        if (db != null) {
            db.close();
        }
    }
}
