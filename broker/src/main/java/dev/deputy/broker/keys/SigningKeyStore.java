package dev.deputy.broker.keys;

import java.util.List;

/** Durable storage of signing keys (port; implemented in storage). */
public interface SigningKeyStore {
    /** Every key of the tenant that is not expired, oldest first. */
    List<StoredKey> list(String tenantId);

    void insert(StoredKey key);

    /** In one transaction: the next key becomes active; the old active key retires, published until the given time. */
    void promote(String tenantId, String nextKid, String activeKid, long now, long publishUntil);

    /** Removes the key from the JWKS and erases its private part. */
    void expire(String tenantId, String kid);
}
