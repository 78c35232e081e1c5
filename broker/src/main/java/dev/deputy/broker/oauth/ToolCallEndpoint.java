package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.audit.ToolCallReports;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /t/{tenant}/audit/tool-calls}, behind the {@link ClientFrontDoor}: a resource server reports a tool
 * call it served. The reporter authenticates as a confidential client of the tenant (like at {@code /introspect});
 * the form carries {@code token} (the caller's Deputy access token), {@code tool}, {@code arguments_sha256},
 * {@code status}, {@code resource} and, for a certificate-bound token, {@code client_certificate} (the caller's
 * certificate as the reporter saw it on its TLS connection, PEM or base64 DER) unless the report itself comes
 * with that certificate. A report is recorded only when
 * <ul>
 *   <li>the token is an active Deputy token of the tenant ({@link DeputyTokens}: signature, key still published,
 *       revocation, agents and user);</li>
 *   <li>a certificate-bound token comes with its certificate (RFC 8705 §3);</li>
 *   <li>{@code resource}, when given, is one of the token's audiences (RFC 8707; RFC 9068 §4), else the token's
 *       one audience is the resource.</li>
 * </ul>
 * Refusals are {@code invalid_token} (400: the reporter did authenticate) or {@code invalid_request}, each written
 * once as {@code tool.call.rejected} by the door.
 */
@Singleton
public class ToolCallEndpoint {
    static final String INVALID_TOKEN = "invalid_token";

    private final ClientFrontDoor door;
    private final DeputyTokens tokens;
    private final ToolCallReports reports;

    public ToolCallEndpoint(ClientFrontDoor door, DeputyTokens tokens, ToolCallReports reports) {
        this.door = door;
        this.tokens = tokens;
        this.reports = reports;
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        return door.serve(ClientFrontDoor.Endpoint.TOOL_CALLS, tenant, request, meta, call -> {
            HTTPRequest r = call.request();
            String reporter = call.client().clientId();
            ToolCallReports.Report report = new ToolCallReports.Report(ClientAuthPipeline.param(r, "tool"),
                    ClientAuthPipeline.param(r, "arguments_sha256"), ClientAuthPipeline.param(r, "status"),
                    ClientAuthPipeline.param(r, "resource"));
            String token = ClientAuthPipeline.param(r, "token");
            if (token == null) {
                throw refused(tenant, null, OAuth2Error.INVALID_REQUEST.getCode(), "missing token", "no_token",
                        report, reporter, meta);
            }
            DeputyTokens.Verdict v = tokens.check(tenant.id(), token);
            if (!v.active()) {
                throw refused(tenant, v.claims(), INVALID_TOKEN, "the access token is not active", v.inactive(),
                        report, reporter, meta);
            }
            JWTClaimsSet claims = v.claims();
            // RFC 8705 §3: a certificate-bound token is the holder's only with the holder's certificate
            if (DeputyTokens.certificateBinding(claims) != null && !DeputyTokens.heldBy(claims, presented(r))) {
                throw refused(tenant, claims, INVALID_TOKEN, "certificate-bound token without its certificate",
                        "cnf_mismatch", report, reporter, meta);
            }
            try {
                ToolCallReports.check(report);
            } catch (ToolCallReports.InvalidReport e) {
                throw refused(tenant, claims, OAuth2Error.INVALID_REQUEST.getCode(), e.getMessage(), "invalid_report",
                        report, reporter, meta);
            }
            // RFC 8707 / RFC 9068 §4: the call was made at a resource the token is for
            List<String> aud = claims.getAudience();
            String resource;
            if (report.resource() != null) {
                String asked = Resource.canonical(report.resource());
                resource = aud.stream().filter(a -> Resource.canonical(a).equals(asked)).findFirst()
                        .orElseThrow(() -> refused(tenant, claims, INVALID_TOKEN,
                                "the access token is not for this resource", "resource_not_in_aud", report, reporter,
                                meta));
            } else {
                resource = aud.size() == 1 ? aud.get(0) : null;
                if (resource == null) {
                    throw refused(tenant, claims, OAuth2Error.INVALID_REQUEST.getCode(),
                            "resource is required for a token with several audiences", "resource_missing", report,
                            reporter, meta);
                }
            }
            AuditEntry e = reports.record(tenant.id(), claims, report, resource, reporter, meta);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("recorded", true);
            out.put("seq", e.seq());
            out.put("correlation_id", e.correlationId());
            return EndpointResponse.ok(out);
        });
    }

    /** The caller's certificate thumbprint: from the report's own TLS connection, else {@code client_certificate}. */
    private static String presented(HTTPRequest r) {
        X509Certificate own = r.getClientX509Certificate();
        String forwarded = ClientAuthPipeline.param(r, "client_certificate");
        if (forwarded != null && forwarded.length() <= 16_384) {
            return ClientCertificates.parse(forwarded.trim()).map(ClientCertificates::thumbprint).orElse(null);
        }
        return own == null ? null : ClientCertificates.thumbprint(own);
    }

    private static OAuthException refused(Tenant tenant, JWTClaimsSet claims, String error, String description,
                                          String reason, ToolCallReports.Report report, String reporter,
                                          RequestMeta meta) {
        int status = 400;
        return new OAuthException(new ErrorObject(error, description, status))
                .auditEvent(ToolCallReports.rejected(tenant.id(), claims, error, reason, report, reporter, meta));
    }
}
