package dev.deputy.broker.keys;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.storage.Database;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rotation with overlap, driven by a clock the test moves: the next key is published before it signs,
 * tokens of the old key keep verifying against the JWKS after promotion, and the retired key leaves the
 * JWKS once every token it signed has expired (access_token_ttl + 5 min margin).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyRotationTest {
    // rotation 2h, prepublish 1h, token ttl 5m -> a retired key stays published 10 min
    static final String TENANT_YML = "display_name: Rotating\naccess_token_ttl: 5m\nkey_rotation_period: 2h\nkey_prepublish: 1h\n";
    static final Duration PUBLISH_WINDOW = Duration.ofMinutes(5).plus(SigningKeys.RETIRED_MARGIN);

    @TempDir
    static Path tmp;
    TestBroker broker;
    MutableClock clock;
    SigningKeys keys;

    @BeforeAll
    void start() {
        ConfigFixture cfg = ConfigFixture.at(tmp.resolve("config")).broker("default_tenant: r1\n");
        for (String t : List.of("r1", "r2", "r3", "r4")) {
            cfg.tenant(t, TENANT_YML);
        }
        cfg.tenant("ed", TENANT_YML + "signing_alg: EdDSA\n");
        cfg.tenant("rs", TENANT_YML + "signing_alg: RS256\n");
        broker = TestBroker.builder(tmp.resolve("data"), cfg.root()).start();
    }

    @BeforeEach
    void freshClock() {
        clock = new MutableClock(Instant.now().plusSeconds(1));
        keys = new SigningKeys(broker.bean(SigningKeyStore.class), broker.bean(SecretBox.class), broker.bean(Tenants.class), clock);
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    Tenant tenant(String id) {
        return broker.bean(Tenants.class).find(id).orElseThrow();
    }

    String sign(String tenant) {
        return keys.sign(tenant, new JOSEObjectType("at+jwt"), new JWTClaimsSet.Builder()
                .issuer("http://localhost/t/" + tenant).subject("user-1")
                .expirationTime(Date.from(Instant.now().plusSeconds(300))).build());
    }

    static String kidOf(String jwt) throws Exception {
        return SignedJWT.parse(jwt).getHeader().getKeyID();
    }

    static Set<String> kids(String jwksJson) throws Exception {
        return JWKSet.parse(jwksJson).getKeys().stream().map(JWK::getKeyID).collect(Collectors.toSet());
    }

    /** What a resource server does: find the key by kid in the JWKS and check the signature. */
    static boolean verifies(String jwt, String jwksJson) throws Exception {
        SignedJWT parsed = SignedJWT.parse(jwt);
        JWK jwk = JWKSet.parse(jwksJson).getKeyByKeyId(parsed.getHeader().getKeyID());
        if (jwk == null) {
            return false;
        }
        JWSVerifier v = switch (jwk.getKeyType().getValue()) {
            case "EC" -> new ECDSAVerifier(jwk.toECKey());
            case "RSA" -> new RSASSAVerifier(jwk.toRSAKey());
            default -> new Ed25519Verifier(jwk.toOctetKeyPair());
        };
        return parsed.verify(v);
    }

    @Test
    void scheduledRotationOverlapsAndRetires() throws Exception {
        String t = "r1";
        String a = keys.keys(t).activeKid();
        String tokenA = sign(t);
        assertEquals(a, kidOf(tokenA));
        assertEquals(Set.of(a), kids(keys.keys(t).jwksJson()));

        // not yet time: nothing changes
        clock.advance(Duration.ofMinutes(59));
        keys.tick(tenant(t));
        assertEquals(Set.of(a), kids(keys.keys(t).jwksJson()));

        // rotation period - prepublish after activation: the next key is published, but does not sign
        clock.advance(Duration.ofMinutes(1));
        keys.tick(tenant(t));
        Set<String> published = kids(keys.keys(t).jwksJson());
        assertEquals(2, published.size(), published.toString());
        String b = published.stream().filter(k -> !k.equals(a)).findFirst().orElseThrow();
        assertEquals(a, keys.keys(t).activeKid());
        assertEquals(a, kidOf(sign(t)), "the pre-published key must not sign yet");

        // the broker's own JWKS endpoint shows it too once its cache reloads (as every node does every 30 s)
        broker.bean(SigningKeys.class).reload(t);
        assertEquals(Set.of(a, b), kids(broker.get("/t/" + t + "/jwks.json").body()));

        // key_prepublish later: the next key signs, the old one is retired but still published
        clock.advance(Duration.ofHours(1));
        keys.tick(tenant(t));
        assertEquals(b, keys.keys(t).activeKid());
        String tokenB = sign(t);
        assertEquals(b, kidOf(tokenB));
        assertEquals(Set.of(a, b), kids(keys.keys(t).jwksJson()));
        assertTrue(verifies(tokenA, keys.keys(t).jwksJson()), "a token of the retired key must still verify");
        assertTrue(verifies(tokenB, keys.keys(t).jwksJson()));
        broker.bean(SigningKeys.class).reload(t);
        String servedJwks = broker.get("/t/" + t + "/jwks.json").body();
        assertTrue(verifies(tokenA, servedJwks), "served JWKS must still verify the old token");
        assertTrue(verifies(tokenB, servedJwks));

        // just before the publish window ends: still there
        clock.advance(PUBLISH_WINDOW.minusSeconds(1));
        keys.tick(tenant(t));
        assertEquals(Set.of(a, b), kids(keys.keys(t).jwksJson()));

        // after it: gone from the JWKS, its private part erased
        clock.advance(Duration.ofSeconds(1));
        keys.tick(tenant(t));
        assertEquals(Set.of(b), kids(keys.keys(t).jwksJson()));
        assertFalse(verifies(tokenA, keys.keys(t).jwksJson()));
        assertTrue(verifies(tokenB, keys.keys(t).jwksJson()));
        var row = broker.bean(Database.class).dsl()
                .fetchOne("select state, private_enc from signing_keys where tenant_id = ? and kid = ?", t, a);
        assertEquals("EXPIRED", row.get(0, String.class));
        assertEquals("", row.get(1, String.class), "an expired key's private part is erased");
        broker.bean(SigningKeys.class).reload(t);
        assertEquals(Set.of(b), kids(broker.get("/t/" + t + "/jwks.json").body()));

        // and the cycle goes on from the new key's activation
        clock.advance(Duration.ofHours(1));
        keys.tick(tenant(t));
        assertEquals(2, kids(keys.keys(t).jwksJson()).size());
        assertEquals(b, keys.keys(t).activeKid());
    }

    @Test
    void prepublishIsIdempotentAndPromoteNeedsANextKey() throws Exception {
        String t = "r2";
        String a = keys.keys(t).activeKid();
        assertThrows(IllegalStateException.class, () -> keys.promote(t));
        String next = keys.prepublish(t);
        assertEquals(next, keys.prepublish(t));
        assertEquals(Set.of(a, next), kids(keys.keys(t).jwksJson()));
        assertEquals(a, keys.keys(t).activeKid());
        keys.promote(t);
        assertEquals(next, keys.keys(t).activeKid());
        assertEquals(Set.of(a, next), kids(keys.keys(t).jwksJson()));
    }

    @Test
    void rotateNowKeepsTheOldKeyPublished() throws Exception {
        String t = "r3";
        String a = keys.keys(t).activeKid();
        String tokenA = sign(t);
        keys.rotateNow(t);
        String b = keys.keys(t).activeKid();
        assertNotEquals(a, b);
        assertEquals(b, kidOf(sign(t)));
        assertTrue(verifies(tokenA, keys.keys(t).jwksJson()));
        clock.advance(PUBLISH_WINDOW);
        keys.tick(tenant(t));
        assertEquals(Set.of(b), kids(keys.keys(t).jwksJson()));
    }

    @Test
    void rotationIsPerTenant() throws Exception {
        String before = keys.keys("r1").jwksJson();
        keys.rotateNow("r4");
        assertEquals(before, keys.keys("r1").jwksJson());
    }

    @Test
    void rotationWorksForEdDsaAndRsa() throws Exception {
        for (String t : List.of("ed", "rs")) {
            String tokenA = sign(t);
            keys.rotateNow(t);
            String tokenB = sign(t);
            assertNotEquals(kidOf(tokenA), kidOf(tokenB));
            assertTrue(verifies(tokenA, keys.keys(t).jwksJson()), t);
            assertTrue(verifies(tokenB, keys.keys(t).jwksJson()), t);
        }
    }

    /** Key lifecycle lands in the tenant's audit chain: created at first start, published, rotated (kid only). */
    @Test
    void keyLifecycleIsAudited() {
        SigningKeys live = broker.bean(SigningKeys.class);
        String before = live.keys("r4").activeKid();
        live.rotateNow("r4");
        String after = live.keys("r4").activeKid();
        var entries = broker.bean(dev.deputy.broker.audit.AuditStore.class).range("r4", 0, 1000);
        java.util.function.Predicate<String> has = type -> entries.stream().anyMatch(e -> e.type().equals(type));
        assertTrue(has.test("key.created"), "first key audited");
        assertTrue(has.test("key.published"), "next key audited");
        var rotated = entries.stream().filter(e -> e.type().equals("key.rotated")).reduce((a, b) -> b).orElseThrow();
        assertTrue(rotated.details().contains(after) && rotated.details().contains("previous_kid"), rotated.details());
        assertNotEquals(before, after);
        assertFalse(rotated.details().contains("\"d\""), "never key material");
        assertTrue(broker.bean(dev.deputy.broker.audit.AuditVerifier.class).verify("r4").ok());
    }
}
