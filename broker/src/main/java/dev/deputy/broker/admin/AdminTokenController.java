package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.Limit;
import dev.deputy.broker.http.OAuthErrors;
import dev.deputy.broker.ratelimit.RateLimiter;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.broker.http.RequestMetaFilter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /admin/token}: the bootstrap admin credential (HTTP Basic or form {@code client_id} /
 * {@code client_secret}, {@code grant_type=client_credentials}) → a 15-minute bearer token for the admin API.
 */
@Tag(name = "Admin token", description = "The admin credential for a 15-minute bearer token")
@Controller("/admin/token")
@Secured(SecurityRule.IS_ANONYMOUS)
class AdminTokenController {
    private final AdminAuth auth;
    private final RateLimiter limiter;
    private final Limit perSource;

    AdminTokenController(AdminAuth auth, RateLimiter limiter, Tenants tenants) {
        this.auth = auth;
        this.limiter = limiter;
        this.perSource = tenants.tree().broker().rateLimits().adminTokenPerSource();
    }

    @SecurityRequirement(name = AdminApiDocsController.BASIC)
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/x-www-form-urlencoded", schema = @Schema(ref = "#/components/schemas/AdminTokenRequest")))
    @Operation(operationId = "issueAdminToken", summary = "Exchange the admin credential (HTTP Basic) for a bearer token")
    @ApiResponse(responseCode = "200", description = "The token", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AdminToken")))
    @ApiResponse(responseCode = "400", description = "grant_type missing (invalid_request) or not client_credentials (unsupported_grant_type)", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "Unknown or wrong admin credentials", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "429", description = "Too many attempts from this source", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(consumes = MediaType.APPLICATION_FORM_URLENCODED)
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> token(HttpRequest<?> request, @Nullable @Header("Authorization") String authorization,
                          @Nullable @Body Map<String, String> formBody) {
        // an empty body binds to nothing: the same refusal (and audit entry) as a form without grant_type
        Map<String, String> form = formBody == null ? Map.of() : formBody;
        // broker.yml rate_limits.admin_token_per_source: every attempt counts (a guessing rate for the bootstrap secret)
        RequestMeta meta = RequestMetaFilter.of(request);
        limiter.check(AdminAuth.SYSTEM_TENANT, RateLimiter.Kind.ADMIN_TOKEN_PER_SOURCE, RateLimiter.source(meta),
                perSource, EventTypes.ADMIN_TOKEN_ISSUE, meta);
        String id = form.get("client_id");
        String secret = form.get("client_secret");
        if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            // RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded, then joined by ':' and base64'd
            // (Nimbus decodes both: ':', '%', '+', spaces and UTF-8 in either survive)
            try {
                ClientSecretBasic basic = ClientSecretBasic.parse(authorization);
                id = basic.getClientID().getValue();
                secret = basic.getClientSecret().getValue();
            } catch (ParseException | RuntimeException e) {
                auth.refused(null, "invalid_client", "malformed Basic credentials", meta);
                return OAuthErrors.render(OAuth2Error.INVALID_CLIENT, "malformed Basic credentials");
            }
        }
        if (form.get("grant_type") == null) {
            // RFC 6749 §5.2: a missing required parameter is invalid_request
            auth.refused(id, "invalid_request", "missing grant_type", meta);
            return OAuthErrors.render(OAuth2Error.INVALID_REQUEST, "grant_type is required (client_credentials)");
        }
        if (!"client_credentials".equals(form.get("grant_type"))) {
            auth.refused(id, "unsupported_grant_type", null, meta);
            return OAuthErrors.render(OAuth2Error.UNSUPPORTED_GRANT_TYPE, "use grant_type=client_credentials");
        }
        var token = auth.issueToken(id, secret, RequestMetaFilter.of(request));
        if (token.isEmpty()) {
            return OAuthErrors.render(OAuth2Error.INVALID_CLIENT, "unknown or wrong admin credentials");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", token.get());
        body.put("token_type", "Bearer");
        body.put("expires_in", AdminAuth.TOKEN_TTL.toSeconds());
        return HttpResponse.ok(body).header("Cache-Control", "no-store");
    }
}
