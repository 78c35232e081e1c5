package dev.deputy.policy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** What a tool rule (or the tenant's default) says about a call. Deny wins over require_approval over permit. */
public enum Effect {
    PERMIT, DENY, REQUIRE_APPROVAL;

    @JsonValue
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Effect of(String s) {
        if (s != null) {
            for (Effect e : values()) {
                if (e.value().equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("effect must be permit, deny or require_approval (got '" + s + "')");
    }
}
