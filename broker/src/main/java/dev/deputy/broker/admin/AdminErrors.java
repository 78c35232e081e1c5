package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.ErrorObject;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.config.ConfigTree;
import dev.deputy.broker.http.OAuthErrors;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders refused admin requests as {@code {"error", "error_description"}} with 400, 404 or 409, and
 * writes the refusal to the audit log with the admin who asked.
 */
@Singleton
class AdminErrors implements ExceptionHandler<AgentException, HttpResponse<?>> {
    private static final Logger LOG = LoggerFactory.getLogger(AdminErrors.class);
    private static final Pattern TENANT_PATH = Pattern.compile("^/admin/t/([^/]+)(/|$)"); // the tenant route itself too
    private final AuditLog audit;
    private final Tenants tenants;

    AdminErrors(AuditLog audit, Tenants tenants) {
        this.audit = audit;
        this.tenants = tenants;
    }

    @Override
    public HttpResponse<?> handle(HttpRequest request, AgentException e) {
        audit(request, e.kind().code(), e.kind().status(), e.getMessage());
        return OAuthErrors.render(new ErrorObject(e.kind().code(), describable(e.getMessage()), e.kind().status()));
    }

    /** A refusal for who asks (403 access_denied, or 401 with the RFC 9470 step-up challenge): audited, rendered. */
    io.micronaut.http.MutableHttpResponse<?> refuse(HttpRequest<?> request, AdminRefusal e) {
        audit(request, e.error(), e.status(), e.getMessage());
        var response = OAuthErrors.render(new ErrorObject(e.error(), describable(e.getMessage()), e.status()));
        if (e.challenge() != null) {
            response.header("WWW-Authenticate", e.challenge());
        }
        return response;
    }

    @Singleton
    static final class Refusals implements ExceptionHandler<AdminRefusal, HttpResponse<?>> {
        private final AdminErrors errors;

        Refusals(AdminErrors errors) {
            this.errors = errors;
        }

        @Override
        public HttpResponse<?> handle(HttpRequest request, AdminRefusal e) {
            return errors.refuse(request, e);
        }
    }

    private void audit(HttpRequest<?> request, String code, int status, String description) {
        audit(request, request.getMethodName(), request.getPath(), code, status, description);
    }

    /** Audits a refusal of {@code method path} (an admin API route; a console page names the route it stands for). */
    void audit(HttpRequest<?> request, String method, String path, String code, int status, String description) {
        HttpRequest<?> req = request;
        String admin = req.getUserPrincipal().map(java.security.Principal::getName).orElse(null);
        Matcher m = TENANT_PATH.matcher(path);
        String tenant = m.find() && ConfigTree.TENANT_ID.matcher(m.group(1)).matches()
                && tenants.find(m.group(1)).isPresent() ? m.group(1) : AdminAuth.SYSTEM_TENANT;
        try {
            audit.append(AuditEvent.of(tenant, "admin.request.rejected", AuditEvent.Outcome.FAILURE)
                    .client(admin).request(RequestMetaFilter.of(request))
                    .detail("actor", admin == null ? null : "admin:" + admin)
                    .detail("method", method).detail("path", clip(path))
                    .detail("error", code).detail("status", status)
                    .detail("error_description", description).build());
        } catch (RuntimeException auditFailure) {
            LOG.warn("could not audit a rejected admin request: {}", auditFailure.toString());
        }
    }

    /** RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
    static String describable(String s) {
        if (s == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 400));
        for (int i = 0; i < s.length() && sb.length() < 400; i++) {
            char c = s.charAt(i);
            sb.append(c == '"' ? '\'' : c == '\\' ? '/' : c >= 0x20 && c <= 0x7e ? c : c == '\n' ? ' ' : '?');
        }
        return sb.toString();
    }

    private static String clip(String s) {
        return s.length() > 300 ? s.substring(0, 300) : s;
    }
}
