package dev.deputy.broker.admin;

import io.micronaut.security.authentication.Authentication;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who calls the admin API, and with what authority: an automation credential's bearer token, the break-glass
 * credential's, or a console session (a person signed in at the admin IdP). Carried in the micronaut-security
 * {@link Authentication}'s attributes under {@link #ATTRIBUTE}.
 *
 * @param name       the admin's name in the audit trail (credential id, or the IdP's {@code sub}/e-mail)
 * @param kind       how they authenticated
 * @param grants     roles per tenant
 * @param ownerIds   the identities an agent's {@code owner} is compared with (agent owner role)
 * @param privileged automation only: the credential may perform privileged actions (set at creation, audited)
 * @param mfa        console only: what the IdP said about the sign-in ({@code acr}, {@code amr}, {@code auth_time})
 * @param session    console only: the session id's digest and its CSRF token
 */
public record AdminPrincipal(String name, Kind kind, List<AdminGrant> grants, Set<String> ownerIds, boolean privileged,
                             SignIn mfa, Session session) {
    public static final String ATTRIBUTE = "deputy.admin";

    public enum Kind { CREDENTIAL, BREAK_GLASS, CONSOLE }

    /** The admin IdP's account of the sign-in (OpenID Connect Core §2: acr, amr, auth_time). */
    public record SignIn(String issuer, String subject, String acr, List<String> amr, Long authTime) {
        public SignIn {
            amr = amr == null ? List.of() : List.copyOf(amr);
        }
    }

    public record Session(String key, String csrf) {
        @Override
        public String toString() {
            return "Session[key=" + key + ", csrf=(hidden)]"; // micronaut-security logs authentication attributes at debug
        }
    }

    public AdminPrincipal {
        grants = grants == null ? List.of() : List.copyOf(grants);
        ownerIds = ownerIds == null ? Set.of() : Set.copyOf(ownerIds);
    }

    /** The roles this admin holds in the tenant (empty: none). */
    public Set<AdminRole> rolesIn(String tenant) {
        Set<AdminRole> out = EnumSet.noneOf(AdminRole.class);
        for (AdminGrant g : grants) {
            if (g.covers(tenant)) {
                out.add(g.role());
            }
        }
        return out;
    }

    public boolean superAdmin() {
        return grants.stream().anyMatch(g -> g.role() == AdminRole.SUPER_ADMIN);
    }

    /** May change anything in the tenant (super admin, or tenant admin of it). */
    public boolean manages(String tenant) {
        Set<AdminRole> r = rolesIn(tenant);
        return r.contains(AdminRole.SUPER_ADMIN) || r.contains(AdminRole.TENANT_ADMIN);
    }

    /** May read everything in the tenant. */
    public boolean reads(String tenant) {
        return manages(tenant) || rolesIn(tenant).contains(AdminRole.AUDITOR);
    }

    /** Sees only the agents they own in the tenant (no wider role there). */
    public boolean ownerOnly(String tenant) {
        return !reads(tenant) && rolesIn(tenant).contains(AdminRole.AGENT_OWNER);
    }

    public boolean owns(String agentOwner) {
        return agentOwner != null && ownerIds.contains(agentOwner);
    }

    public Map<String, Object> attributes() {
        return Map.of(ATTRIBUTE, this, "admin", name, "admin_kind", kind.name().toLowerCase(java.util.Locale.ROOT));
    }

    public static Optional<AdminPrincipal> of(Authentication auth) {
        if (auth == null) {
            return Optional.empty();
        }
        Object p = auth.getAttributes().get(ATTRIBUTE);
        return p instanceof AdminPrincipal a ? Optional.of(a) : Optional.empty();
    }

    public Authentication authentication() {
        return Authentication.build(name, List.of(AdminTokenValidator.ROLE), attributes());
    }
}
