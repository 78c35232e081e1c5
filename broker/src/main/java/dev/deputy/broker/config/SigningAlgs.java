package dev.deputy.broker.config;

import java.util.Set;

/** The JWS algorithms a tenant may sign with. */
public final class SigningAlgs {
    public static final Set<String> SUPPORTED = Set.of("ES256", "RS256", "EdDSA");

    private SigningAlgs() {
    }

    public static String check(String alg) {
        if (!SUPPORTED.contains(alg)) {
            throw new IllegalArgumentException("signing_alg '" + alg + "' is not supported (use one of " + SUPPORTED + ")");
        }
        return alg;
    }
}
