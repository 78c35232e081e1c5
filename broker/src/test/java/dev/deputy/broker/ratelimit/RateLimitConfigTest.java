package dev.deputy.broker.ratelimit;

import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.Limit;
import dev.deputy.broker.config.RateLimitsFile;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.storage.ephemeral.InProcessRateLimitStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code rate_limits:} keys of tenant.yml, the bucket keys, the audit sampling and the in-process buckets. */
class RateLimitConfigTest {
    @TempDir
    Path dir;

    TenantFile read(String yml) throws Exception {
        Path f = dir.resolve("tenant.yml");
        Files.writeString(f, "display_name: T\n" + yml);
        return YamlFiles.read(f, TenantFile.class);
    }

    @Test
    void limitsParseAndDefault() throws Exception {
        RateLimitsFile d = read("").rateLimits();
        assertFalse(d.tokenPerClient().on(), "per client is off by default (the bench pushes ~5,000/s from one agent)");
        assertFalse(d.tenant().on());
        assertEquals("300/1m", d.authorizePerSource().toString());
        assertEquals("300/1m", d.failedClientAuthPerSource().toString());
        RateLimitsFile f = read("""
                rate_limits:
                  token_per_client: 5000/1s
                  tenant: " 20000 / 1s "
                  authorize_per_source: off
                  failed_client_auth_per_source: 10/PT1H
                """).rateLimits();
        assertEquals(new Limit(5000, Duration.ofSeconds(1)), f.tokenPerClient());
        assertEquals(new Limit(20000, Duration.ofSeconds(1)), f.tenant());
        assertFalse(f.authorizePerSource().on());
        assertEquals("10/1h", f.failedClientAuthPerSource().toString());
    }

    @Test
    void badLimitsStopTheBrokerWithFileAndLine() {
        for (String bad : new String[]{"token_per_client: 10", "token_per_client: ten/1m", "token_per_client: 10/0s",
                "token_per_client: 10/500ms", "token_per_client: -1/1m", "token_per_client: 10/2d", "token_per_client: on",
                "per_client: 10/1m", "token_per_client: 10/1m/2"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> read("rate_limits:\n  " + bad + "\n"), bad);
            assertTrue(e.getMessage().contains("tenant.yml:3"), bad + " → " + e.getMessage());
        }
    }

    @Test
    void bucketKeysHashWhatIsNotPlain() {
        Limit l = new Limit(3, Duration.ofMinutes(1));
        assertEquals("rl:token_per_client:demo:agent.one-2:3/1m",
                RateLimiter.key(RateLimiter.Kind.TOKEN_PER_CLIENT, "demo", "agent.one-2", l));
        assertEquals("rl:authorize_per_source:demo:2001:db8::1:3/1m",
                RateLimiter.key(RateLimiter.Kind.AUTHORIZE_PER_SOURCE, "demo", "2001:db8::1", l));
        String hostile = RateLimiter.key(RateLimiter.Kind.TOKEN_PER_CLIENT, "demo", "ü ser\n" + "x".repeat(5000), l);
        assertTrue(hostile.matches("rl:token_per_client:demo:#[A-Za-z0-9_-]{43}:3/1m"), hostile);
    }

    @Test
    void sampling() {
        assertTrue(RateLimiter.sampled(1));
        assertTrue(RateLimiter.sampled(10));
        assertTrue(RateLimiter.sampled(1000));
        for (long n : new long[]{0, 2, 9, 11, 20, 99, 101, 110, 1001}) {
            assertFalse(RateLimiter.sampled(n), Long.toString(n));
        }
    }

    @Test
    void inProcessBucketsRefuseWithTheWaitAndForgetIdleKeys() {
        try (InProcessRateLimitStore s = new InProcessRateLimitStore()) {
            Limit l = new Limit(2, Duration.ofHours(1));
            assertTrue(s.take("k", l).allowed());
            assertTrue(s.take("k", l).allowed());
            RateLimitStore.Probe p = s.take("k", l);
            assertFalse(p.allowed());
            // one token every 30 min
            assertTrue(p.retryAfterSeconds() > 1700 && p.retryAfterSeconds() <= 1800, "" + p.retryAfterSeconds());
            assertTrue(s.take("other", l).allowed());
        }
    }
}
