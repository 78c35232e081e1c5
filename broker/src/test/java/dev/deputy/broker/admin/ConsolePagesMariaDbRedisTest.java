package dev.deputy.broker.admin;

/** {@link ConsolePagesContract} on MariaDB and Redis: the overview's aggregates in MariaDB's SQL, sessions in Redis. */
class ConsolePagesMariaDbRedisTest extends ConsolePagesContract {
    @Override
    boolean mariadbAndRedis() {
        return true;
    }
}
