package dev.deputy.broker.admin.signin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Admin console sign-in, decided once at start from the environment (docs/console.md). Off unless
 * {@code DEPUTY_CONSOLE_ISSUER} is set; on, two micronaut-security-oauth2 OpenID clients against the admins' IdP:
 * {@value #CLIENT} (the sign-in) and {@value #STEP_UP_CLIENT} (the same client, asking for a fresh multi-factor
 * sign-in: {@code prompt=login}, {@code max_age}, {@code acr_values}). Both use authorization code + PKCE (S256).
 * <ul>
 *   <li>{@code DEPUTY_CONSOLE_ISSUER}, {@code DEPUTY_CONSOLE_CLIENT_ID}, {@code DEPUTY_CONSOLE_CLIENT_SECRET} or
 *       {@code DEPUTY_CONSOLE_CLIENT_SECRET_FILE}, {@code DEPUTY_CONSOLE_SCOPES} (default {@code openid profile email});</li>
 *   <li>{@code DEPUTY_CONSOLE_GROUPS_CLAIM} (default {@code groups}) and {@code DEPUTY_CONSOLE_ROLE_MAP}
 *       ({@link RoleMap});</li>
 *   <li>{@code DEPUTY_CONSOLE_STEP_UP_MAX_AGE} (seconds, default 600), {@code DEPUTY_CONSOLE_STEP_UP_ACR} (acr values
 *       asked for and accepted), {@code DEPUTY_CONSOLE_STEP_UP_AMR} (amr values accepted as multi-factor),
 *       {@code DEPUTY_CONSOLE_SESSION_TTL} (seconds, default 3600), {@code DEPUTY_CONSOLE_PRIVILEGED_ROLES}.</li>
 * </ul>
 */
public final class ConsoleSettings {
    public static final String CLIENT = "console";
    public static final String STEP_UP_CLIENT = "console-step-up";
    /** RFC 8176 methods that are themselves a second factor, or a multi-factor sign-in. */
    public static final String DEFAULT_MFA_AMR = "mfa,otp,hwk,sc,swk,fpt,face,iris,retina,vbm";

    private ConsoleSettings() {
    }

    /** The Micronaut properties for this environment. */
    public static Map<String, Object> properties(Function<String, String> env) {
        Map<String, Object> props = new HashMap<>();
        String issuer = value(env, "DEPUTY_CONSOLE_ISSUER");
        props.put("deputy.console.enabled", issuer != null);
        props.put("micronaut.security.oauth2.enabled", issuer != null);
        if (issuer == null) {
            return props;
        }
        String clientId = value(env, "DEPUTY_CONSOLE_CLIENT_ID");
        if (clientId == null) {
            throw new IllegalArgumentException("DEPUTY_CONSOLE_ISSUER is set: DEPUTY_CONSOLE_CLIENT_ID is required too");
        }
        String secret = value(env, "DEPUTY_CONSOLE_CLIENT_SECRET");
        String secretFile = value(env, "DEPUTY_CONSOLE_CLIENT_SECRET_FILE");
        if (secret != null && secretFile != null) {
            throw new IllegalArgumentException("set DEPUTY_CONSOLE_CLIENT_SECRET or DEPUTY_CONSOLE_CLIENT_SECRET_FILE, not both");
        }
        if (secretFile != null) {
            try {
                secret = Files.readString(Path.of(secretFile), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read DEPUTY_CONSOLE_CLIENT_SECRET_FILE " + secretFile);
            }
        }
        List<String> scopes = List.of(orDefault(value(env, "DEPUTY_CONSOLE_SCOPES"), "openid profile email").split("[\\s,]+"));
        if (!scopes.contains("openid")) {
            throw new IllegalArgumentException("DEPUTY_CONSOLE_SCOPES must include openid");
        }
        long maxAge = seconds(env, "DEPUTY_CONSOLE_STEP_UP_MAX_AGE", 600);
        String acr = value(env, "DEPUTY_CONSOLE_STEP_UP_ACR");
        String base = value(env, "DEPUTY_PUBLIC_URL");
        String prefix = base == null ? "" : base.replaceAll("/+$", "");
        // the routes micronaut-security-oauth2 registers stay under /console (the security filter runs there only)
        props.put("micronaut.security.oauth2.login-uri", prefix + "/console/oauth/login{/provider}");
        props.put("micronaut.security.oauth2.callback-uri", prefix + "/console/oauth/callback{/provider}");
        props.put("micronaut.security.oauth2.openid.logout-uri", "/console/oauth/end-session");
        // S256 only (RFC 7636 §4.2; the library's default lets a provider that lists only "plain" downgrade it)
        props.put("micronaut.security.oauth2.pkce.enabled", true);
        // the library's userinfo TokenValidator would send every admin bearer token to the IdP's userinfo endpoint
        props.put("micronaut.security.oauth2.userinfo.validator", false);
        for (String client : List.of(CLIENT, STEP_UP_CLIENT)) {
            String p = "micronaut.security.oauth2.clients." + client + ".";
            props.put(p + "client-id", clientId);
            if (secret != null) {
                props.put(p + "client-secret", secret);
            }
            props.put(p + "scopes", scopes);
            props.put(p + "openid.issuer", issuer);
            props.put(p + "openid.end-session.enabled", false);
        }
        String s = "micronaut.security.oauth2.clients." + STEP_UP_CLIENT + ".openid.authorization.";
        props.put(s + "prompt", "login");
        props.put(s + "max-age", maxAge);
        if (acr != null) {
            props.put(s + "acr-values", List.of(acr.split("[\\s,]+")));
        }
        props.put("deputy.console.groups-claim", orDefault(value(env, "DEPUTY_CONSOLE_GROUPS_CLAIM"), "groups"));
        props.put("deputy.console.role-map", orDefault(value(env, "DEPUTY_CONSOLE_ROLE_MAP"), ""));
        RoleMap.parse(orDefault(value(env, "DEPUTY_CONSOLE_ROLE_MAP"), "")); // fail at start, not at the first sign-in
        props.put("deputy.console.session-ttl", seconds(env, "DEPUTY_CONSOLE_SESSION_TTL", 3600) + "s");
        props.put("deputy.console.step-up.max-age", maxAge + "s");
        props.put("deputy.console.step-up.acr", orDefault(acr, ""));
        props.put("deputy.console.step-up.amr", orDefault(value(env, "DEPUTY_CONSOLE_STEP_UP_AMR"), DEFAULT_MFA_AMR));
        props.put("deputy.console.privileged-roles", orDefault(value(env, "DEPUTY_CONSOLE_PRIVILEGED_ROLES"), ""));
        return props;
    }

    private static long seconds(Function<String, String> env, String name, long dflt) {
        String v = value(env, name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a positive number of seconds, not " + v);
        }
    }

    private static String orDefault(String v, String d) {
        return v == null ? d : v;
    }

    private static String value(Function<String, String> env, String name) {
        String v = env.apply(name);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
