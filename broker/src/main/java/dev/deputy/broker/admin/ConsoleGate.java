package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Dormancy;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import jakarta.inject.Singleton;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The console pages' door to the admin API's authorization: a page that reads or changes what an admin API route
 * reads or changes asks {@link AdminAccess} about that route (same roles per tenant, same CSRF rule with the form's
 * token, same step-up), and a refusal is audited exactly as the API's ({@code admin.request.rejected} naming the API
 * route). There is no second authorization model.
 */
@Singleton
public class ConsoleGate {
    private final AdminAccess access;
    private final AdminErrors errors;
    private final AdminContext ctx;

    ConsoleGate(AdminAccess access, AdminErrors errors, AdminContext ctx) {
        this.access = access;
        this.errors = errors;
        this.ctx = ctx;
    }

    /** The admin API path of a tenant's route ({@code /admin/t/<tenant><rest>}), with the tenant and ids encoded. */
    public static String apiPath(String tenant, String... segments) {
        StringBuilder sb = new StringBuilder("/admin/t/").append(enc(tenant));
        for (String s : segments) {
            sb.append('/').append(enc(s));
        }
        return sb.toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Throws the refusal (already audited) when this admin may not do {@code method path}. */
    public void check(AdminPrincipal p, HttpRequest<?> request, HttpMethod method, String path, @Nullable String csrf) {
        try {
            access.decide(p, method, path, csrf);
        } catch (AdminRefusal e) {
            errors.audit(request, method.name(), path, e.error(), e.status(), e.getMessage());
            throw e;
        }
    }

    /**
     * A form that only reads but is posted (the console's "verify the chain", which costs a full read of the trail):
     * the roles of the read route {@code GET path}, and the session's CSRF token as for any form post, so another
     * site cannot make a signed-in admin's browser start it. A refusal is audited naming {@code POST path}.
     */
    public void checkReadForm(AdminPrincipal p, HttpRequest<?> request, String path, @Nullable String csrf) {
        try {
            access.decide(p, HttpMethod.GET, path, null);
            AdminAccess.requireCsrf(p, csrf);
        } catch (AdminRefusal e) {
            errors.audit(request, HttpMethod.POST.name(), path, e.error(), e.status(), e.getMessage());
            throw e;
        }
    }

    /** Audits a page's malformed input (400 invalid_request) as the API's error handler would; nothing changed. */
    public void invalid(HttpRequest<?> request, HttpMethod method, String path, String message) {
        errors.audit(request, method.name(), path, "invalid_request", 400, message);
    }

    /** Audits a page's failed change (unknown agent, invalid transition...) as the API's error handler would. */
    public void failed(HttpRequest<?> request, HttpMethod method, String path, AgentException e) {
        errors.audit(request, method.name(), path, e.kind().code(), e.kind().status(), e.getMessage());
    }

    public Dormancy dormancy(String tenant) {
        return ctx.dormancy(tenant);
    }

    /** The agent as the admin API shows it (credentials' public facts only). */
    public Map<String, Object> agentView(String tenant, Agents.Details d, long now) {
        return AdminViews.agent(d.agent(), d.credentials(), ctx.dormancy(tenant), now);
    }
}
