package dev.deputy.broker.admin;

/** {@link ConsolePagesContract} on the embedded default (H2, in-process ephemeral store). */
class ConsolePagesEmbeddedTest extends ConsolePagesContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
