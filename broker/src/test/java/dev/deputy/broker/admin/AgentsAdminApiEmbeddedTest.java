package dev.deputy.broker.admin;

/** The admin API on the embedded default (H2 + in-process ephemeral store). */
class AgentsAdminApiEmbeddedTest extends AgentsAdminApiContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
