package dev.deputy.broker.keys;

import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.tenant.Tenants;

import java.time.Clock;

/** The broker's key rotation step run with another clock (the live bean's schedule, moved in time). */
public final class ClockedKeys {
    private ClockedKeys() {
    }

    public static void tick(SigningKeyStore store, SecretBox box, Tenants tenants, AuditLog audit, Clock clock, String tenant) {
        new SigningKeys(store, box, tenants, clock, audit).tick(tenants.find(tenant).orElseThrow());
    }
}
