package dev.deputy.connectors;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.ClientSecretPost;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.AccessToken;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.AuthenticationResponse;
import com.nimbusds.openid.connect.sdk.AuthenticationResponseParser;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.UserInfoRequest;
import com.nimbusds.openid.connect.sdk.UserInfoResponse;
import com.nimbusds.openid.connect.sdk.UserInfoSuccessResponse;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import dev.deputy.connectors.ConnectorConfig.ClientAuth;
import dev.deputy.connectors.ConnectorException.Code;
import dev.deputy.connectors.ConnectorTestReport.Check;
import dev.deputy.connectors.ConnectorTestReport.Status;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The generic OpenID Connect connector (authorization code + PKCE S256, state, nonce) built on Nimbus.
 * Vendor profiles extend it and override only the protected hooks that hold their quirks.
 */
public class OidcConnector implements UpstreamConnector {

    /** Claims that userinfo may not overwrite: they describe the ID token itself (OIDC Core §2, §5.3.2). */
    private static final Set<String> TOKEN_CLAIMS = Set.of("iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp",
            "auth_time", "acr", "amr", "jti", "at_hash", "c_hash", "sid", "tid", "oid");

    /** Carries what one validation expects; doubles as the Nimbus security context (no per-request fields on the connector). */
    public record Expectation(TokenKind kind, String nonce, Set<String> audiences) implements SecurityContext {}

    /** A claims-check failure with its code, thrown through Nimbus's processor. */
    protected static final class Rejected extends BadJWTException {
        final Code code;

        Rejected(Code code, String message) {
            super(message);
            this.code = code;
        }
    }

    private record Keys(URI jwksUri, DefaultJWTProcessor<Expectation> processor) {}

    protected final ConnectorConfig config;
    protected final ConnectorOptions options;
    private final ProviderMetadataCache discovery;
    private final AtomicReference<Keys> keys = new AtomicReference<>();

    public OidcConnector(ConnectorConfig config, ConnectorOptions options) {
        this.config = Objects.requireNonNull(config);
        this.options = Objects.requireNonNull(options);
        this.discovery = new ProviderMetadataCache(config.id(), config.issuer(), options, this::checkDiscoveredIssuer);
    }

    @Override
    public ConnectorConfig config() {
        return config;
    }

    /** Cached, issuer-checked discovery metadata. */
    protected OIDCProviderMetadata metadata() {
        return discovery.get();
    }

    // ---------------------------------------------------------------- hooks for vendor profiles

    /** OIDC Discovery §4.3: the discovered issuer MUST be identical to the configured issuer. */
    protected void checkDiscoveredIssuer(String discovered) {
        if (!config.issuer().equals(discovered)) {
            throw new ConnectorException(Code.ISSUER_MISMATCH, "discovery document issuer '" + discovered
                    + "' is not identical to the configured issuer '" + config.issuer() + "'");
        }
    }

    /** The exact {@code iss} this token must carry; null if none can be accepted. */
    protected String expectedIssuer(JWTClaimsSet claims) {
        return config.issuer();
    }

    /** RFC 9207 §2.4: an {@code iss} authorization response parameter must equal the issuer. */
    protected boolean acceptsResponseIssuer(String iss) {
        return config.issuer().equals(iss);
    }

    /** Vendor claim rules (tenant, organization...), run after the standard checks. Throw {@link #reject}. */
    protected void checkVendorClaims(JWTClaimsSet claims, TokenKind kind) throws BadJWTException {}

    /** Extra authorization request parameters (e.g. Auth0 {@code organization}). */
    protected void customizeAuthorization(AuthenticationRequest.Builder request) {}

    /** Additional claims from the token response (e.g. Keycloak roles in the access token). */
    protected Map<String, Object> claimsFromAccessToken(AccessToken accessToken, JWTClaimsSet idClaims) {
        return Map.of();
    }

    /** Looks up a mapped claim by its configured name. */
    protected Object claim(Map<String, Object> claims, String name) {
        return claims.get(name);
    }

