package dev.deputy.broker.oauth;

/** Finding 1 end to end on the embedded default (H2). */
class KeyIntegrityHttpH2Test extends KeyIntegrityHttpContract {
    @Override
    String mysqlUrl() {
        return null;
    }

    @Override
    void dropDatabase() {
    }
}
