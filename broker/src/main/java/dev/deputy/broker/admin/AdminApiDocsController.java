package dev.deputy.broker.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;
import io.swagger.v3.oas.annotations.Hidden;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.info.License;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;
import io.swagger.v3.oas.annotations.security.SecuritySchemes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The admin API described: {@code GET /admin/openapi.yaml} and {@code /admin/openapi.json} (OpenAPI 3.1, generated at
 * build time by micronaut-openapi from the admin controllers' annotations) and a browsable Swagger UI at
 * {@code /admin/docs/}. The assets come from the jar (no CDN); the page has its own strict CSP (scripts from this
 * origin only, no inline script). These pages are public: the description holds no data, every call it describes
 * still needs an admin token.
 */
@OpenAPIDefinition(
        info = @Info(title = "Deputy admin API", version = "1",
                description = "Manage tenants' agents, credentials, clients, roles, resources, connectors, consents, users, "
                        + "signing keys and the audit trail. Get a bearer token at POST /admin/token with the admin "
                        + "credential (HTTP Basic), then send it as `Authorization: Bearer dpa_...`. Errors are "
                        + "`{\"error\", \"error_description\"}` with 400, 401, 403, 404 or 409, and 503 when the audit trail "
                        + "cannot be written (nothing changed; retry). Members are snake_case, times "
                        + "ISO-8601 UTC (`Z`), and every documented member is present (`null` when unset).",
                license = @License(name = "Apache-2.0")),
        security = @SecurityRequirement(name = AdminApiDocsController.BEARER))
@SecuritySchemes({
        @SecurityScheme(name = AdminApiDocsController.BEARER, type = SecuritySchemeType.HTTP, scheme = "bearer",
                bearerFormat = "opaque (dpa_...)",
                description = "An admin token from POST /admin/token (15 minutes)."),
        @SecurityScheme(name = AdminApiDocsController.BASIC, type = SecuritySchemeType.HTTP, scheme = "basic",
                description = "The admin credential (client_id and client_secret from <data dir>/admin-credentials.json, "
                        + "or DEPUTY_ADMIN_BOOTSTRAP_SECRET), for POST /admin/token only.")
})
@Hidden
@Controller("/admin")
@Secured(SecurityRule.IS_ANONYMOUS)
class AdminApiDocsController {
    static final String BEARER = "admin_token";
    static final String BASIC = "admin_credential";
    static final String DOCUMENT = "META-INF/swagger/deputy-admin-api.yml";
    private static final String UI = "META-INF/swagger/views/swagger-ui/res/";
    /** The page's own policy: this origin's scripts and styles (Swagger UI sets inline style attributes), nothing framed. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";
    private static final Map<String, MediaType> ASSETS = Map.of(
            "swagger-ui.css", MediaType.of("text/css"),
            "swagger-ui-bundle.js", MediaType.of("text/javascript"),
            "favicon-16x16.png", MediaType.IMAGE_PNG_TYPE,
            "favicon-32x32.png", MediaType.IMAGE_PNG_TYPE);

    private final byte[] yaml;
    private final byte[] json;

    AdminApiDocsController() {
        this.yaml = resource(DOCUMENT);
        try {
            JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(yaml);
            this.json = new ObjectMapper().writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Get(uri = "/openapi.yaml", produces = "application/yaml")
    HttpResponse<byte[]> yaml() {
        return HttpResponse.ok(yaml).contentType(MediaType.of("application/yaml;charset=utf-8"));
    }

    @Get(uri = "/openapi.json", produces = MediaType.APPLICATION_JSON)
    HttpResponse<byte[]> json() {
        return HttpResponse.ok(json).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /** {@code /admin/docs} and {@code /admin/docs/} (the router ignores a trailing slash). */
    @Get(uri = "/docs", produces = MediaType.TEXT_HTML)
    HttpResponse<byte[]> docs() {
        return page(resource("admin-docs/index.html"), MediaType.TEXT_HTML_TYPE);
    }

    @Get(uri = "/docs/init.js", produces = "text/javascript")
    HttpResponse<byte[]> init() {
        return page(resource("admin-docs/init.js"), MediaType.of("text/javascript"));
    }

    @Get(uri = "/docs/res/{name}")
    HttpResponse<?> asset(@PathVariable String name) {
        MediaType type = ASSETS.get(name);
        if (type == null) {
            return HttpResponse.notFound();
        }
        return page(resource(UI + name), type).header("Cache-Control", "public, max-age=86400");
    }

    private static MutableHttpResponse<byte[]> page(byte[] body, MediaType type) {
        return HttpResponse.ok(body).contentType(type).header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff").header("Referrer-Policy", "no-referrer");
    }

    private static byte[] resource(String name) {
        try (InputStream in = AdminApiDocsController.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing from the jar: " + name + " (built by micronaut-openapi)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
