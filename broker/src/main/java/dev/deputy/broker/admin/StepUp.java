package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Role;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Privileged admin actions need a recent multi-factor sign-in at the admins' IdP (docs/console.md, "Step-up"):
 * a console session whose ID token said {@code auth_time} within {@code max_age} and an accepted {@code acr} or
 * {@code amr}. Automation credentials carry a {@code privileged} capability set at their creation (audited); the
 * break-glass credential has it (and every use of it is audited). MFA never applies to agents: it is a property
 * of the human admin's sign-in only.
 */
@Singleton
public class StepUp {
    private final Duration maxAge;
    private final Set<String> acr;
    private final Set<String> amr;
    private final Set<String> privilegedRoles;

    StepUp(@Value("${deputy.console.step-up.max-age:600s}") Duration maxAge,
           @Value("${deputy.console.step-up.acr:}") String acr,
           @Value("${deputy.console.step-up.amr:" + "mfa,otp,hwk,sc,swk,fpt,face,iris,retina,vbm" + "}") String amr,
           @Value("${deputy.console.privileged-roles:}") String privilegedRoles) {
        this.maxAge = maxAge;
        this.acr = set(acr);
        this.amr = set(amr);
        this.privilegedRoles = set(privilegedRoles);
    }

    private static Set<String> set(String s) {
        return s == null ? Set.of() : Arrays.stream(s.split("[\\s,]+")).filter(x -> !x.isBlank()).collect(Collectors.toUnmodifiableSet());
    }

    public Duration maxAge() {
        return maxAge;
    }

    /** Whether this admin may perform a privileged action now. */
    public boolean satisfied(AdminPrincipal p, long nowSeconds) {
        return switch (p.kind()) {
            case BREAK_GLASS, CREDENTIAL -> p.privileged();
            case CONSOLE -> recentMfa(p.mfa(), nowSeconds);
        };
    }

    boolean recentMfa(AdminPrincipal.SignIn s, long nowSeconds) {
        if (s == null || s.authTime() == null) {
            return false;
        }
        long age = nowSeconds - s.authTime();
        if (age < -60 || age > maxAge.toSeconds()) { // a minute of clock skew the other way
            return false;
        }
        return (s.acr() != null && acr.contains(s.acr())) || s.amr().stream().anyMatch(amr::contains);
    }

    /** Throws the refusal a privileged action gets from this admin, if any. */
    public void require(AdminPrincipal p, String action) {
        if (satisfied(p, System.currentTimeMillis() / 1000)) {
            return;
        }
        if (p.kind() == AdminPrincipal.Kind.CONSOLE) {
            throw AdminRefusal.stepUp(action + " needs a multi-factor sign-in at the admin IdP within the last "
                    + maxAge.toSeconds() + " s (step up at /console/step-up)", challenge());
        }
        throw AdminRefusal.forbidden(action + " is privileged: admin credential " + p.name()
                + " was created without the privileged capability");
    }

    /** RFC 9470 §3 challenge. */
    public String challenge() {
        StringBuilder b = new StringBuilder("Bearer error=\"insufficient_user_authentication\"")
                .append(", error_description=\"A recent multi-factor sign-in is required\"");
        if (!acr.isEmpty()) {
            b.append(", acr_values=\"").append(String.join(" ", acr.stream().sorted().toList())).append('"');
        }
        b.append(", max_age=").append(maxAge.toSeconds());
        return b.toString();
    }

    /**
     * A role named in {@code DEPUTY_CONSOLE_PRIVILEGED_ROLES}: granting it through the API needs step-up. (A role
     * marked {@code privileged: true} in its file is granted only by an approved plan: AgentsController refuses it
     * outright, docs/cli.md.)
     */
    public boolean privileged(Role role) {
        return role != null && privilegedRoles.contains(role.name());
    }

    public boolean anyPrivileged(Collection<Role> roles) {
        return roles.stream().anyMatch(this::privileged);
    }
}