    /** Upstream groups; profiles add vendor sources. */
    protected List<String> groups(Map<String, Object> claims) {
        return strings(claim(claims, config.claims().groups()));
    }

    protected boolean groupsOverage(Map<String, Object> claims) {
        return false;
    }

    protected UpstreamIdentity identity(JWTClaimsSet token, Map<String, Object> merged) {
        List<String> groups = groups(merged);
        Object verified = merged.get("email_verified");
        Boolean emailVerified = verified instanceof Boolean b ? b
                : verified instanceof String s && (s.equals("true") || s.equals("false")) ? Boolean.valueOf(s) : null;
        return new UpstreamIdentity(config.id(), token.getIssuer(), token.getSubject(),
                string(claim(merged, config.claims().email())), emailVerified,
                string(claim(merged, config.claims().name())), groups, mapRoles(groups), groupsOverage(merged),
                null, null, merged);
    }

    /** Vendor rows appended to {@link #test()}. */
    protected void vendorChecks(OIDCProviderMetadata metadata, List<Check> checks) {}

    protected static Rejected reject(Code code, String message) {
        return new Rejected(code, message);
    }

    // ---------------------------------------------------------------- login

    @Override
    public LoginRequest beginLogin(URI redirectUri, String loginHint) {
        URI redirect = redirectUri != null ? redirectUri : config.redirectUri();
        if (redirect == null) {
            throw new ConnectorException(Code.INVALID_CONFIG, "connector '" + config.id() + "': no redirect URI given or configured");
        }
        OIDCProviderMetadata md = discovery.get();
        State state = new State();
        Nonce nonce = new Nonce();
        CodeVerifier verifier = new CodeVerifier();
        // OIDC Core §3.1.2.1 (code flow, nonce) + RFC 7636 §4.3 (S256 only, as OAuth 2.1 requires)
        AuthenticationRequest.Builder b = new AuthenticationRequest.Builder(ResponseType.CODE,
                new Scope(config.scopes().toArray(String[]::new)), new ClientID(config.clientId()), redirect)
                .endpointURI(md.getAuthorizationEndpointURI())
                .state(state)
                .nonce(nonce)
                .codeChallenge(verifier, CodeChallengeMethod.S256);
        if (loginHint != null && !loginHint.isBlank()) b.loginHint(loginHint);
        customizeAuthorization(b);
        PendingLogin pending = new PendingLogin(config.id(), state.getValue(), nonce.getValue(), verifier.getValue(),
                redirect, options.clock().instant());
        return new LoginRequest(b.build().toURI(), pending);
    }

    @Override
    public UpstreamIdentity completeLogin(Map<String, List<String>> callbackParams, PendingLogin stored) {
        if (stored == null || !config.id().equals(stored.connectorId())) {
            throw new ConnectorException(Code.STATE_MISMATCH, "no pending login for this connector");
        }
        AuthenticationResponse response;
        try {
            response = AuthenticationResponseParser.parse(stored.redirectUri(), callbackParams);
        } catch (ParseException e) {
            throw new ConnectorException(Code.INVALID_CALLBACK, "malformed authorization response");
        }
        // RFC 6749 §10.12, OIDC Core §3.1.2.7: the state returned MUST be the one bound to this browser
        State state = response.getState();
        if (state == null || !equalsConstantTime(state.getValue(), stored.state())) {
            throw new ConnectorException(Code.STATE_MISMATCH, "state in the callback does not match the pending login");
        }
        OIDCProviderMetadata md = discovery.get();
        // RFC 9207 §2.4: reject a mismatching iss, and a missing one when the AS advertises support
        Issuer iss = response.getIssuer();
        if (iss != null ? !acceptsResponseIssuer(iss.getValue()) : md.supportsAuthorizationResponseIssuerParam()) {
            throw new ConnectorException(Code.ISSUER_MISMATCH, "authorization response iss does not match the issuer");
        }
        if (!response.indicatesSuccess()) {
            ErrorObject err = response.toErrorResponse().getErrorObject();
            throw new ConnectorException(Code.UPSTREAM_ERROR, "upstream returned error '" + safe(err == null ? null : err.getCode()) + "'");
        }
        AuthorizationCode code = response.toSuccessResponse().getAuthorizationCode();
        if (code == null) throw new ConnectorException(Code.INVALID_CALLBACK, "authorization response has no code");

        OIDCTokenResponse tokens = redeem(md, code, stored);
        String idToken = tokens.getOIDCTokens().getIDTokenString();
        if (idToken == null) {
            // OIDC Core §3.1.3.3: a successful token response MUST contain an id_token
            throw new ConnectorException(Code.INVALID_ID_TOKEN, "token response has no id_token");
        }
        JWTClaimsSet claims = validate(md, idToken, new Expectation(TokenKind.ID_TOKEN, stored.nonce(), Set.of(config.clientId())));

        Map<String, Object> merged = new LinkedHashMap<>(claims.toJSONObject());
        AccessToken accessToken = tokens.getOIDCTokens().getAccessToken();
        claimsFromAccessToken(accessToken, claims).forEach(merged::putIfAbsent);
        if (config.userinfo()) {
            userinfo(md, accessToken, claims.getSubject()).forEach((k, v) -> {
                if (!TOKEN_CLAIMS.contains(k)) merged.put(k, v);
            });
        }
        return identity(claims, merged);
    }

