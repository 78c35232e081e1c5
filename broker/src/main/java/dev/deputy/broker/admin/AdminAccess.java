package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Agents;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import jakarta.inject.Singleton;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Roles per tenant on the admin API, checked by {@link AdminSecurityFilter} once micronaut-security has
 * authenticated the caller (bearer token or console session cookie): which tenant the path names and whether this admin's role there allows the method; the CSRF
 * token on a state-changing request that came with the session cookie; the step-up a privileged route needs.
 * Refusals are rendered and audited by {@link AdminErrors}.
 */
@Singleton
class AdminAccess {
    /** The header (or, for a form post, the field) carrying the console session's CSRF token. */
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final Pattern TENANT = Pattern.compile("^/admin/t/([^/]+)(/.*)?$");
    private static final Pattern AGENT = Pattern.compile("^/agents/([^/]+)(/.*)?$");
    private static final Pattern PRIVILEGED = Pattern.compile(
            "^/admin/(t/[^/]+/(agents/[^/]+/(revoke|rotate)|keys/rotate|apply|consents/.*|connectors(/[^/]+(/(enable|disable))?)?)"
                    + "|break-glass/.*|credentials(/.*)?)$");

    private final Agents agents;
    private final StepUp stepUp;
    private final AdminErrors errors;

    AdminAccess(Agents agents, StepUp stepUp, AdminErrors errors) {
        this.agents = agents;
        this.stepUp = stepUp;
        this.errors = errors;
    }

    /** The refusal response for this admin's request (audited), or null when it may go on. Blocking (an agent lookup). */
    @Nullable
    io.micronaut.http.MutableHttpResponse<?> check(AdminPrincipal who, HttpRequest<?> request) {
        try {
            decide(who, request);
            return null;
        } catch (AdminRefusal e) {
            return errors.refuse(request, e);
        }
    }

    void decide(AdminPrincipal p, HttpRequest<?> request) {
        decide(p, request.getMethod(), request.getPath(), request.getHeaders().get(CSRF_HEADER));
    }

    /**
     * The one authorization decision of the admin API, also taken by the console's pages for the admin API route
     * that does what the page does ({@code path}, {@code method}); {@code sent} is the CSRF token the request carried.
     */
    void decide(AdminPrincipal p, HttpMethod method, String path, @Nullable String sent) {
        boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS;
        if (!read && p.kind() == AdminPrincipal.Kind.CONSOLE) {
            // the session cookie rides along on any cross-site form post: a change needs the session's CSRF token
            requireCsrf(p, sent);
        }
        Matcher t = TENANT.matcher(path);
        if (t.matches()) {
            String tenant = URLDecoder.decode(t.group(1), StandardCharsets.UTF_8);
            String rest = t.group(2) == null ? "" : t.group(2);
            tenantAccess(p, tenant, rest, read);
        } else if (!path.equals("/admin/whoami") && !p.superAdmin()) {
            throw AdminRefusal.forbidden("only a super admin may use " + path);
        }
        if (!read && PRIVILEGED.matcher(path).matches() && !path.endsWith("/test")) {
            stepUp.require(p, method + " " + path);
        }
    }

    /** The console session's CSRF token must be the one sent (synchronizer token; constant-time comparison). */
    static void requireCsrf(AdminPrincipal p, @Nullable String sent) {
        String expected = p.session() == null ? null : p.session().csrf();
        if (sent == null || expected == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8))) {
            throw AdminRefusal.forbidden("missing or wrong CSRF token (send the console session's token in " + CSRF_HEADER + ")");
        }
    }

    private void tenantAccess(AdminPrincipal p, String tenant, String rest, boolean read) {
        if (p.manages(tenant) || (read && p.reads(tenant))) {
            return;
        }
        if (p.ownerOnly(tenant)) {
            if (rest.equals("/agents") && read) {
                return; // the list shows their agents only (AgentsController)
            }
            Matcher a = AGENT.matcher(rest);
            if (a.matches()) {
                Optional<Agent> agent = agents.find(tenant, URLDecoder.decode(a.group(1), StandardCharsets.UTF_8));
                if (agent.isPresent() && p.owns(agent.get().owner())) {
                    return;
                }
                throw AdminRefusal.forbidden("agent owner " + p.name() + " does not own that agent in tenant " + tenant);
            }
        }
        if (p.rolesIn(tenant).isEmpty()) {
            throw AdminRefusal.forbidden(p.name() + " has no admin role in tenant " + tenant);
        }
        throw AdminRefusal.forbidden(p.name() + " may not " + (read ? "read" : "change") + " that in tenant " + tenant
                + " (roles: " + p.rolesIn(tenant).stream().map(AdminRole::id).toList() + ")");
    }
}
