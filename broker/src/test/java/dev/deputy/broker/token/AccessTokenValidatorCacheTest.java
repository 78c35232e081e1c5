package dev.deputy.broker.token;

import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.keys.TenantKeys;
import dev.deputy.broker.oauth.AgentTestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verified-token cache of {@link AccessTokenValidator}: a token seen again is not parsed or verified again, but
 * expiry and the signing key's publication are judged on every call.
 */
class AccessTokenValidatorCacheTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;

    @BeforeAll
    static void start() {
        broker = AgentTestBroker.builder(dir).tenants("demo", "other").start();
        broker.standardFixture();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    static final class MovableClock extends Clock {
        Instant now = Instant.now();

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    static String mint(Duration ttl) {
        return broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "worker", null, List.of(), "worker",
                "https://files.example.com/mcp", List.of("files:read"), null, null, ttl, Map.of())).token();
    }

    @Test
    void aRepeatedTokenComesFromTheCacheAndStillExpires() {
        MovableClock clock = new MovableClock();
        AccessTokenValidator v = new AccessTokenValidator(broker.bean(SigningKeys.class), broker.bean(PublicUrl.class), clock);
        String token = mint(Duration.ofMinutes(1));
        AccessTokenValidator.Result first = v.validate("demo", token);
        assertTrue(first.valid(), String.valueOf(first.invalid()));
        assertEquals(1, v.cachedTokens());
        AccessTokenValidator.Result again = v.validate("demo", token);
        assertSame(first.claims(), again.claims(), "second call answered from the cache (no parse)");
        // another tenant never shares the entry
        assertEquals(AccessTokenValidator.Invalid.OTHER_TENANT, v.validate("other", token).invalid());

        clock.now = clock.now.plus(Duration.ofMinutes(2));
        assertEquals(AccessTokenValidator.Invalid.EXPIRED, v.validate("demo", token).invalid());
        assertEquals(0, v.cachedTokens(), "the expired entry is dropped");
    }

    @Test
    void aRetiredKeyInvalidatesCachedTokensAtOnce() {
        SigningKeys real = broker.bean(SigningKeys.class);
        Map<String, TenantKeys> published = new java.util.concurrent.ConcurrentHashMap<>();
        SigningKeys keys = new SigningKeys(null, null, null, (AuditLog) null) {
            @Override
            public TenantKeys keys(String tenantId) {
                return published.getOrDefault(tenantId, real.keys(tenantId));
            }
        };
        AccessTokenValidator v = new AccessTokenValidator(keys, broker.bean(PublicUrl.class));
        String token = mint(Duration.ofMinutes(5));
        assertTrue(v.validate("demo", token).valid());
        assertEquals(1, v.cachedTokens());
        TenantKeys k = real.keys("demo");
        published.put("demo", new TenantKeys(k.tenantId(), k.activeKid(), k.alg(), k.signer(), k.publicJwks(),
                k.jwksJson(), Map.of()));
        assertEquals(AccessTokenValidator.Invalid.UNKNOWN_KEY, v.validate("demo", token).invalid());
        assertEquals(0, v.cachedTokens());
    }

    @Test
    void invalidTokensAreNotCached() {
        AccessTokenValidator v = new AccessTokenValidator(broker.bean(SigningKeys.class), broker.bean(PublicUrl.class));
        String token = mint(Duration.ofMinutes(1));
        String[] parts = token.split("\\.");
        String forged = parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() - 4) + "AAAA";
        assertEquals(AccessTokenValidator.Invalid.BAD_SIGNATURE, v.validate("demo", forged).invalid());
        assertEquals(AccessTokenValidator.Invalid.BAD_SIGNATURE, v.validate("demo", forged).invalid());
        assertEquals(0, v.cachedTokens());
    }
}
