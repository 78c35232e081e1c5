package dev.deputy.broker.admin;

/** {@link ConsoleAdminContract} on the embedded default (H2, in-process ephemeral store). */
class ConsoleAdminEmbeddedTest extends ConsoleAdminContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
