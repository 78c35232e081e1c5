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

    /**
     * The {@code jti} mark goes through Lettuce's asynchronous API and waits untimed: a Redis that stops answering
     * (here a relay in front of the real one that swallows everything once told to) still answers the mark with the
     * store's 503 within the command timeout (2 s, Lettuce's {@code TimeoutOptions}), and the mark is not taken.
     */
    @Test
    void aMarkOnARedisThatStopsAnsweringFailsWithinTheCommandTimeout() throws Exception {
        io.lettuce.core.RedisURI real = io.lettuce.core.RedisURI.create(ns.uri());
        java.util.concurrent.atomic.AtomicBoolean swallow = new java.util.concurrent.atomic.AtomicBoolean();
        try (java.net.ServerSocket relay = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!relay.isClosed()) {
                    try {
                        java.net.Socket in = relay.accept();
                        java.net.Socket out = new java.net.Socket(real.getHost(), real.getPort());
                        for (java.net.Socket[] pair : new java.net.Socket[][]{{in, out}, {out, in}}) {
                            java.net.Socket from = pair[0];
                            java.net.Socket to = pair[1];
                            Thread.ofVirtual().start(() -> {
                                byte[] buf = new byte[8192];
                                try (from; to) {
                                    int n;
                                    while ((n = from.getInputStream().read(buf)) >= 0) {
                                        if (!swallow.get()) {
                                            to.getOutputStream().write(buf, 0, n);
                                        }
                                    }
                                } catch (java.io.IOException ignored) {
                                    // the other side closed
                                }
                            });
                        }
                    } catch (java.io.IOException e) {
                        return; // relay closed
                    }
                }
            });
            io.lettuce.core.RedisURI viaRelay = io.lettuce.core.RedisURI.create(ns.uri());
            viaRelay.setHost("127.0.0.1");
            viaRelay.setPort(relay.getLocalPort());
            String via = viaRelay.toURI().toString();
            try (RedisEphemeralStore relayed = new RedisEphemeralStore(via, ns.prefix(), Duration.ofSeconds(5))) {
                String k = key("pkjwt-jti:relayed");
                assertTrue(relayed.markUsed(key("pkjwt-jti:before"), Duration.ofSeconds(60)), "answers through the relay");
                swallow.set(true);
                long t0 = System.nanoTime();
                // preemptive: an untimed wait that nothing bounds would hang here rather than fail
                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                        org.junit.jupiter.api.Assertions.assertThrows(dev.deputy.broker.health.ServiceUnavailableException.class,
                                () -> relayed.markUsed(k, Duration.ofSeconds(60))));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms >= 1_500 && ms < 5_000, "refused after the 2-s command timeout, not before and not never: " + ms + " ms");
                assertEquals(null, ns.redis().get(ns.prefix() + k), "the swallowed SET never reached Redis");
            }
        }
    }
}
