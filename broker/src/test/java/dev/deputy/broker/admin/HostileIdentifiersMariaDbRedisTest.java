package dev.deputy.broker.admin;

/** {@link HostileIdentifiersContract} on the MariaDB (a fresh database, dropped after) and Redis (a random key prefix). */
class HostileIdentifiersMariaDbRedisTest extends HostileIdentifiersContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
