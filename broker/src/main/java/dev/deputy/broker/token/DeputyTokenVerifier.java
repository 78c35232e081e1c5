package dev.deputy.broker.token;

import com.nimbusds.jwt.JWTClaimsSet;
import jakarta.inject.Singleton;

import java.util.Date;
import java.util.Optional;

/**
 * Verifies access tokens this broker issued when they come back as a subject or actor token (RFC 8693, and the
 * actor token of the code grant): {@link AccessTokenValidator}'s checks (and its verified-token cache, shared with
 * introspection), plus {@code sub} and {@code jti} present. Revocation and the agents' status are checked by the
 * caller on every call.
 */
@Singleton
public class DeputyTokenVerifier {
    private final AccessTokenValidator validator;

    public DeputyTokenVerifier(AccessTokenValidator validator) {
        this.validator = validator;
    }

    /** A verified token: its claims and its key id. */
    public record Verified(String tenantId, String kid, JWTClaimsSet claims) {
        public long expiresAtMs() {
            Date exp = claims.getExpirationTime();
            return exp == null ? 0 : exp.getTime();
        }
    }

    /** Why a token was refused; safe to show to the client. */
    public static final class Invalid extends Exception {
        public Invalid(String reason) {
            super(reason, null, false, false);
        }
    }

    public Verified verify(String tenantId, String token) throws Invalid {
        AccessTokenValidator.Result r = validator.validate(tenantId, token);
        if (!r.valid()) {
            throw new Invalid(switch (r.invalid()) {
                case MALFORMED -> "not a signed JWT of acceptable size";
                case WRONG_TYPE -> "not an access token (typ)";
                case UNKNOWN_KEY -> "unknown signing key";
                case BAD_SIGNATURE -> "bad signature or algorithm";
                case WRONG_ISSUER, OTHER_TENANT -> "issued by another tenant or issuer";
                case EXPIRED -> "token expired";
                case NOT_YET_VALID -> "token not yet valid";
            });
        }
        if (r.claims().getSubject() == null || r.claims().getJWTID() == null) {
            throw new Invalid("token lacks sub or jti");
        }
        return new Verified(tenantId, r.kid(), r.claims());
    }

    /** The verified claims if the token verifies, else empty. */
    public Optional<Verified> tryVerify(String tenantId, String token) {
        try {
            return Optional.of(verify(tenantId, token));
        } catch (Invalid e) {
            return Optional.empty();
        }
    }
}
