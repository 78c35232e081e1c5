package dev.deputy.broker.admin;

/** {@link ConsoleAuditPagesContract} on MariaDB and Redis (console sessions shared through Redis). */
class ConsoleAuditPagesMariaDbRedisTest extends ConsoleAuditPagesContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
