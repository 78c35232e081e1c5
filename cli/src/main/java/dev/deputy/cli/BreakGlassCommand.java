package dev.deputy.cli;

import picocli.CommandLine.Command;

import java.util.Map;

/**
 * {@code deputy break-glass …}: the bootstrap admin credential kept for emergencies ({@code /admin/break-glass}; a super
 * admin only; rotate, disable and enable are privileged). Every use of it is audited as {@code admin.break_glass_used}.
 */
@Command(name = "break-glass", description = "The break-glass admin credential: status, rotate, disable, enable.")
final class BreakGlassCommand extends Group {

    @Command(name = "status", description = "Whether it is enabled, where its secret comes from, when it was last used and rotated.")
    int status() {
        Map<String, Object> r = api().get("/admin/break-glass");
        out().object(r, null);
        return 0;
    }

    @Command(name = "rotate", description = {"A new secret, printed once (asks first; --yes for CI); the old one stops working at once.",
            "Refused when the secret is injected at deployment (DEPUTY_ADMIN_BOOTSTRAP_SECRET[_FILE]): rotate it there."})
    int rotate() {
        io().confirm(root.yes, "rotate the break-glass admin secret");
        Map<String, Object> r = api().call("POST", "/admin/break-glass/rotate", Map.of());
        out().object(r, "rotated: store the new client_secret now (it is not shown again)");
        return 0;
    }

    @Command(name = "disable", description = "Refuse the break-glass credential (and its tokens) until enabled again (asks first).")
    int disable() {
        io().confirm(root.yes, "disable the break-glass admin credential");
        out().object(api().call("POST", "/admin/break-glass/disable", Map.of()), "disabled");
        return 0;
    }

    @Command(name = "enable", description = "Accept the break-glass credential again.")
    int enable() {
        out().object(api().call("POST", "/admin/break-glass/enable", Map.of()), "enabled");
        return 0;
    }
}
