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
 * certificate as the reporter saw it on its TLS connection, PEM or base64 DER). A report is recorded only when
 * <ul>
 *   <li>the token is an active Deputy token of the tenant ({@link DeputyTokens}: signature, key still published,
 *       revocation, agents and user);</li>
 *   <li>for a certificate-bound token, the holder's certificate was presented (RFC 8705 §3): the reporter forwards
 *       it as {@code client_certificate}, or the holder itself reports over mTLS with it ({@code cnf_verified: true});
 *       without it the report is refused ({@code invalid_token}, reason {@code cnf_unverified}) unless the tenant
 *       opts in with {@code tool_reports.accept_unverified_cnf: true} for MCP servers that do not terminate TLS —
 *       then it is recorded with {@code cnf_verified: false};</li>
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
            // RFC 8705 §3 is the resource server's duty when the token is presented to it; the reporter is that
            // resource server (authenticated above), not the token holder. A certificate it forwards must be the
            // holder's (else it saw the token used without its certificate: refused). Without one — and without the
            // holder reporting over mTLS itself — nothing shows the call was made by the holder: refused, unless the
            // tenant accepts unverified reports (an MCP server behind a TLS-terminating proxy), then recorded with
            // cnf_verified=false.
            Boolean cnfVerified = null;
            if (DeputyTokens.certificateBinding(claims) != null) {
                String forwarded = ClientAuthPipeline.param(r, "client_certificate");
                if (forwarded != null) {
                    if (!DeputyTokens.heldBy(claims, forwardedThumbprint(forwarded))) {
                        throw refused(tenant, claims, INVALID_TOKEN, "certificate-bound token without its certificate",
                                "cnf_mismatch", report, reporter, meta);
                    }
                    cnfVerified = true;
                } else {
                    // the holder reporting its own call over mTLS with the same certificate
                    X509Certificate own = r.getClientX509Certificate();
                    cnfVerified = own != null && DeputyTokens.heldBy(claims, ClientCertificates.thumbprint(own));
                    if (!cnfVerified && !tenant.acceptUnverifiedCnf()) {
                        throw refused(tenant, claims, INVALID_TOKEN, "certificate-bound token: forward the caller's"
                                        + " client_certificate", "cnf_unverified", report, reporter, meta);
                    }
                }
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
            AuditEntry e = reports.record(tenant.id(), claims, report, resource, reporter, cnfVerified, meta);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("recorded", true);
            out.put("seq", e.seq());
            out.put("correlation_id", e.correlationId());
            return EndpointResponse.ok(out);
        });
    }

    /** The thumbprint of {@code client_certificate} (PEM or base64 DER), null when it does not parse. */
    private static String forwardedThumbprint(String forwarded) {
        if (forwarded.length() > 16_384) {
            return null;
        }
        return ClientCertificates.parse(forwarded.trim()).map(ClientCertificates::thumbprint).orElse(null);
    }

    private static OAuthException refused(Tenant tenant, JWTClaimsSet claims, String error, String description,
                                          String reason, ToolCallReports.Report report, String reporter,
                                          RequestMeta meta) {
        int status = 400;
        return new OAuthException(new ErrorObject(error, description, status))
                .auditEvent(ToolCallReports.rejected(tenant.id(), claims, error, reason, report, reporter, meta));
    }
}
