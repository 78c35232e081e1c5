package dev.deputy.broker.oauth;

import com.nimbusds.common.contenttype.ContentType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.auth.JWTAuthentication;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.util.MultivaluedMapUtils;
import com.nimbusds.oauth2.sdk.util.StringUtils;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Client authentication, run once per request by the {@link ClientFrontDoor}: Nimbus parses the
 * method (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2), then each {@link ClientAuthenticator} bean is asked in
 * order; the first that recognises the client decides. Nobody recognising it is {@code invalid_client}.
 */
@Singleton
public class ClientAuthPipeline {
    /** {@code PrivateKeyJWT.supportedJWAs()} (RSA and EC; a new set on every call there). */
    private static final Set<JWSAlgorithm> PRIVATE_KEY_JWT_ALGS = Set.copyOf(PrivateKeyJWT.supportedJWAs());
    private final List<ClientAuthenticator> authenticators;

    public ClientAuthPipeline(List<ClientAuthenticator> authenticators) {
        this.authenticators = List.copyOf(authenticators);
    }

    public List<ClientAuthenticator> authenticators() {
        return authenticators;
    }

    public AuthenticatedClient authenticate(Tenant tenant, String issuer, HTTPRequest request) {
        return authenticate(tenant, issuer, request, parse(request));
    }

    /** The same, with the client authentication already parsed from this request by {@link #parse}. */
    public AuthenticatedClient authenticate(Tenant tenant, String issuer, HTTPRequest request,
                                            ClientAuthentication auth) {
        return authenticate(tenant, issuer, request, auth, null);
    }

    /** The same, marking one-time values through {@code marks} (null: the ephemeral store's own marks). */
    public AuthenticatedClient authenticate(Tenant tenant, String issuer, HTTPRequest request,
                                            ClientAuthentication auth, dev.deputy.broker.ephemeral.OneTimeMarks marks) {
        ClientID publicId = null;
        if (auth == null) {
            String id = param(request, "client_id");
            if (id == null) {
                throw new OAuthException(OAuth2Error.INVALID_CLIENT, "client authentication required");
            }
            publicId = new ClientID(id);
        }
        for (ClientAuthenticator a : authenticators) {
            var result = marks == null ? a.authenticate(tenant, issuer, auth, publicId, request)
                    : a.authenticate(tenant, issuer, auth, publicId, request, marks);
            if (result.isPresent()) {
                dev.deputy.broker.logging.LogContext.client(result.get().clientId(), result.get().agentId());
                return result.get();
            }
        }
        throw new OAuthException(OAuth2Error.INVALID_CLIENT, "unknown client");
    }

    /** Nimbus's view of the client authentication; a malformed one is {@code invalid_client} (RFC 7523 §3.2). */
    public static ClientAuthentication parse(HTTPRequest request) {
        PrivateKeyJWT pkj = privateKeyJwtOnly(request);
        if (pkj != null) {
            return pkj;
        }
        try {
            return ClientAuthentication.parse(request);
        } catch (ParseException e) {
            EdDsaPrivateKeyJwt ed = edDsa(request);
            if (ed != null) {
                return ed;
            }
            boolean assertion = param(request, "client_assertion") != null;
            ErrorObject eo = e.getErrorObject();
            if (assertion || eo == null || OAuth2Error.INVALID_CLIENT.getCode().equals(eo.getCode())) {
                throw new OAuthException(OAuth2Error.INVALID_CLIENT, assertion
                        ? "malformed or unsupported client assertion" : "malformed client authentication");
            }
            throw new OAuthException(new ErrorObject(eo.getCode(), safe(e.getMessage()), eo.getHTTPStatusCode()));
        }
    }

    /**
     * The usual private_key_jwt request, where the assertion is the request's one client authentication method:
     * {@code ClientAuthentication.parse} would find this one candidate and return {@code JWTAuthentication.parse},
     * which parses the assertion to read its {@code alg}, then hands the parameters to {@code PrivateKeyJWT.parse},
     * which parses it again. This calls {@code PrivateKeyJWT.parse} (assertion type, assertion, {@code client_id}
     * match) directly, for the algorithms it would have been chosen for; anything else, or any failure, takes the
     * general path for its answer.
     */
    private static PrivateKeyJWT privateKeyJwtOnly(HTTPRequest request) {
        if (methods(request) != 1) {
            return null;
        }
        try {
            Map<String, List<String>> params = request.getBodyAsFormParameters();
            if (StringUtils.isBlank(MultivaluedMapUtils.getFirstValue(params, "client_assertion"))
                    || StringUtils.isBlank(MultivaluedMapUtils.getFirstValue(params, "client_assertion_type"))) {
                return null;
            }
            PrivateKeyJWT pkj = PrivateKeyJWT.parse(params);
            return PRIVATE_KEY_JWT_ALGS.contains(pkj.getClientAssertion().getHeader().getAlgorithm()) ? pkj : null;
        } catch (ParseException | RuntimeException e) {
            return null;
        }
    }

