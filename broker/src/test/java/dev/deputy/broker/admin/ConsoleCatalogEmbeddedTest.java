package dev.deputy.broker.admin;

/** {@link ConsoleCatalogContract} on the embedded default (H2, in-process ephemeral store). */
class ConsoleCatalogEmbeddedTest extends ConsoleCatalogContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
