package dev.deputy.broker.token;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What an access token says (RFC 9068), before it is signed.
 *
 * @param subject        {@code sub}: the agent id (agent acting alone) or the upstream user's sub, byte for byte
 * @param subjectIssuer  for a user: the upstream {@code iss}, giving {@code sub_id = {format: iss_sub, iss, sub}}
 *                       (RFC 9493); null for an agent acting alone
 * @param actorChain     the acting agents, outermost first: {@code [B, A]} gives {@code act: {sub: B, act: {sub: A}}}
 * @param audience       the one resource the token is for (RFC 8707)
 * @param certThumbprint {@code cnf.x5t#S256} (RFC 8705) when the client used mTLS
 * @param jkt            {@code cnf.jkt} (RFC 9449) with DPoP
 * @param ttl            lifetime; the minter never exceeds the tenant's access token lifetime
 * @param extraClaims    further claims (mapped user claims, {@code may_act}); may not override the ones above
 */
public record AccessTokenSpec(String tenantId, String subject, String subjectIssuer, List<String> actorChain,
                              String clientId, String audience, List<String> scopes, String certThumbprint, String jkt,
                              Duration ttl, Map<String, Object> extraClaims) {
    public AccessTokenSpec {
        actorChain = actorChain == null ? List.of() : List.copyOf(actorChain);
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        extraClaims = extraClaims == null ? Map.of() : Map.copyOf(extraClaims);
    }

    /** A spec built step by step: {@code AccessTokenSpec.of(tenant, client).user(sub, iss).actors(chain)…build()}. */
    public static Builder of(String tenantId, String clientId) {
        return new Builder(tenantId, clientId);
    }

    public static final class Builder {
        private final String tenantId;
        private final String clientId;
        private String subject;
        private String subjectIssuer;
        private List<String> actorChain = List.of();
        private String audience;
        private List<String> scopes = List.of();
        private String certThumbprint;
        private String jkt;
        private Duration ttl;
        private Map<String, Object> extraClaims = Map.of();

        private Builder(String tenantId, String clientId) {
            this.tenantId = tenantId;
            this.clientId = clientId;
        }

        /** An agent acting alone: {@code sub} = the agent id, no {@code sub_id}. */
        public Builder agent(String agentId) {
            this.subject = agentId;
            this.subjectIssuer = null;
            return this;
        }

        /** A user, exactly as upstream names them (RFC 9493 iss_sub). */
        public Builder user(String sub, String iss) {
            this.subject = sub;
            this.subjectIssuer = iss;
            return this;
        }

        public Builder actors(List<String> chain) {
            this.actorChain = chain;
            return this;
        }

        public Builder audience(String resource) {
            this.audience = resource;
            return this;
        }

        public Builder scopes(java.util.Collection<String> scopes) {
            this.scopes = List.copyOf(scopes);
            return this;
        }

        /** RFC 8705 §3.1 {@code cnf.x5t#S256}. */
        public Builder boundTo(String thumbprint) {
            this.certThumbprint = thumbprint;
            return this;
        }

        public Builder ttl(Duration ttl) {
            this.ttl = ttl;
            return this;
        }

        public Builder claims(Map<String, Object> extra) {
            this.extraClaims = extra;
            return this;
        }

        public AccessTokenSpec build() {
            return new AccessTokenSpec(tenantId, subject, subjectIssuer, actorChain, clientId, audience, scopes,
                    certThumbprint, jkt, ttl, extraClaims);
        }
    }
}