    /**
     * How many client authentication methods the request carries, found as {@code ClientAuthentication
     * .parseCandidates} finds them: a Basic Authorization header; and in a form POST, {@code client_id} with
     * {@code client_secret}, {@code client_assertion} with {@code client_assertion_type}, a client certificate with
     * {@code client_id}. Unreadable form parameters count as many.
     */
    static int methods(HTTPRequest request) {
        String authorization = request.getAuthorization();
        int n = authorization != null && authorization.regionMatches(true, 0, "basic", 0, 5) ? 1 : 0;
        if (request.getMethod() != HTTPRequest.Method.POST || request.getEntityContentType() == null
                || !request.getEntityContentType().matches(ContentType.APPLICATION_URLENCODED)) {
            return n;
        }
        try {
            Map<String, List<String>> params = FormParameters.view(request);
            boolean clientId = StringUtils.isNotBlank(MultivaluedMapUtils.getFirstValue(params, "client_id"));
            if (clientId && StringUtils.isNotBlank(MultivaluedMapUtils.getFirstValue(params, "client_secret"))) {
                n++;
            }
            if (StringUtils.isNotBlank(MultivaluedMapUtils.getFirstValue(params, "client_assertion"))
                    && StringUtils.isNotBlank(MultivaluedMapUtils.getFirstValue(params, "client_assertion_type"))) {
                n++;
            }
            if (clientId && request.getClientX509Certificate() != null) {
                n++;
            }
            return n;
        } catch (ParseException | RuntimeException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** RFC 7523 §2.2 with an EdDSA assertion, which Nimbus's parser refuses (see {@link EdDsaPrivateKeyJwt}). */
    private static EdDsaPrivateKeyJwt edDsa(HTTPRequest request) {
        String assertion = param(request, "client_assertion");
        if (assertion == null || assertion.length() > 16_384
                || !JWTAuthentication.CLIENT_ASSERTION_TYPE.equals(param(request, "client_assertion_type"))) {
            return null;
        }
        try {
            SignedJWT jwt = SignedJWT.parse(assertion);
            if (!JWSAlgorithm.Family.ED.contains(jwt.getHeader().getAlgorithm())) {
                return null;
            }
            EdDsaPrivateKeyJwt ed = new EdDsaPrivateKeyJwt(jwt);
            String clientId = param(request, "client_id");
            // RFC 7523 §3: a client_id parameter, if sent, must be the assertion's subject
            if (clientId != null && !clientId.equals(ed.getClientID().getValue())) {
                return null;
            }
            return ed;
        } catch (java.text.ParseException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The client id the caller claims, for the audit trail of a failure: Basic user, {@code client_id}, or the
     * unverified {@code sub} of the assertion. Never trusted for anything else.
     */
    public static String claimedClientId(HTTPRequest request) {
        try {
            if (request.getAuthorization() != null && request.getAuthorization().regionMatches(true, 0, "Basic ", 0, 6)) {
                return clip(ClientSecretBasic.parse(request.getAuthorization()).getClientID().getValue());
            }
        } catch (ParseException | RuntimeException ignored) {
            // fall through
        }
        String id = param(request, "client_id");
        if (id != null) {
            return clip(id);
        }
        String assertion = param(request, "client_assertion");
        if (assertion != null && assertion.length() < 16_384) {
            try {
                return clip(JWTParser.parse(assertion).getJWTClaimsSet().getSubject());
            } catch (java.text.ParseException | RuntimeException ignored) {
                return null;
            }
        }
        return null;
    }

    /** A parameter its RFC makes REQUIRED: missing or blank is {@code invalid_request} (RFC 6749 §5.2). */
    public static String required(HTTPRequest request, String name) {
        String value = param(request, name);
        if (value == null) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "missing " + name);
        }
        return value;
    }

    public static String param(HTTPRequest request, String name) {
        try {
            List<String> v = FormParameters.view(request).get(name);
            return v == null || v.isEmpty() || v.get(0).isBlank() ? null : v.get(0);
        } catch (ParseException | RuntimeException e) {
            return null;
        }
    }

    private static String clip(String s) {
        return s == null ? null : s.length() > 128 ? s.substring(0, 128) : s;
    }

    static String safe(String s) {
        if (s == null) {
            return null;
        }
        return s.length() > 200 ? s.substring(0, 200) : s;
    }
}
