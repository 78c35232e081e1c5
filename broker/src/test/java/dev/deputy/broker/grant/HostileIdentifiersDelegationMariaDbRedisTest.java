package dev.deputy.broker.grant;

/** {@link HostileIdentifiersDelegationContract} on the MariaDB (a fresh database, dropped after) and Redis (a random key prefix). */
class HostileIdentifiersDelegationMariaDbRedisTest extends HostileIdentifiersDelegationContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
