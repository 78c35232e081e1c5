package dev.deputy.broker.federation;

import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.ephemeral.EphemeralStore;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Authorization codes: 256 random bits, kept 60 s under their SHA-256, redeemed once ({@link EphemeralStore#take}
 * is atomic across nodes). A redeemed code leaves a marker with what it issued, so that a replay can revoke it
 * (OAuth 2.1 §4.1.3 / RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
 * server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on that
 * authorization code").
 */
@Singleton
public class AuthorizationCodes {
    public static final Duration CODE_TTL = Duration.ofSeconds(60);
    private final EphemeralStore store;

    public AuthorizationCodes(EphemeralStore store) {
        this.store = store;
    }

    /** What a redeemed code issued. {@code replayed} is set by a replay that came before the tokens were recorded. */
    public record Redeemed(String tenantId, String familyId, String accessJti, Long accessExpiresAt, boolean replayed) {
    }

    public String issue(CodeGrant grant) {
        String code = Sessions.random();
        store.put(key(grant.tenantId(), code), Json.write(grant), CODE_TTL);
        return code;
    }

    /** Single use: the first caller gets the grant; the marker is written at once. */
    public Optional<CodeGrant> redeem(String tenantId, String code, Duration markerTtl) {
        Optional<CodeGrant> g = store.take(key(tenantId, code)).map(v -> Json.read(v, CodeGrant.class));
        g.ifPresent(grant -> store.put(usedKey(tenantId, code),
                Json.write(new Redeemed(tenantId, grant.familyId(), null, null, false)), markerTtl));
        return g;
    }

    /** Records the tokens a redeemed code issued; returns true when a replay was seen meanwhile. */
    public boolean recordIssued(String tenantId, String code, String jti, Instant accessExp, Duration markerTtl) {
        boolean replayed = usedMarker(tenantId, code).map(Redeemed::replayed).orElse(false);
        Redeemed r = usedMarker(tenantId, code).orElse(null);
        store.put(usedKey(tenantId, code), Json.write(new Redeemed(tenantId, r == null ? null : r.familyId(), jti,
                accessExp.toEpochMilli(), replayed)), markerTtl);
        return replayed;
    }

    /** For a code that is no longer redeemable: what it issued, if it was redeemed; flags the replay. */
    public Optional<Redeemed> replay(String tenantId, String code, Duration markerTtl) {
        Optional<Redeemed> r = usedMarker(tenantId, code);
        r.ifPresent(m -> store.put(usedKey(tenantId, code),
                Json.write(new Redeemed(m.tenantId(), m.familyId(), m.accessJti(), m.accessExpiresAt(), true)), markerTtl));
        return r;
    }

    private Optional<Redeemed> usedMarker(String tenantId, String code) {
        return store.get(usedKey(tenantId, code)).map(v -> Json.read(v, Redeemed.class));
    }

    private static String key(String tenantId, String code) {
        return "authcode:" + tenantId + ":" + ClientSecrets.sha256Hex(code);
    }

    private static String usedKey(String tenantId, String code) {
        return "authcode-used:" + tenantId + ":" + ClientSecrets.sha256Hex(code);
    }
}
