package dev.deputy.broker.admin;

/** {@link ConsoleAdminContract} on MariaDB and Redis (sessions and admin tokens shared through Redis). */
class ConsoleAdminMariaDbRedisTest extends ConsoleAdminContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