    private OIDCTokenResponse redeem(OIDCProviderMetadata md, AuthorizationCode code, PendingLogin stored) {
        URI tokenEndpoint = md.getTokenEndpointURI();
        TokenRequest request = new TokenRequest(tokenEndpoint, clientAuthentication(tokenEndpoint),
                new AuthorizationCodeGrant(code, stored.redirectUri(), new CodeVerifier(stored.codeVerifier())));
        HTTPResponse http = send(request.toHTTPRequest(), Code.TOKEN_REQUEST_FAILED, "token endpoint");
        TokenResponse parsed;
        try {
            parsed = OIDCTokenResponseParser.parse(http);
        } catch (ParseException e) {
            throw new ConnectorException(Code.TOKEN_REQUEST_FAILED, "malformed token response (HTTP " + http.getStatusCode() + ")");
        }
        if (!parsed.indicatesSuccess()) {
            ErrorObject err = parsed.toErrorResponse().getErrorObject();
            throw new ConnectorException(Code.TOKEN_REQUEST_FAILED, "token endpoint returned error '"
                    + safe(err == null ? null : err.getCode()) + "' (HTTP " + http.getStatusCode() + ")");
        }
        if (!(parsed.toSuccessResponse() instanceof OIDCTokenResponse oidc)) {
            throw new ConnectorException(Code.INVALID_ID_TOKEN, "token response has no id_token");
        }
        return oidc;
    }

    /** RFC 6749 §2.3.1 (basic / post) or RFC 7523 §2.2 private_key_jwt with aud = token endpoint. */
    protected ClientAuthentication clientAuthentication(URI tokenEndpoint) {
        ClientID clientId = new ClientID(config.clientId());
        return switch (config.clientAuth()) {
            case CLIENT_SECRET_BASIC -> new ClientSecretBasic(clientId, new Secret(config.clientSecret().reveal()));
            case CLIENT_SECRET_POST -> new ClientSecretPost(clientId, new Secret(config.clientSecret().reveal()));
            case PRIVATE_KEY_JWT -> {
                JWK jwk = config.privateJwk();
                try {
                    PrivateKey key = jwk instanceof RSAKey rsa ? rsa.toPrivateKey() : ((ECKey) jwk).toPrivateKey();
                    yield new PrivateKeyJWT(clientId, tokenEndpoint, signingAlgorithm(jwk), key, jwk.getKeyID(), null);
                } catch (JOSEException e) {
                    throw new ConnectorException(Code.INVALID_CONFIG, "connector '" + config.id() + "': private_jwk cannot sign");
                }
            }
        };
    }

