package dev.deputy.broker.admin;

import java.util.Locale;
import java.util.Optional;

/**
 * What an admin may do in a tenant (docs/console.md, "Roles"): a super admin everything everywhere; a tenant admin
 * everything in the named tenants; an auditor reads (audit, agents, policies...) and changes nothing; an agent owner
 * reads and steers the agents whose {@code owner} is one of their identities.
 */
public enum AdminRole {
    SUPER_ADMIN, TENANT_ADMIN, AUDITOR, AGENT_OWNER;

    /** The name used in configuration, the API and the audit trail: {@code super_admin}, {@code tenant_admin}... */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<AdminRole> parse(String s) {
        if (s == null) {
            return Optional.empty();
        }
        String v = s.strip().toLowerCase(Locale.ROOT).replace('-', '_');
        for (AdminRole r : values()) {
            if (r.id().equals(v)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
