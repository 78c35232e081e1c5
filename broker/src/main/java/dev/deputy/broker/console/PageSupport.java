package dev.deputy.broker.console;

import dev.deputy.broker.config.TenantBranding;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.federation.CookieSpec;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenant;
import io.micronaut.context.MessageSource;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.i18n.ResourceBundleMessageSource;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.http.cookie.SameSite;
import io.micronaut.views.thymeleaf.ThymeleafViewsRenderer;
import jakarta.inject.Singleton;
import org.thymeleaf.context.Context;

import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders server pages (login pages, the account page, and the console's pages) through one layout
 * ({@code views/layout.html}): the tenant's branding in the header, the request id in the footer, the message
 * bundle in the chosen language, and the security headers every page gets. No page has inline script or style,
 * so the Content-Security-Policy allows scripts and styles from the broker's own origin only.
 */
@Singleton
public class PageSupport {
    /** CSP for every page: own-origin scripts and styles only, images also from https and data: (tenant logos). */
    public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
            + "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

    private final ThymeleafViewsRenderer<?> renderer;
    private final TenantBranding branding;

    public PageSupport(ThymeleafViewsRenderer<?> renderer, TenantBranding branding) {
        this.renderer = renderer;
        this.branding = branding;
    }

    /** The message bundle {@code i18n/messages*.properties}, for the templates' {@code #{...}}. */
    @Factory
    static class Messages {
        @Singleton
        MessageSource messageSource() {
            return new ResourceBundleMessageSource("i18n.messages");
        }
    }

    /** A page of {@code tenant}: {@code view} under {@code views/}, its model, the language from ui_locales or the request. */
    public MutableHttpResponse<String> page(HttpRequest<?> request, Tenant tenant, int status, String view,
                                            Map<String, Object> model, String uiLocales) {
        Locale locale = Locales.choose(uiLocales, request.getHeaders().get(HttpHeaders.ACCEPT_LANGUAGE));
        Map<String, Object> vars = new LinkedHashMap<>(model);
        TenantFile.BrandingFile b = branding.of(tenant.id());
        vars.put("tenantId", tenant.id());
        vars.put("tenantName", tenant.displayName());
        vars.put("logoUrl", b.logoUrl());
        boolean colours = b.primaryColor() != null || b.backgroundColor() != null || b.textColor() != null;
        vars.put("brandingCss", colours ? "/t/" + tenant.id() + "/branding.css" : null);
        vars.put("requestId", RequestMetaFilter.of(request).requestId());
        vars.put("lang", locale.toLanguageTag());
        StringWriter out = new StringWriter();
        renderer.render(view, new Context(locale, vars), out);
        return secure(HttpResponse.<String>status(HttpStatus.valueOf(status)).body(out.toString())
                .contentType(MediaType.TEXT_HTML_TYPE.getName() + ";charset=utf-8"));
    }

    /** The security headers of every page (and of redirects from the login pages). */
    public static <T> MutableHttpResponse<T> secure(MutableHttpResponse<T> r) {
        return r.header("Content-Security-Policy", CSP)
                .header("X-Frame-Options", "DENY")
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer")
                .header("Cross-Origin-Opener-Policy", "same-origin")
                .header("Cache-Control", "no-store");
    }

    public static MutableHttpResponse<?> redirect(URI location) {
        return HttpResponse.status(HttpStatus.FOUND).header(HttpHeaders.LOCATION, location.toString())
                .header("Cache-Control", "no-store").header("Referrer-Policy", "no-referrer");
    }

    /** Sets the cookies: always HttpOnly and SameSite=Lax; Secure when the public URL is https. */
    public static <T> MutableHttpResponse<T> cookies(MutableHttpResponse<T> r, List<CookieSpec> cookies) {
        for (CookieSpec c : cookies) {
            Cookie cookie = Cookie.of(c.name(), c.value()).path(c.path()).maxAge(Duration.ofSeconds(c.maxAgeSeconds()))
                    .httpOnly(true).sameSite(SameSite.Lax).secure(c.secure());
            r.cookie(cookie);
        }
        return r;
    }

    /** The tenant's colours as a style sheet (colours are validated as #rrggbb when the config loads). */
    public String brandingCss(Tenant tenant) {
        TenantFile.BrandingFile b = branding.of(tenant.id());
        StringBuilder css = new StringBuilder(":root{");
        if (b.primaryColor() != null) {
            css.append("--brand:").append(b.primaryColor()).append(';');
        }
        if (b.backgroundColor() != null) {
            css.append("--page-bg:").append(b.backgroundColor()).append(';');
        }
        if (b.textColor() != null) {
            css.append("--page-fg:").append(b.textColor()).append(';');
        }
        return css.append("}\n").toString();
    }
}
