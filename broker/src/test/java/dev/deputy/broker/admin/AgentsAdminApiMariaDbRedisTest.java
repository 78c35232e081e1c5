package dev.deputy.broker.admin;

/** The admin API on MariaDB (a fresh database, dropped after) and Redis (a random key prefix). */
class AgentsAdminApiMariaDbRedisTest extends AgentsAdminApiContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
