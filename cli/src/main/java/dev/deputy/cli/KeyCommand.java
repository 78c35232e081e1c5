package dev.deputy.cli;

import picocli.CommandLine.Command;

import java.util.Map;

/** {@code deputy key …}: the tenant's token signing keys ({@code /admin/t/<t>/keys}). */
@Command(name = "key", description = "Token signing keys: list, rotate.")
final class KeyCommand extends Group {

    @Command(name = "list", description = "List signing keys (next, active, retired) with their lifecycle times.")
    int list() {
        Map<String, Object> r = api().get(api().tenantPath("/keys"));
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("keys")), "no keys", "kid", "alg", "state", "created_at",
                "activated_at", "retired_at", "publish_until"));
        return 0;
    }

    @Command(name = "rotate", description = {"Rotate now: a new key signs from this moment; the old one stays published until "
            + "its tokens expire (asks first; --yes for CI).",
            "Resource servers holding a cached JWKS fetch it again on the unknown kid."})
    int rotate() {
        io().confirm(root.yes, "rotate the signing key of tenant " + api().tenant() + " now");
        Map<String, Object> r = api().call("POST", api().tenantPath("/keys/rotate"), Map.of());
        out().emit(r, p -> {
            p.println("rotated: active key " + r.get("active_kid"));
            Output.columns(p, Lists.maps(r.get("keys")), "no keys", "kid", "alg", "state", "activated_at", "retired_at");
        });
        return 0;
    }
}
