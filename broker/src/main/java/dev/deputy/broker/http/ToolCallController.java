package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.ErrorObject;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.ToolCallReports;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /t/{tenant}/audit/tool-calls}: a resource server reports a tool call, authenticated by the
 * caller's Deputy access token (RFC 6750 Bearer); body {@code {tool, arguments_sha256, status, resource}}.
 */
@Controller("/t/{tenant}/audit/tool-calls")
@Secured(SecurityRule.IS_ANONYMOUS)
class ToolCallController {
    private final ToolCallReports reports;
    private final Tenants tenants;

    ToolCallController(ToolCallReports reports, Tenants tenants) {
        this.reports = reports;
        this.tenants = tenants;
    }

    @Post(consumes = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> report(HttpRequest<?> request, @PathVariable String tenant,
                           @Nullable @Header("Authorization") String authorization,
                           @Nullable @Body Map<String, Object> body) {
        if (tenants.find(tenant).isEmpty()) {
            throw new UnknownTenantException(tenant);
        }
        String token = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                ? authorization.substring(7).trim() : null;
        try {
            ToolCallReports.Report r = body == null ? null : new ToolCallReports.Report(str(body.get("tool")),
                    str(body.get("arguments_sha256")), str(body.get("status")), str(body.get("resource")));
            AuditEntry e = reports.record(tenant, token, r, RequestMetaFilter.of(request));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("recorded", true);
            out.put("seq", e.seq());
            out.put("correlation_id", e.correlationId());
            return HttpResponse.created(out);
        } catch (ToolCallReports.InvalidToken e) {
            // RFC 6750 §3: 401 with the challenge
            return OAuthErrors.render(new ErrorObject("invalid_token", e.getMessage(), 401))
                    .header("WWW-Authenticate", token == null ? "Bearer" : "Bearer error=\"invalid_token\"");
        } catch (ToolCallReports.InvalidReport e) {
            return OAuthErrors.render(new ErrorObject("invalid_request", e.getMessage(), HttpStatus.BAD_REQUEST.getCode()));
        }
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }
}
