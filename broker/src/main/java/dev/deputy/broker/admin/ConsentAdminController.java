package dev.deputy.broker.admin;

import dev.deputy.broker.authorize.ConsentRevocation;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/t/{tenant}/consents}: list (optionally {@code ?user=<user id>}; members {@code tenant_id, user_id,
 * client_id, resource_id, scopes, granted_at} with ISO-8601 times) and revoke
 * ({@code DELETE /admin/t/{tenant}/consents/{user}/{client}/{resource}}, audited {@code consent.revoked};
 * the user's refresh-token families at that client and resource die with it, so its next refresh fails; the next
 * authorization asks again).
 */
@Controller("/admin/t/{tenant}/consents")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsentAdminController {
    private final Tenants tenants;
    private final ConsentStore consents;
    private final ConsentRevocation revocation;

    ConsentAdminController(Tenants tenants, ConsentStore consents, ConsentRevocation revocation) {
        this.tenants = tenants;
        this.consents = consents;
        this.revocation = revocation;
    }

    @Get
    Map<String, List<Map<String, Object>>> list(@PathVariable String tenant, @Nullable @QueryValue String user) {
        check(tenant);
        return Map.of("consents", consents.list(tenant, user).stream().map(ConsentAdminController::json).toList());
    }

    /** The admin API's JSON style: snake_case members, ISO-8601 UTC times, every member present. */
    static Map<String, Object> json(Consent c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenant_id", c.tenantId());
        m.put("user_id", c.userId());
        m.put("client_id", c.clientId());
        m.put("resource_id", c.resourceId());
        m.put("scopes", c.scopes());
        m.put("granted_at", Instant.ofEpochMilli(c.grantedAt()).toString());
        return m;
    }

    @Delete("/{user}/{client}/{resource}")
    HttpResponse<?> revoke(@PathVariable String tenant, @PathVariable String user, @PathVariable String client,
                           @PathVariable String resource, HttpRequest<?> request) {
        check(tenant);
        return revocation.revokeConsent(tenant, user, client, resource, ConsentRevocation.By.admin(null),
                RequestMetaFilter.of(request))
                ? HttpResponse.noContent()
                : HttpResponse.status(HttpStatus.NOT_FOUND).body(Map.of("error", "not_found"));
    }

    private void check(String tenant) {
        if (tenants.find(tenant).isEmpty()) {
            throw new UnknownTenantException(tenant);
        }
    }
}
