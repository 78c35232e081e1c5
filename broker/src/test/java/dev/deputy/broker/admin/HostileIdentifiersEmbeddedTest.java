package dev.deputy.broker.admin;

/** {@link HostileIdentifiersContract} on the embedded default (H2 with the audit journal, in-process ephemeral store). */
class HostileIdentifiersEmbeddedTest extends HostileIdentifiersContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
