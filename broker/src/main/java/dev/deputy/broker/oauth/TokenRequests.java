package dev.deputy.broker.oauth;

import com.nimbusds.common.contenttype.ContentType;
import com.nimbusds.oauth2.sdk.AuthorizationGrant;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParameterRequirement;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.rar.AuthorizationDetail;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.nimbusds.oauth2.sdk.util.MultivaluedMapUtils;
import com.nimbusds.oauth2.sdk.util.ResourceUtils;
import com.nimbusds.oauth2.sdk.util.StringUtils;
import com.nimbusds.openid.connect.sdk.nativesso.DeviceSecret;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Nimbus's {@code TokenRequest.parse(HTTPRequest)} (oauth2-oidc-sdk 11.39), step for step, on the client
 * authentication {@link ClientAuthPipeline#parse} already took from the same request: {@code TokenRequest.parse}
 * would parse it again (a client assertion twice). Every piece is Nimbus's own parser ({@code AuthorizationGrant
 * .parse}, {@code Scope.parse}, {@code AuthorizationDetail.parseList}, {@code DeviceSecret.parse}, ...); this class
 * holds only their order and the checks between them, with the same error codes. {@code TokenRequestsTest} compares
 * the two on a matrix of requests: run it again when Nimbus is upgraded.
 */
final class TokenRequests {
    /** RFC 6749 §3.2: no parameter more than once, except these (RFC 8707 §2, RFC 8693 §2.1). */
    private static final Set<String> ALLOWED_REPEATED_PARAMS = Set.of("resource", "audience");
    /** Not custom parameters of any grant (TokenRequest.REGISTERED_PARAMETER_NAMES). */
    private static final Set<String> REGISTERED_PARAMETER_NAMES = Set.of("grant_type", "client_id", "client_secret",
            "client_assertion_type", "client_assertion", "scope", "authorization_details", "resource", "existing_grant",
            "device_secret");

    private TokenRequests() {
    }

    /**
     * @param auth the request's client authentication as {@link ClientAuthPipeline#parse} gave it; null for none
     * @throws OAuthException with the error {@code TokenRequest.parse} would have given
     */
    static TokenRequest parse(HTTPRequest request, ClientAuthentication auth) {
        // RFC 6749 §3.2 (no parameter twice, identical values included; Nimbus counts distinct values only) was
        // checked by the front door (ClientFrontDoor, FormParameters.TOKEN_REPEATABLE) before client authentication
        try {
            // with one method (or none) the pipeline's authentication is Nimbus's only candidate; EdDSA assertions
            // Nimbus refuses altogether
            if (auth instanceof EdDsaPrivateKeyJwt || ClientAuthPipeline.methods(request) <= 1) {
                return build(request, auth);
            }
            // several methods at once (Nimbus keeps every candidate, checked for one client id): Nimbus's own parse
            return TokenRequest.parse(request);
        } catch (ParseException e) {
            ErrorObject eo = e.getErrorObject() != null ? e.getErrorObject() : OAuth2Error.INVALID_REQUEST;
            throw new OAuthException(new ErrorObject(eo.getCode(), ClientAuthPipeline.safe(e.getMessage()),
                    eo.getHTTPStatusCode() > 0 ? eo.getHTTPStatusCode() : 400));
        } catch (IllegalArgumentException e) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "malformed parameter");
        }
    }

    private static TokenRequest build(HTTPRequest request, ClientAuthentication auth) throws ParseException {
        URI endpoint = request.getURI();
        request.ensureMethod(HTTPRequest.Method.POST);
        request.ensureEntityContentType(ContentType.APPLICATION_URLENCODED);
        Map<String, List<String>> params = request.getBodyAsFormParameters();

        Set<String> repeated = FormParameters.repeated(params, ALLOWED_REPEATED_PARAMS);
        if (!repeated.isEmpty()) {
            String msg = "Parameter(s) present more than once: " + repeated;
            throw new ParseException(msg, OAuth2Error.INVALID_REQUEST.setDescription(msg));
        }

        AuthorizationGrant grant = AuthorizationGrant.parse(params);
        if (auth == null && grant.getType().requiresClientAuthentication()) {
            String msg = "Missing client authentication";
            throw new ParseException(msg, OAuth2Error.INVALID_CLIENT.appendDescription(": " + msg));
        }
        ClientID clientID = null;
        if (auth == null) {
            String id = MultivaluedMapUtils.getFirstValue(params, "client_id");
            if (StringUtils.isNotBlank(id)) {
                clientID = new ClientID(id);
            }
            if (clientID == null && grant.getType().requiresClientID()) {
                String msg = "Missing required client_id parameter";
                throw new ParseException(msg, OAuth2Error.INVALID_REQUEST.appendDescription(": " + msg));
            }
        }

        String scopeValue = MultivaluedMapUtils.getFirstValue(params, "scope");
        ParameterRequirement scopeRequirement = grant.getType().getScopeRequirementInTokenRequest();
        Scope scope = null;
        if (scopeValue != null && (ParameterRequirement.REQUIRED.equals(scopeRequirement)
                || ParameterRequirement.OPTIONAL.equals(scopeRequirement))) {
            scope = Scope.parse(scopeValue);
        }

        String rar = MultivaluedMapUtils.getFirstValue(params, "authorization_details");
        List<AuthorizationDetail> authorizationDetails = rar != null ? AuthorizationDetail.parseList(rar) : null;

        List<URI> resources = null;
        List<String> resourceValues = params.get("resource");
        if (resourceValues != null) {
            resources = new LinkedList<>();
            for (String v : resourceValues) {
                if (v == null) {
                    continue;
                }
                // RFC 8707 §2: an absolute URI without a fragment
                String msg = "Illegal resource parameter: Must be an absolute URI without a fragment: " + v;
                URI uri;
                try {
                    uri = new URI(v);
                } catch (URISyntaxException e) {
                    throw new ParseException(msg, OAuth2Error.INVALID_TARGET.setDescription(msg));
                }
                if (!ResourceUtils.isLegalResourceURI(uri)) {
                    throw new ParseException(msg, OAuth2Error.INVALID_TARGET.setDescription(msg));
                }
                resources.add(uri);
            }
        }

        String rt = MultivaluedMapUtils.getFirstValue(params, "existing_grant");
        RefreshToken existingGrant = StringUtils.isNotBlank(rt) ? new RefreshToken(rt) : null;
        DeviceSecret deviceSecret = DeviceSecret.parse(MultivaluedMapUtils.getFirstValue(params, "device_secret"));

        Map<String, List<String>> custom = new HashMap<>();
        Set<String> grantParams = grant.getType().getRequestParameterNames();
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            if (!REGISTERED_PARAMETER_NAMES.contains(p.getKey().toLowerCase(Locale.ROOT)) && !grantParams.contains(p.getKey())) {
                custom.put(p.getKey(), p.getValue());
            }
        }

        if (auth != null) {
            return new TokenRequest(endpoint, auth, grant, scope, authorizationDetails, resources, deviceSecret, custom);
        }
        return new TokenRequest(endpoint, clientID, grant, scope, authorizationDetails, resources, existingGrant,
                deviceSecret, custom);
    }
}
