package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.AuthorizationRequest;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.ResourceIndicators;
import dev.deputy.broker.authorize.AuthorizeErrors.PageError;
import dev.deputy.broker.authorize.AuthorizeErrors.RedirectError;
import dev.deputy.broker.federation.AuthRequest;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;

import static dev.deputy.broker.authorize.Params.single;

/**
 * Validates an authorization request (OAuth 2.1 §4.1.1) in the order the spec needs: first the client and its
 * redirect URI (a failure there is a {@link PageError}: never redirect to an unchecked URI), then everything
 * else (a {@link RedirectError}, which goes back to the client).
 */
@Singleton
public class AuthorizeRequestValidator {
    private final RegisteredClients clients;
    private final AgentStore agents;

    public AuthorizeRequestValidator(RegisteredClients clients, AgentStore agents) {
        this.clients = clients;
        this.agents = agents;
    }

    /** The client and the redirect URI the answer may go to. */
    record Target(OAuthClient client, String redirectUri, boolean redirectUriGiven) {
    }

    /** OAuth 2.1 §4.1.2.1: the client and redirect URI are checked first; if either is bad, do not redirect. */
    Target target(Tenant tenant, Map<String, List<String>> params) {
        String clientId = single(params, "client_id");
        String redirectParam = single(params, "redirect_uri");
        if (clientId == null) {
            throw new PageError("missing_client_id", "error.missing_client_id");
        }
        OAuthClient client = clients.find(tenant.id(), clientId).orElseThrow(
                () -> new PageError("unknown_client", "error.unknown_client"));
        if (redirectParam == null) {
            // OAuth 2.1 §2.3.2: redirect_uri may be omitted only when exactly one (fixed) URI is registered
            if (client.redirectUris().size() != 1) {
                throw new PageError("missing_redirect_uri", "error.missing_redirect_uri");
            }
            return new Target(client, client.redirectUris().get(0), false);
        }
        if (!client.redirectAllowed(redirectParam)) {
            // RFC 9700 §4.1.3 / OAuth 2.1 §4.1.1: exact match against the registered redirect URIs
            throw new PageError("redirect_uri_mismatch", "error.redirect_uri_mismatch");
        }
        return new Target(client, redirectParam, true);
    }

    /** The client, for a callback that resumes a validated request (it may have been deleted meanwhile). */
    java.util.Optional<OAuthClient> client(Tenant tenant, String clientId) {
        return clients.find(tenant.id(), clientId);
    }

    /** Everything after the target: parameters, response type, PKCE, resource, actor. */
    AuthRequest validate(Tenant tenant, Target target, Map<String, List<String>> params) {
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            // OAuth 2.1 §3.1: request and response parameters MUST NOT be included more than once
            if (p.getValue().size() > 1 && !"resource".equals(p.getKey())) {
                throw new RedirectError(OAuth2Error.INVALID_REQUEST, "parameter " + p.getKey() + " repeated", "repeated_parameter");
            }
        }
        if (params.containsKey("request")) {
            throw new RedirectError(OAuth2Error.REQUEST_NOT_SUPPORTED, "request objects are not supported", "request_object");
        }
        if (params.containsKey("request_uri")) {
            throw new RedirectError(OAuth2Error.REQUEST_URI_NOT_SUPPORTED, "request_uri is not supported", "request_uri");
        }
        AuthorizationRequest ar;
        try {
            ar = AuthorizationRequest.parse(params);
        } catch (ParseException e) {
            ErrorObject eo = e.getErrorObject() != null ? e.getErrorObject() : OAuth2Error.INVALID_REQUEST;
            throw new RedirectError(eo, e.getMessage(), "unparseable");
        }
        // OAuth 2.1 §4.1.1: response_type "code" only
        if (!new ResponseType(ResponseType.Value.CODE).equals(ar.getResponseType())) {
            throw new RedirectError(OAuth2Error.UNSUPPORTED_RESPONSE_TYPE, "only response_type=code is supported",
                    "unsupported_response_type");
        }
        if (ar.getResponseMode() != null && !"query".equals(ar.getResponseMode().getValue())) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "only response_mode=query is supported", "response_mode");
        }
        // OAuth 2.1 §4.1.1 / RFC 7636 §4.4.1: code_challenge REQUIRED; S256 only, plain refused
        if (ar.getCodeChallenge() == null) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "code_challenge required (PKCE S256)", "pkce_missing");
        }
        if (!CodeChallengeMethod.S256.equals(ar.getCodeChallengeMethod())) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "code_challenge_method must be S256", "pkce_method");
        }
        String challenge = ar.getCodeChallenge().getValue();
        // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) = 43 characters
        if (!challenge.matches("[A-Za-z0-9_-]{43}")) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "malformed code_challenge", "pkce_malformed");
        }
        Resource resource = resource(tenant, params.getOrDefault("resource", List.of()));
        List<String> requested = ar.getScope() == null ? List.of() : ar.getScope().toStringList();
        // on-behalf-of: the client names the agent that will act for the user; it must be an active agent
        String actor = single(params, "requested_actor");
        if (actor != null && agents.findAgent(tenant.id(), actor).filter(Agent::active).isEmpty()) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "requested_actor is not an active agent", "unknown_actor");
        }
        String uiLocales = single(params, "ui_locales");
        // RFC 6749 §4.1.2: state goes back exactly as received (Nimbus's State trims, so the raw value is kept)
        return new AuthRequest(target.client().clientId(), target.redirectUri(), target.redirectUriGiven(),
                single(params, "state"), challenge, requested, Resource.canonical(resource.uri()), resource.id(),
                single(params, "login_hint"), single(params, "prompt"), actor,
                uiLocales == null || uiLocales.length() > 100 ? null : uiLocales);
    }

    /** RFC 8707 §2: one absolute resource, registered with the tenant; none → the tenant's default resource. */
    private Resource resource(Tenant tenant, List<String> values) {
        try {
            return ResourceIndicators.resolve(agents.listResources(tenant.id()), values, null);
        } catch (ResourceIndicators.Refused e) {
            throw new RedirectError(OAuth2Error.INVALID_TARGET, e.getMessage(), e.reason());
        }
    }
}