    private static JWSAlgorithm signingAlgorithm(JWK jwk) {
        if (jwk.getAlgorithm() != null) return JWSAlgorithm.parse(jwk.getAlgorithm().getName());
        if (jwk instanceof ECKey ec) {
            Curve c = ec.getCurve();
            return Curve.P_384.equals(c) ? JWSAlgorithm.ES384 : Curve.P_521.equals(c) ? JWSAlgorithm.ES512 : JWSAlgorithm.ES256;
        }
        return JWSAlgorithm.RS256;
    }

    private Map<String, Object> userinfo(OIDCProviderMetadata md, AccessToken accessToken, String subject) {
        URI endpoint = md.getUserInfoEndpointURI();
        if (endpoint == null) throw new ConnectorException(Code.USERINFO_FAILED, "userinfo is enabled but the IdP has no userinfo_endpoint");
        if (!(accessToken instanceof BearerAccessToken bearer)) {
            throw new ConnectorException(Code.USERINFO_FAILED, "userinfo needs a Bearer access token");
        }
        HTTPResponse http = send(new UserInfoRequest(endpoint, bearer).toHTTPRequest(), Code.USERINFO_FAILED, "userinfo endpoint");
        UserInfoResponse parsed;
        try {
            parsed = UserInfoResponse.parse(http);
        } catch (ParseException e) {
            throw new ConnectorException(Code.USERINFO_FAILED, "malformed userinfo response (HTTP " + http.getStatusCode() + ")");
        }
        if (!parsed.indicatesSuccess()) {
            throw new ConnectorException(Code.USERINFO_FAILED, "userinfo endpoint refused (HTTP " + http.getStatusCode() + ")");
        }
        UserInfoSuccessResponse ok = parsed.toSuccessResponse();
        if (ok.getUserInfo() == null) {
            throw new ConnectorException(Code.USERINFO_FAILED, "signed or encrypted userinfo responses are not supported");
        }
        // OIDC Core §5.3.2: the UserInfo sub MUST exactly match the ID token sub
        if (!subject.equals(ok.getUserInfo().getSubject().getValue())) {
            throw new ConnectorException(Code.SUBJECT_MISMATCH, "userinfo sub differs from the ID token sub");
        }
        return ok.getUserInfo().toJSONObject();
    }

    private HTTPResponse send(HTTPRequest request, Code code, String what) {
        request.setConnectTimeout((int) options.connectTimeout().toMillis());
        request.setReadTimeout((int) options.readTimeout().toMillis());
        String spanName = what.endsWith(" endpoint") ? what.substring(0, what.length() - " endpoint".length()) : what;
        try (UpstreamTracing.Call call = UpstreamTracing.Call.start(options.tracer(), spanName, config.id(),
                request.getURL(), request.getMethod().name())) {
            UpstreamTracing.inject(request::setHeader); // W3C trace context of this upstream call
            try {
                HTTPResponse response = request.send();
                call.status(response.getStatusCode());
                return response;
            } catch (IOException e) {
                call.failed(e);
                throw new ConnectorException(code, what + " unreachable (" + e.getClass().getSimpleName() + ")", e);
            }
        }
    }

    // ---------------------------------------------------------------- token validation

    @Override
    public UpstreamIdentity validateUpstreamToken(String jwt, TokenKind kind, Set<String> acceptedAudiences) {
        Set<String> audiences = acceptedAudiences == null || acceptedAudiences.isEmpty() ? Set.of(config.clientId()) : Set.copyOf(acceptedAudiences);
        JWTClaimsSet claims = validate(discovery.get(), jwt, new Expectation(kind, null, audiences));
        return identity(claims, new LinkedHashMap<>(claims.toJSONObject()));
    }

