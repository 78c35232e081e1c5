package dev.deputy.broker.keys;

/** A signing key row. The private part is sealed with the master key ({@link SecretBox}). */
public record StoredKey(String tenantId, String kid, String alg, State state, String publicJwk, String privateSealed,
                        long createdAt, Long activatedAt, Long retiredAt, Long publishUntil) {
    public enum State { NEXT, ACTIVE, RETIRED, EXPIRED }

    /** Associated data binding the sealed private key to its tenant and kid. */
    public static String aad(String tenantId, String kid) {
        return "signing-key|" + tenantId + "|" + kid;
    }
}
