package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.config.DurationDeserializer;
import dev.deputy.broker.http.OAuthErrors;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.pki.AgentCa;
import dev.deputy.broker.pki.CertificateIssuance;
import dev.deputy.broker.pki.CsrException;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Introspected;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /admin/t/{tenant}/agents/{id}/certificates}: an admin has the tenant's agent CA issue a client
 * certificate from the agent's CSR. Body {@code {"csr": PEM, "ttl": "24h", "rotate": bool, "overlap": "1h"}};
 * answer {@code {"certificate", "ca", "serial", "not_after", "thumbprint"}}. The CLI's {@code deputy agent cert|rotate}
 * calls exactly this. With {@code rotate: true} it is a rotation, privileged as {@code POST …/agents/{id}/rotate} and
 * {@code …/revoke} are ({@link StepUp}): a console session needs a recent multi-factor sign-in (else 401 with the
 * RFC 9470 challenge), an automation credential the privileged capability (else 403); the refusal is audited.
 */
@Tag(name = "Agents", description = "Agents: registry, lifecycle (suspend, resume, revoke), credentials")
@Controller("/admin/t/{tenant}/agents/{id}/certificates")
@Secured("ADMIN")
@ExecuteOn(TaskExecutors.BLOCKING)
class AgentCertificatesController {
    private final Tenants tenants;
    private final CertificateIssuance issuance;
    private final StepUp stepUp;

    AgentCertificatesController(Tenants tenants, CertificateIssuance issuance, StepUp stepUp) {
        this.tenants = tenants;
        this.issuance = issuance;
        this.stepUp = stepUp;
    }

    @Introspected
    record CertificateRequest(@Nullable String csr, @Nullable String ttl, @Nullable Boolean rotate,
                              @Nullable String overlap) {
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/CertificateRequest")))
    @Operation(operationId = "issueAgentCertificate", summary = "Issue a client certificate from the agent's CSR (the tenant's agent CA)")
    @ApiResponse(responseCode = "200", description = "The certificate", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/IssuedCertificate")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (rotate: true from the console without a recent multi-factor sign-in) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant, or rotate: true by an automation credential without the privileged capability", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> issue(HttpRequest<?> request, @Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id,
                          @Body CertificateRequest body, Authentication admin) {
        Tenant t = tenants.find(tenant).orElseThrow(() -> new UnknownTenantException(tenant));
        if (body != null && Boolean.TRUE.equals(body.rotate())) {
            // a rotation retires the agent's current certificates: privileged, as POST …/rotate is (AdminAccess);
            // the refusal (AdminRefusal) is rendered and audited by the admin API's handler
            AdminPrincipal p = AdminPrincipal.of(admin).orElseThrow(() -> AdminRefusal.forbidden("not an admin"));
            stepUp.require(p, "POST " + request.getPath() + " (rotate)");
        }
        if (body == null || body.csr() == null) {
            return OAuthErrors.render(OAuth2Error.INVALID_REQUEST, "csr is required");
        }
        Duration ttl;
        Duration overlap;
        try {
            ttl = body.ttl() == null ? null : DurationDeserializer.parse(body.ttl());
            overlap = body.overlap() == null ? null : DurationDeserializer.parse(body.overlap());
        } catch (IllegalArgumentException e) {
            return OAuthErrors.render(OAuth2Error.INVALID_REQUEST, "ttl and overlap are durations such as 24h or 30m");
        }
        try {
            AgentCa.Issued issued = issuance.issue(t.id(), id, body.csr(), ttl, Boolean.TRUE.equals(body.rotate()),
                    overlap, admin.getName(), RequestMetaFilter.of(request));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("certificate", issued.certificatePem());
            out.put("ca", issued.caPem());
            out.put("serial", issued.serial());
            out.put("not_after", issued.notAfter().toString());
            out.put("thumbprint", issued.thumbprint());
            return HttpResponse.ok(out).header("Cache-Control", "no-store");
        } catch (CsrException e) {
            if ("unknown agent".equals(e.getMessage())) {
                return OAuthErrors.render(new ErrorObject("not_found", "unknown agent", 404));
            }
            return OAuthErrors.render(OAuth2Error.INVALID_REQUEST, e.getMessage());
        }
    }
}
