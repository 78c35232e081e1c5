package dev.deputy.broker.keys;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-tenant signing keys: created on first start, rotated on a schedule with pre-publication (the next
 * key is in the JWKS for {@code key_prepublish} before it signs), retired keys kept in the JWKS until
 * every token they signed has expired. Private parts are sealed at rest.
 */
@Singleton
public class SigningKeys {
    private static final Logger LOG = LoggerFactory.getLogger(SigningKeys.class);
    /** Margin on top of the access token lifetime for clock skew and in-flight tokens. */
    static final Duration RETIRED_MARGIN = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SigningKeyStore store;
    private final SecretBox box;
    private final Tenants tenants;
    private final Clock clock;
    private final Map<String, TenantKeys> cache = new ConcurrentHashMap<>();
    /** Parsed protected headers by kid, alg and typ ({@link #header}). */
    private final Map<String, JWSHeader> headers = new ConcurrentHashMap<>();
    private static final int MAX_HEADERS = 1024;
    private final dev.deputy.broker.audit.AuditLog audit;

    @jakarta.inject.Inject
    public SigningKeys(SigningKeyStore store, SecretBox box, Tenants tenants, dev.deputy.broker.audit.AuditLog audit) {
        this(store, box, tenants, Clock.systemUTC(), audit);
    }

    SigningKeys(SigningKeyStore store, SecretBox box, Tenants tenants, Clock clock) {
        this(store, box, tenants, clock, null);
    }

    SigningKeys(SigningKeyStore store, SecretBox box, Tenants tenants, Clock clock, dev.deputy.broker.audit.AuditLog audit) {
        this.store = store;
        this.box = box;
        this.tenants = tenants;
        this.clock = clock;
        this.audit = audit;
    }

    /** Key lifecycle events go to the tenant's audit chain (never the key material: kid and alg only). */
    private void audited(String tenantId, String type, String kid, String alg, String other) {
        if (audit == null) {
            return;
        }
        try {
            audit.append(dev.deputy.broker.audit.AuditEvent.of(tenantId, type, dev.deputy.broker.audit.AuditEvent.Outcome.SUCCESS)
                    .detail("kid", kid).detail("alg", alg).detail("previous_kid", other).build());
        } catch (RuntimeException e) {
            LOG.warn("tenant {}: could not audit {} of key {}: {}", tenantId, type, kid, e.toString());
        }
    }

    /** The tenant's keys; the first call for a tenant without keys creates its first active key. */
    public TenantKeys keys(String tenantId) {
        TenantKeys k = cache.get(tenantId);
        return k != null ? k : reload(tenantId);
    }

