package dev.deputy.broker.pki;

import java.util.Optional;

/** Durable agent CAs, one per tenant (port; implemented in storage). */
public interface AgentCaStore {
    /** @param certificatePem the CA certificate; @param privateKeySealed its PKCS#8 key sealed by {@code SecretBox} */
    record StoredCa(String tenantId, String certificatePem, String privateKeySealed, long createdAt) {
        @Override
        public String toString() {
            return "StoredCa[tenant=" + tenantId + "]";
        }
    }

    Optional<StoredCa> find(String tenantId);

    /** Inserts unless the tenant already has a CA (two nodes racing on first use: one wins, both read it back). */
    void insertIfAbsent(StoredCa ca);
}
