package dev.deputy.broker.storage;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The broker as it starts (its injected {@link Database}, not the constructor the storage tests use) runs embedded H2
 * with the page cache of {@link Database#H2_CACHE_KB}, and {@code deputy.h2.cache-kb} still sets another. Until
 * session 14 the injected constructor carried a default of its own (4 MiB) and the documented 1 MiB held only in the
 * tests; the larger cache doubled what each young collection copies under AuthZEN load (docs/benchmarks.md).
 */
class H2CacheDefaultTest {
    @TempDir
    Path dir;

    /** H2's page cache of this database, in MiB, as H2 reports it. */
    static String cacheMb(Database db) {
        Object mb = db.read(dsl -> dsl.fetchValue(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'info.CACHE_MAX_SIZE'"));
        return String.valueOf(mb);
    }

    static String cacheMb(TestBroker b) {
        return cacheMb(b.bean(Database.class));
    }

    @Test
    void theStartedBrokerUsesTheDocumentedCacheAndThePropertyOverridesIt() {
        try (TestBroker b = TestBroker.builder(dir.resolve("data"), ConfigFixture.copyOfShipped(dir.resolve("config")))
                .start()) {
            assertEquals(String.valueOf(Database.H2_CACHE_KB / 1024), cacheMb(b));
        }
        try (TestBroker b = TestBroker.builder(dir.resolve("data2"), ConfigFixture.copyOfShipped(dir.resolve("config2")))
                .property("deputy.h2.cache-kb", 3072).start()) {
            assertEquals("3", cacheMb(b));
        }
    }
}
