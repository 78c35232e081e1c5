package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.testing.RedisNamespace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ephemeral store contract on a real Redis ({@code DEPUTY_TEST_REDIS_URI}), under a key prefix of
 * this run's own that is deleted afterwards. Fails (does not skip) when Redis is unreachable.
 */
class RedisEphemeralStoreTest extends EphemeralStoreContract {
    RedisNamespace ns;

    @Override
    EphemeralStore open() {
        ns = RedisNamespace.create();
        return new RedisEphemeralStore(ns.uri(), ns.prefix(), Duration.ofSeconds(5));
    }

    @Override
    String expectedBackend() {
        return "redis";
    }

    @AfterAll
    void dropNamespace() {
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void keysLiveUnderThePrefixWithTheirTtl() {
        String k = key("code");
        store.put(k, "v", Duration.ofSeconds(60));
        assertEquals("v", ns.redis().get(ns.prefix() + k));
        long pttl = ns.redis().pttl(ns.prefix() + k);
        assertTrue(pttl > 50_000 && pttl <= 60_000, "pttl " + pttl);
        assertEquals(null, ns.redis().get(k), "nothing outside the prefix");
    }

    @Test
    void twoPrefixesDoNotSeeEachOther() {
        try (RedisNamespace other = RedisNamespace.create();
             RedisEphemeralStore otherStore = new RedisEphemeralStore(other.uri(), other.prefix(), Duration.ofSeconds(5))) {
            String k = key("shared-name");
            store.put(k, "mine", Duration.ofSeconds(60));
            assertEquals(Optional.empty(), otherStore.get(k));
            otherStore.put(k, "theirs", Duration.ofSeconds(60));
            assertEquals(Optional.of("mine"), store.get(k));
        }
    }

    @Test
    void twoNodesShareStateAndFanOut() throws Exception {
        // a second store on the same prefix is another broker node
        try (RedisEphemeralStore node2 = new RedisEphemeralStore(ns.uri(), ns.prefix(), Duration.ofSeconds(5))) {
            String code = key("code");
            store.put(code, "issued-on-node-1", Duration.ofSeconds(60));
            assertEquals(Optional.of("issued-on-node-1"), node2.take(code));
            assertEquals(Optional.empty(), store.take(code));

            String channel = key("revoked");
            java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
            try (AutoCloseable sub = node2.subscribe(channel, got::add)) {
                store.publish(channel, "agt_X");
                assertEquals("agt_X", got.poll(5, java.util.concurrent.TimeUnit.SECONDS));
            }
        }
    }
}