    /** Signature (cached JWKS, refetched on unknown kid), algorithm allow-list, then {@link #verifyClaims}. */
    protected JWTClaimsSet validate(OIDCProviderMetadata md, String token, Expectation expect) {
        Code invalid = expect.kind() == TokenKind.ID_TOKEN ? Code.INVALID_ID_TOKEN : Code.INVALID_TOKEN;
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (java.text.ParseException e) {
            throw new ConnectorException(invalid, "token is not a JWT");
        }
        // OIDC Core §3.1.3.7 steps 6-8 / RFC 8725 §3.1: only the configured asymmetric algorithms; never none or HMAC
        if (!(jwt instanceof SignedJWT signed) || !config.allowedAlgorithms().contains(signed.getHeader().getAlgorithm())) {
            throw new ConnectorException(Code.ALGORITHM_NOT_ALLOWED, "token algorithm '" + jwt.getHeader().getAlgorithm() + "' is not allowed");
        }
        try {
            return processor(md).process(signed, expect);
        } catch (Rejected r) {
            throw new ConnectorException(r.code, r.getMessage());
        } catch (BadJOSEException e) {
            throw new ConnectorException(invalid, "token rejected: signature, key or type check failed");
        } catch (com.nimbusds.jose.KeySourceException e) {
            throw new ConnectorException(Code.JWKS_UNAVAILABLE, "signing keys could not be fetched from " + md.getJWKSetURI(), e);
        } catch (JOSEException e) {
            throw new ConnectorException(invalid, "token signature could not be verified");
        }
    }

