package dev.deputy.broker.admin.signin;

import dev.deputy.broker.admin.AdminGrant;
import dev.deputy.broker.admin.AdminPrincipal;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.security.authentication.AuthenticationResponse;
import io.micronaut.security.oauth2.endpoint.authorization.state.State;
import io.micronaut.security.oauth2.endpoint.token.response.DefaultOpenIdAuthenticationMapper;
import io.micronaut.security.oauth2.endpoint.token.response.OpenIdAuthenticationMapper;
import io.micronaut.security.oauth2.endpoint.token.response.OpenIdClaims;
import io.micronaut.security.oauth2.endpoint.token.response.OpenIdTokenResponse;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated ID token from the admins' IdP (signature, iss, aud, exp, nonce: checked by micronaut-security-oauth2)
 * → the admin's grants from the groups claim through {@link RoleMap}, and what the IdP says of the sign-in
 * ({@code acr}, {@code amr}, {@code auth_time}) for step-up. Someone in no mapped group is refused.
 */
@Singleton
@Replaces(DefaultOpenIdAuthenticationMapper.class)
@Requires(property = "deputy.console.enabled", value = "true")
class ConsoleAuthenticationMapper implements OpenIdAuthenticationMapper {
    static final String SIGNED_IN = "deputy.console.signed-in";
    private final RoleMap roles;
    private final String groupsClaim;

    ConsoleAuthenticationMapper(@Value("${deputy.console.role-map:}") String roleMap,
                                @Value("${deputy.console.groups-claim:groups}") String groupsClaim) {
        this.roles = RoleMap.parse(roleMap);
        this.groupsClaim = groupsClaim;
    }

    @Override
    public Publisher<AuthenticationResponse> createAuthenticationResponse(String providerName, OpenIdTokenResponse tokenResponse,
                                                                          OpenIdClaims claims, @Nullable State state) {
        Map<String, Object> all = claims.getClaims();
        String sub = claims.getSubject();
        List<String> groups = strings(all.get(groupsClaim));
        List<AdminGrant> grants = roles.grants(groups);
        String email = claims.getEmail();
        String name = email != null && !Boolean.FALSE.equals(all.get(OpenIdClaims.CLAIMS_EMAIL_VERIFIED)) ? email : sub;
        if (grants.isEmpty()) {
            return Mono.just(AuthenticationResponse.failure("no admin role: none of the groups in the '" + groupsClaim
                    + "' claim is mapped (DEPUTY_CONSOLE_ROLE_MAP)"));
        }
        Set<String> ownerIds = new LinkedHashSet<>();
        ownerIds.add(sub);
        if (!name.equals(sub)) {
            ownerIds.add(name);
        }
        var signIn = new AdminPrincipal.SignIn(string(all.get("iss")), sub, claims.getAuthenticationContextClassReference(),
                strings(all.get(OpenIdClaims.CLAIMS_AMR)), epochSeconds(all.get(OpenIdClaims.CLAIMS_AUTH_TIME)));
        Map<String, Object> attributes = new HashMap<>();
        attributes.put(SIGNED_IN, new ConsoleSessions.SignedIn(name, signIn, grants, ownerIds, tokenResponse.getIdToken()));
        attributes.put("groups", groups);
        return Mono.just(AuthenticationResponse.success(name, List.of(), attributes));
    }

    static List<String> strings(Object v) {
        if (v instanceof Collection<?> c) {
            List<String> out = new ArrayList<>(c.size());
            for (Object o : c) {
                if (o != null) {
                    out.add(o.toString());
                }
            }
            return out;
        }
        return v == null ? List.of() : List.of(v.toString());
    }

    private static String string(Object v) {
        return v == null ? null : v.toString();
    }

    private static Long epochSeconds(Object v) {
        if (v instanceof Date d) {
            return d.getTime() / 1000;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        return null;
    }
}