    public String sign(String tenantId, JOSEObjectType typ, JWTClaimsSet claims) {
        TenantKeys k = keys(tenantId);
        SignedJWT jwt = new SignedJWT(header(k, typ), claims);
        try {
            jwt.sign(k.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("signing failed for tenant " + tenantId, e);
        }
        return jwt.serialize();
    }

    /**
     * The protected header for a key and {@code typ}, made once: a header parsed from its encoded form keeps that form
     * ({@code Header.toBase64URL} returns it), where one built afresh is serialized to JSON and encoded again for every
     * token signed. The same bytes either way; {@link JWSHeader} is immutable, so one instance serves every thread.
     */
    private JWSHeader header(TenantKeys k, JOSEObjectType typ) {
        String key = k.activeKid() + ' ' + k.alg().getName() + ' ' + (typ == null ? "" : typ.getType());
        JWSHeader h = headers.get(key);
        if (h == null) {
            JWSHeader built = new JWSHeader.Builder(k.alg()).type(typ).keyID(k.activeKid()).build();
            try {
                h = JWSHeader.parse(built.toBase64URL());
            } catch (java.text.ParseException e) {
                throw new IllegalStateException("cannot read back our own JWS header", e);
            }
            if (headers.size() >= MAX_HEADERS) {
                headers.clear(); // retired keys' headers: a rotation every so often, a few typ values per key
            }
            headers.put(key, h);
        }
        return h;
    }

    /** Publishes a next key now (it signs after {@code key_prepublish}, or at {@link #promote}). */
    public synchronized String prepublish(String tenantId) {
        List<StoredKey> keys = store.list(tenantId);
        return keys.stream().filter(s -> s.state() == StoredKey.State.NEXT).map(StoredKey::kid).findFirst()
                .orElseGet(() -> {
                    StoredKey next = generate(tenant(tenantId), StoredKey.State.NEXT);
                    store.insert(next);
                    LOG.info("tenant {}: published next signing key {}", tenantId, next.kid());
                    audited(tenantId, dev.deputy.broker.audit.EventTypes.KEY_PUBLISHED, next.kid(), next.alg(), null);
                    reload(tenantId);
                    return next.kid();
                });
    }

    /** The next key starts signing; the active key retires and stays published until its tokens expire. */
    public synchronized void promote(String tenantId) {
        List<StoredKey> keys = store.list(tenantId);
        StoredKey next = keys.stream().filter(s -> s.state() == StoredKey.State.NEXT).findFirst()
                .orElseThrow(() -> new IllegalStateException("tenant " + tenantId + " has no published next key"));
        StoredKey active = activeOf(keys);
        long now = clock.millis();
        long until = now + tenant(tenantId).accessTokenTtl().plus(RETIRED_MARGIN).toMillis();
        store.promote(tenantId, next.kid(), active == null ? null : active.kid(), now, until);
        LOG.info("tenant {}: signing key {} active, {} retired", tenantId, next.kid(), active == null ? "-" : active.kid());
        audited(tenantId, dev.deputy.broker.audit.EventTypes.KEY_ROTATED, next.kid(), next.alg(), active == null ? null : active.kid());
        reload(tenantId);
    }

    /** Rotation now: pre-publish and promote at once (an emergency rotation; caches holding the old JWKS may miss the new key). */
    public synchronized void rotateNow(String tenantId) {
        prepublish(tenantId);
        promote(tenantId);
    }

    /** The scheduled rotation step; also called by tests with a fixed clock. */
    @Scheduled(fixedDelay = "60s", initialDelay = "60s")
    public void tick() {
        List<Tenant> all = new ArrayList<>(tenants.all());
        if (!store.list(Tenants.BROKER_CHAIN).isEmpty()) {
            all.add(tenants.brokerChain()); // the broker key rotates like a tenant's
        }
        for (Tenant t : all) {
            try {
                tick(t);
            } catch (RuntimeException e) {
                LOG.warn("tenant {}: key rotation step failed: {}", t.id(), e.toString());
            }
        }
    }

    synchronized void tick(Tenant t) {
        long now = clock.millis();
        List<StoredKey> keys = store.list(t.id());
        boolean changed = false;
        for (StoredKey k : keys) {
            if (k.state() == StoredKey.State.RETIRED && k.publishUntil() != null && k.publishUntil() <= now) {
                store.expire(t.id(), k.kid());
                LOG.info("tenant {}: retired key {} removed from the JWKS", t.id(), k.kid());
                audited(t.id(), dev.deputy.broker.audit.EventTypes.KEY_RETIRED, k.kid(), k.alg(), null);
                changed = true;
            }
        }
        StoredKey active = activeOf(keys);
        StoredKey next = keys.stream().filter(s -> s.state() == StoredKey.State.NEXT).findFirst().orElse(null);
        if (active != null && next == null
                && now - active.activatedAt() >= t.keyRotationPeriod().minus(t.keyPrepublish()).toMillis()) {
            prepublish(t.id());
            return;
        }
        if (next != null && now - next.createdAt() >= t.keyPrepublish().toMillis()) {
            promote(t.id());
            return;
        }
        if (changed) {
            reload(t.id());
        }
    }

    /** Re-reads the tenant's keys (other nodes may have rotated). */
    @Scheduled(fixedDelay = "30s", initialDelay = "30s")
    void refreshAll() {
        for (String tenantId : cache.keySet()) {
            try {
                reload(tenantId);
            } catch (RuntimeException e) {
                LOG.debug("tenant {}: key refresh failed: {}", tenantId, e.toString());
            }
        }
    }

    public TenantKeys reload(String tenantId) {
        List<StoredKey> keys = store.list(tenantId);
        if (activeOf(keys) == null) {
            synchronized (this) {
                keys = store.list(tenantId);
                if (activeOf(keys) == null) {
                    StoredKey first = generate(tenant(tenantId), StoredKey.State.ACTIVE);
                    store.insert(first);
                    LOG.info("tenant {}: created signing key {} ({})", tenantId, first.kid(), first.alg());
                    audited(tenantId, dev.deputy.broker.audit.EventTypes.KEY_CREATED, first.kid(), first.alg(), null);
                    keys = store.list(tenantId);
                }
            }
        }
        TenantKeys built = build(tenantId, keys);
        cache.put(tenantId, built);
        return built;
    }

    private static StoredKey activeOf(List<StoredKey> keys) {
        // Two nodes racing on first start may both create a key: the newest active one signs.
        return keys.stream().filter(s -> s.state() == StoredKey.State.ACTIVE)
                .max(Comparator.comparingLong(StoredKey::activatedAt)).orElse(null);
    }

    private TenantKeys build(String tenantId, List<StoredKey> keys) {
        StoredKey active = activeOf(keys);
        try {
            JWK activeJwk = JWK.parse(box.openString(active.privateSealed(), StoredKey.aad(tenantId, active.kid())));
            List<JWK> published = new ArrayList<>();
            Map<String, JWK> byKid = new LinkedHashMap<>();
            for (StoredKey k : keys) {
                JWK pub = JWK.parse(k.publicJwk());
                published.add(pub);
                byKid.put(k.kid(), pub);
            }
            JWKSet set = new JWKSet(published);
            return new TenantKeys(tenantId, active.kid(), JWSAlgorithm.parse(active.alg()), signer(activeJwk), set,
                    set.toString(true), Map.copyOf(byKid));
        } catch (ParseException | JOSEException e) {
            throw new IllegalStateException("tenant " + tenantId + ": stored key cannot be used", e);
        }
    }

    static JWSSigner signer(JWK jwk) throws JOSEException {
        JWSSigner s = switch (jwk.getKeyType().getValue()) {
            case "EC" -> new ECDSASigner(jwk.toECKey());
            case "RSA" -> new RSASSASigner(jwk.toRSAKey());
            case "OKP" -> new Ed25519Signer(jwk.toOctetKeyPair());
            default -> throw new JOSEException("unsupported key type " + jwk.getKeyType());
        };
        if (CryptoProvider.get() != null && !(s instanceof Ed25519Signer)) {
            s.getJCAContext().setProvider(CryptoProvider.get());
        }
        return s;
    }

    private StoredKey generate(Tenant t, StoredKey.State state) {
        String kid = newKid();
        JWK jwk;
        try {
            jwk = switch (t.signingAlg()) {
                case "ES256" -> new ECKeyGenerator(Curve.P_256).keyID(kid).keyUse(KeyUse.SIGNATURE)
                        .algorithm(JWSAlgorithm.ES256).generate();
                case "RS256" -> new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE)
                        .algorithm(JWSAlgorithm.RS256).generate();
                case "EdDSA" -> new OctetKeyPairGenerator(Curve.Ed25519).keyID(kid).keyUse(KeyUse.SIGNATURE)
                        .algorithm(JWSAlgorithm.EdDSA).generate();
                default -> throw new IllegalStateException("unsupported signing alg " + t.signingAlg());
            };
        } catch (JOSEException e) {
            throw new IllegalStateException("key generation failed", e);
        }
        long now = clock.millis();
        return new StoredKey(t.id(), kid, t.signingAlg(), state, jwk.toPublicJWK().toJSONString(),
                box.sealString(jwk.toJSONString(), StoredKey.aad(t.id(), kid)), now,
                state == StoredKey.State.ACTIVE ? now : null, null, null);
    }

    private static String newKid() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private Tenant tenant(String id) {
        if (Tenants.BROKER_CHAIN.equals(id)) {
            return tenants.brokerChain(); // the broker key: signs the _broker audit chain's checkpoints only
        }
        return tenants.find(id).orElseThrow(() -> new IllegalArgumentException("unknown tenant " + id));
    }
}
