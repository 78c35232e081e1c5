package dev.deputy.broker.admin;

/** {@link ConsoleAuditPagesContract} on the embedded default (H2 with the audit journal, in-process ephemeral store). */
class ConsoleAuditPagesEmbeddedTest extends ConsoleAuditPagesContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
