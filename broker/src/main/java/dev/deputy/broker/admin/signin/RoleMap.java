package dev.deputy.broker.admin.signin;

import dev.deputy.broker.admin.AdminGrant;
import dev.deputy.broker.admin.AdminRole;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * IdP groups → admin roles ({@code DEPUTY_CONSOLE_ROLE_MAP}): entries separated by {@code ;}, each
 * {@code <group>=<role>[:<tenant>,<tenant>...]}, a role being {@code super_admin}, {@code tenant_admin},
 * {@code auditor} or {@code agent_owner} and {@code *} meaning every tenant (the default). Group names are compared
 * exactly (case, spaces and unicode kept), e.g.
 * {@code Deputy Admins=super_admin; payments-ops=tenant_admin:payments.eu,payments.us; SecOps=auditor:*; engineers=agent_owner}.
 */
public final class RoleMap {
    private final Map<String, List<AdminGrant>> byGroup;

    private RoleMap(Map<String, List<AdminGrant>> byGroup) {
        this.byGroup = byGroup;
    }

    public static RoleMap parse(String spec) {
        Map<String, List<AdminGrant>> map = new LinkedHashMap<>();
        if (spec != null) {
            for (String entry : spec.split(";")) {
                if (entry.isBlank()) {
                    continue;
                }
                int eq = entry.lastIndexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("DEPUTY_CONSOLE_ROLE_MAP: expected <group>=<role>[:<tenants>] in '" + entry.strip() + "'");
                }
                String group = entry.substring(0, eq).strip();
                String rhs = entry.substring(eq + 1).strip();
                int colon = rhs.indexOf(':');
                String roleName = colon < 0 ? rhs : rhs.substring(0, colon);
                AdminRole role = AdminRole.parse(roleName).orElseThrow(() -> new IllegalArgumentException(
                        "DEPUTY_CONSOLE_ROLE_MAP: unknown role '" + roleName.strip() + "' (super_admin, tenant_admin, auditor, agent_owner)"));
                List<String> tenants = colon < 0 ? List.of(AdminGrant.ALL)
                        : Arrays.stream(rhs.substring(colon + 1).split(",")).map(String::strip).filter(t -> !t.isEmpty()).toList();
                map.computeIfAbsent(group, g -> new ArrayList<>()).add(new AdminGrant(role, tenants));
            }
        }
        return new RoleMap(map);
    }

    /** The grants of a member of these groups (empty: not an admin). */
    public List<AdminGrant> grants(Collection<String> groups) {
        List<AdminGrant> out = new ArrayList<>();
        for (String g : groups) {
            out.addAll(byGroup.getOrDefault(g, List.of()));
        }
        return out;
    }

    public boolean isEmpty() {
        return byGroup.isEmpty();
    }
}
