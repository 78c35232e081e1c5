package dev.deputy.broker.admin;

import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.keys.StoredKey;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /admin/t/{tenant}/keys}: the tenant's token signing keys (public parts and lifecycle only; never the sealed
 * private key) and an immediate rotation ({@code POST …/keys/rotate}: pre-publish and promote at once, audited as
 * {@code key.rotated}). Scheduled rotation is unchanged.
 */
@Tag(name = "Signing keys", description = "The tenant's token signing keys: public parts and lifecycle")
@Controller("/admin/t/{tenant}/keys")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class SigningKeysController {
    private final SigningKeyStore store;
    private final SigningKeys keys;
    private final AdminContext ctx;

    SigningKeysController(SigningKeyStore store, SigningKeys keys, AdminContext ctx) {
        this.store = store;
        this.keys = keys;
        this.ctx = ctx;
    }

    @Operation(operationId = "listSigningKeys", summary = "List signing keys")
    @ApiResponse(responseCode = "200", description = "The keys", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/SigningKeyList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        String t = ctx.tenant(tenant);
        keys.keys(t); // the tenant's first key is made on first use
        List<Map<String, Object>> out = store.list(t).stream().map(SigningKeysController::view).toList();
        return AdminViews.ok(Map.of("keys", out));
    }

    @Operation(operationId = "rotateSigningKey", summary = "Rotate now (pre-publish and promote at once)")
    @ApiResponse(responseCode = "200", description = "The keys after rotation", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/KeyRotation")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/rotate", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> rotate(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        String t = ctx.tenant(tenant);
        keys.keys(t);
        keys.rotateNow(t);
        String active = keys.keys(t).activeKid();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("active_kid", active);
        body.put("keys", store.list(t).stream().map(SigningKeysController::view).toList());
        return AdminViews.ok(body);
    }

    static Map<String, Object> view(StoredKey k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kid", k.kid());
        m.put("alg", k.alg());
        m.put("state", k.state().name().toLowerCase(Locale.ROOT));
        m.put("created_at", AdminViews.time(k.createdAt()));
        m.put("activated_at", AdminViews.time(k.activatedAt()));
        m.put("retired_at", AdminViews.time(k.retiredAt()));
        m.put("publish_until", AdminViews.time(k.publishUntil()));
        return m;
    }
}
