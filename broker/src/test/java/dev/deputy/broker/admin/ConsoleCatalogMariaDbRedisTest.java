package dev.deputy.broker.admin;

/** {@link ConsoleCatalogContract} on MariaDB and Redis (sessions shared through Redis, every store on MariaDB). */
class ConsoleCatalogMariaDbRedisTest extends ConsoleCatalogContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
