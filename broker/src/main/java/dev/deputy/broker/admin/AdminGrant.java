package dev.deputy.broker.admin;

import java.util.List;

/**
 * One role over some tenants ({@code *}: every tenant). A super admin grant always covers every tenant.
 *
 * @param role    the role
 * @param tenants tenant ids, or {@code ["*"]}
 */
public record AdminGrant(AdminRole role, List<String> tenants) {
    public static final String ALL = "*";

    public AdminGrant {
        tenants = role == AdminRole.SUPER_ADMIN || tenants == null || tenants.isEmpty() ? List.of(ALL) : List.copyOf(tenants);
    }

    public boolean covers(String tenant) {
        return tenants.contains(ALL) || tenants.contains(tenant);
    }
}