    private DefaultJWTProcessor<Expectation> processor(OIDCProviderMetadata md) {
        URI jwksUri = md.getJWKSetURI();
        if (jwksUri == null) throw new ConnectorException(Code.DISCOVERY_FAILED, "discovery document has no jwks_uri");
        Keys k = keys.get();
        if (k != null && k.jwksUri().equals(jwksUri)) return k.processor();
        JWKSource<Expectation> source;
        try {
            // Cached JWKS; an unknown kid triggers a (rate-limited) refetch, so upstream key rotation just works.
            source = JWKSourceBuilder.<Expectation>create(jwksUri.toURL(), discovery.retriever())
                    .cache(options.jwksTtl().toMillis(), options.readTimeout().toMillis())
                    .rateLimited(options.jwksRefreshMinInterval().toMillis())
                    .build();
        } catch (IOException | IllegalArgumentException e) {
            throw new ConnectorException(Code.DISCOVERY_FAILED, "jwks_uri is not a valid URL");
        }
        DefaultJWTProcessor<Expectation> p = new DefaultJWTProcessor<>();
        p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"),
                new JOSEObjectType("application/at+jwt"), null));
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(config.allowedAlgorithms(), source));
        p.setJWTClaimsSetVerifier(this::verifyClaims);
        keys.set(new Keys(jwksUri, p));
        return p;
    }

    /** The checks of OIDC Core §3.1.3.7 (ID tokens) and RFC 9068 §4 / RFC 7519 §4.1 (JWT access tokens). */
    private void verifyClaims(JWTClaimsSet c, Expectation e) throws BadJWTException {
        Code invalid = e.kind() == TokenKind.ID_TOKEN ? Code.INVALID_ID_TOKEN : Code.INVALID_TOKEN;
        // OIDC Core §2: sub REQUIRED, locally unique and never reassigned
        if (c.getSubject() == null || c.getSubject().isEmpty()) throw reject(invalid, "token has no sub");
        // OIDC Core §3.1.3.7 step 2: iss MUST exactly match the issuer (no normalisation)
        String expectedIss = expectedIssuer(c);
        if (c.getIssuer() == null || !c.getIssuer().equals(expectedIss)) {
            throw reject(Code.ISSUER_MISMATCH, "token issuer does not match the connector's issuer");
        }
        // OIDC Core §3.1.3.7 step 3: aud MUST contain our client_id (token exchange: one of the accepted audiences)
        List<String> aud = c.getAudience();
        if (aud.stream().noneMatch(e.audiences()::contains)) throw reject(Code.AUDIENCE_MISMATCH, "token audience does not include this client");
        String azp = stringClaim(c, "azp", invalid);
        // RFC 8725 §3.11 (and OIDC Core §3.1.3.7 step 4): a token with several audiences is accepted only when azp names
        // the party it was issued to — whatever kind the caller says it is, or an ID token for another client would
        // pass as an "access token" shared with us
        if (aud.size() > 1) {
            if (azp == null) throw reject(Code.AUDIENCE_MISMATCH, "multi-audience token without azp");
            if (!azp.equals(config.clientId()) && !e.audiences().contains(azp)) {
                throw reject(Code.AUDIENCE_MISMATCH, "token azp is another client");
            }
        }
        // OIDC Core §3.1.3.7 step 5: an ID token's azp, when present, MUST be our client_id
        if (e.kind() == TokenKind.ID_TOKEN && azp != null && !azp.equals(config.clientId())) {
            throw reject(Code.AUDIENCE_MISMATCH, "token azp is another client");
        }
        Instant now = options.clock().instant();
        long skew = config.clockSkew().toMillis();
        // OIDC Core §3.1.3.7 step 9: the current time MUST be before exp (small skew allowed)
        Date exp = c.getExpirationTime();
        if (exp == null) throw reject(invalid, "token has no exp");
        if (now.toEpochMilli() > exp.getTime() + skew) throw reject(Code.EXPIRED, "token expired");
        // RFC 7519 §4.1.5: not before
        Date nbf = c.getNotBeforeTime();
        if (nbf != null && nbf.getTime() > now.toEpochMilli() + skew) throw reject(invalid, "token not yet valid (nbf)");
        // OIDC Core §3.1.3.7 step 10 / §2: iat REQUIRED in ID tokens; reject tokens issued in the future
        Date iat = c.getIssueTime();
        if (iat == null && e.kind() == TokenKind.ID_TOKEN) throw reject(invalid, "ID token has no iat");
        if (iat != null && iat.getTime() > now.toEpochMilli() + skew) throw reject(invalid, "token issued in the future (iat)");
        // OIDC Core §3.1.3.7 step 11: nonce MUST equal the value sent in the authentication request
        if (e.nonce() != null) {
            String nonce = stringClaim(c, "nonce", invalid);
            if (nonce == null || !equalsConstantTime(nonce, e.nonce())) throw reject(Code.NONCE_MISMATCH, "ID token nonce does not match the pending login");
        }
        checkVendorClaims(c, e.kind());
    }

    protected static String stringClaim(JWTClaimsSet c, String name, Code invalid) throws BadJWTException {
        try {
            return c.getStringClaim(name);
        } catch (java.text.ParseException ex) {
            throw reject(invalid, "claim '" + name + "' is not a string");
        }
    }

    // ---------------------------------------------------------------- connector test

    @Override
    public ConnectorTestReport test() {
        List<Check> checks = new ArrayList<>();
        OIDCProviderMetadata md;
        String publishedIssuer;
        try {
            ProviderMetadataCache.Fetched fetched = discovery.fetch();
            md = fetched.metadata();
            publishedIssuer = fetched.issuer();
            checks.add(new Check("discovery", Status.OK, discovery.url().toString()));
        } catch (ConnectorException e) {
            checks.add(new Check("discovery", Status.FAIL, e.getMessage()));
            return new ConnectorTestReport(config.id(), checks);
        }
        try {
            checkDiscoveredIssuer(publishedIssuer);
            checks.add(new Check("issuer", Status.OK, publishedIssuer));
        } catch (ConnectorException e) {
            checks.add(new Check("issuer", Status.FAIL, e.getMessage()));
        }
        checks.add(md.getAuthorizationEndpointURI() != null && md.getTokenEndpointURI() != null
                ? new Check("endpoints", Status.OK, "authorization and token endpoints present")
                : new Check("endpoints", Status.FAIL, "authorization_endpoint or token_endpoint missing"));
        checks.add(md.getResponseTypes() != null && md.getResponseTypes().contains(ResponseType.CODE)
                ? new Check("response_type", Status.OK, "code supported")
                : new Check("response_type", Status.FAIL, "response_types_supported lacks 'code'"));
        List<CodeChallengeMethod> pkce = md.getCodeChallengeMethods();
        checks.add(pkce == null ? new Check("pkce", Status.WARN, "code_challenge_methods_supported not advertised; S256 is sent anyway")
                : pkce.contains(CodeChallengeMethod.S256) ? new Check("pkce", Status.OK, "S256 supported")
                : new Check("pkce", Status.FAIL, "PKCE S256 not supported (advertised: " + pkce + ")"));
        // OIDC Discovery §3: token_endpoint_auth_methods_supported defaults to client_secret_basic
        List<ClientAuthenticationMethod> methods = md.getTokenEndpointAuthMethods() != null ? md.getTokenEndpointAuthMethods()
                : List.of(ClientAuthenticationMethod.CLIENT_SECRET_BASIC);
        String method = config.clientAuth().wire();
        checks.add(methods.stream().anyMatch(m -> m.getValue().equals(method))
                ? new Check("client_auth", Status.OK, method + " supported")
                : new Check("client_auth", Status.FAIL, method + " not in token_endpoint_auth_methods_supported " + methods));
        List<JWSAlgorithm> algs = md.getIDTokenJWSAlgs();
        checks.add(algs != null && algs.stream().anyMatch(config.allowedAlgorithms()::contains)
                ? new Check("id_token_alg", Status.OK, "signing algorithms " + algs)
                : new Check("id_token_alg", Status.FAIL, "no allowed ID token signing algorithm advertised (" + algs + ")"));
        if (config.userinfo()) {
            checks.add(md.getUserInfoEndpointURI() != null ? new Check("userinfo", Status.OK, md.getUserInfoEndpointURI().toString())
                    : new Check("userinfo", Status.FAIL, "userinfo is enabled but no userinfo_endpoint is advertised"));
        }
        if (md.getScopes() != null) {
            List<String> unknown = config.scopes().stream().filter(s -> !md.getScopes().contains(s)).toList();
            if (!unknown.isEmpty()) checks.add(new Check("scopes", Status.WARN, "scopes not advertised by the IdP: " + unknown));
        }
        checks.add(jwksCheck(md));
        vendorChecks(md, checks);
        return new ConnectorTestReport(config.id(), checks);
    }

    private Check jwksCheck(OIDCProviderMetadata md) {
        if (md.getJWKSetURI() == null) return new Check("jwks", Status.FAIL, "jwks_uri missing");
        try {
            JWKSet set = JWKSet.parse(discovery.retriever().retrieveResource(md.getJWKSetURI().toURL()).getContent());
            long signing = set.getKeys().stream().filter(k -> !k.isPrivate())
                    .filter(k -> k.getKeyUse() == null || KeyUse.SIGNATURE.equals(k.getKeyUse())).count();
            return signing > 0 ? new Check("jwks", Status.OK, signing + " signing key(s) at " + md.getJWKSetURI())
                    : new Check("jwks", Status.FAIL, "JWKS at " + md.getJWKSetURI() + " has no public signing keys");
        } catch (IOException | IllegalArgumentException e) {
            return new Check("jwks", Status.FAIL, "JWKS unreachable at " + md.getJWKSetURI() + " (" + e.getClass().getSimpleName() + ")");
        } catch (java.text.ParseException e) {
            return new Check("jwks", Status.FAIL, "JWKS at " + md.getJWKSetURI() + " is not a valid JWK set");
        }
    }

    // ---------------------------------------------------------------- helpers

    protected Set<String> mapRoles(Collection<String> groups) {
        Set<String> roles = new TreeSet<>();
        for (String g : groups) {
            List<String> mapped = config.roleMapping().get(g);
            if (mapped != null) roles.addAll(mapped);
        }
        return roles;
    }

    protected static List<String> strings(Object value) {
        if (value instanceof String s) return s.isEmpty() ? List.of() : List.of(s);
        if (value instanceof Collection<?> c) return c.stream().filter(String.class::isInstance).map(String.class::cast).toList();
        return List.of();
    }

    protected static String string(Object value) {
        return value instanceof String s ? s : null;
    }

    private static boolean equalsConstantTime(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** Upstream error codes are echoed only if they look like RFC 6749 error codes. */
    private static String safe(String code) {
        return code != null && code.matches("[A-Za-z0-9_.-]{1,64}") ? code : "unknown";
    }
}
