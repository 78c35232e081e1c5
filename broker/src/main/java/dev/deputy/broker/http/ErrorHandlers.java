package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.oauth.OAuthException;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.convert.exceptions.ConversionErrorException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.exceptions.ContentLengthExceededException;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Maps every failure to the protocol's own error. Nothing reaches the client as a stack trace; an
 * unexpected exception is logged here and answered with {@code server_error}.
 */
final class ErrorHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorHandlers.class);

    private ErrorHandlers() {
    }

    @Singleton
    static final class OAuth implements ExceptionHandler<OAuthException, HttpResponse<?>> {
        @Override
        public HttpResponse<?> handle(HttpRequest request, OAuthException e) {
            return OAuthErrors.render(e.error());
        }
    }

    /**
     * The audit entry of a state change could not be written (the sequence stayed taken through every retry): the
     * change was rolled back with it, so the caller may retry; nothing was acknowledged.
     */
    @Singleton
    static final class AuditUnavailable implements ExceptionHandler<dev.deputy.broker.audit.AuditStore.SeqConflict, HttpResponse<?>> {
        private final dev.deputy.broker.oauth.TokenMetrics metrics;

        AuditUnavailable(dev.deputy.broker.oauth.TokenMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        public HttpResponse<?> handle(HttpRequest request, dev.deputy.broker.audit.AuditStore.SeqConflict e) {
            metrics.unavailable("audit");
            LOG.warn("{} {}: the audit entry could not be written; the change was rolled back", request.getMethod(),
                    request.getPath());
            return OAuthErrors.render(new ErrorObject("temporarily_unavailable",
                    "the audit trail is unavailable; nothing was changed; retry later", 503)).header("Retry-After", "1");
        }
    }

    /**
     * The tenant's audit chain is refused: the database is behind or beside its witnessed head (docs/audit.md,
     * Witnessed heads). Nothing is appended to it, so nothing that needs an entry happens.
     */
    @Singleton
    static final class AuditChainRefused implements ExceptionHandler<dev.deputy.broker.audit.AuditWitness.ChainRefused, HttpResponse<?>> {
        private final dev.deputy.broker.oauth.TokenMetrics metrics;

        AuditChainRefused(dev.deputy.broker.oauth.TokenMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        public HttpResponse<?> handle(HttpRequest request, dev.deputy.broker.audit.AuditWitness.ChainRefused e) {
            metrics.unavailable("audit_chain");
            LOG.error("{} {}: {}", request.getMethod(), request.getPath(), e.getMessage());
            return OAuthErrors.render(new ErrorObject("temporarily_unavailable",
                    "the audit trail of this tenant is unavailable; nothing was changed", 503));
        }
    }

    /**
     * Over a rate limit (docs/security.md, Rate limits): RFC 6585 §4 {@code 429} with RFC 9110 §10.2.3
     * {@code Retry-After}, and the RFC 6749 §5.2 body with the registered code {@code temporarily_unavailable}.
     * The sampled audit entry was written by the limiter.
     */
    @Singleton
    static final class RateLimited implements ExceptionHandler<dev.deputy.broker.ratelimit.RateLimitedException, HttpResponse<?>> {
        @Override
        public HttpResponse<?> handle(HttpRequest request, dev.deputy.broker.ratelimit.RateLimitedException e) {
            return OAuthErrors.render(new ErrorObject("temporarily_unavailable",
                    "too many requests; retry after " + e.retryAfterSeconds() + " s", 429))
                    .header("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
    }

    @Singleton
    static final class Unavailable implements ExceptionHandler<ServiceUnavailableException, HttpResponse<?>> {
        private final dev.deputy.broker.oauth.TokenMetrics metrics;

        Unavailable(dev.deputy.broker.oauth.TokenMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        public HttpResponse<?> handle(HttpRequest request, ServiceUnavailableException e) {
            metrics.unavailable(e.dependency());
            LOG.warn("{} {}: {} unavailable", request.getMethod(), request.getPath(), e.dependency());
            return OAuthErrors.render(new ErrorObject("temporarily_unavailable",
                    "the " + e.dependency() + " is unavailable; retry later", 503)).header("Retry-After", "1");
        }
    }

    @Singleton
    @Replaces(io.micronaut.http.server.exceptions.ConversionErrorHandler.class)
    static final class Conversion implements ExceptionHandler<ConversionErrorException, HttpResponse<?>> {
        @Override
        public HttpResponse<?> handle(HttpRequest request, ConversionErrorException e) {
            return OAuthErrors.render(OAuth2Error.INVALID_REQUEST, "malformed parameter " + e.getArgument().getName());
        }
    }

    @Singleton
    @Replaces(io.micronaut.http.server.exceptions.ContentLengthExceededHandler.class)
    static final class TooLarge implements ExceptionHandler<ContentLengthExceededException, HttpResponse<?>> {
        @Override
        public HttpResponse<?> handle(HttpRequest request, ContentLengthExceededException e) {
            return OAuthErrors.render(new ErrorObject("invalid_request", "request too large", 413));
        }
    }

    /** Replaces Micronaut's default body for errors it raises itself (404, 405, 415, bad JSON...). */
    @Singleton
    @Replaces(io.micronaut.http.server.exceptions.response.HateoasErrorResponseProcessor.class)
    @Requires(classes = ErrorResponseProcessor.class)
    static final class Processor implements ErrorResponseProcessor<Map<String, Object>> {
        @Override
        public MutableHttpResponse<Map<String, Object>> processResponse(ErrorContext ctx, MutableHttpResponse<?> response) {
            int status = response.code();
            String code = switch (status) {
                case 404 -> "not_found";
                case 405 -> "invalid_request";
                case 415 -> "invalid_request";
                case 413 -> "invalid_request";
                case 503 -> "temporarily_unavailable";
                default -> status >= 500 ? "server_error" : "invalid_request";
            };
            if (status >= 500 && ctx.getRootCause().isPresent()) {
                LOG.error("unexpected failure on {} {}", ctx.getRequest().getMethod(), ctx.getRequest().getPath(),
                        ctx.getRootCause().get());
            }
            String description = status >= 500 ? "unexpected error" : ctx.getErrors().isEmpty() ? null
                    : ctx.getErrors().get(0).getMessage();
            if (description != null && description.length() > 200) {
                description = description.substring(0, 200);
            }
            // RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (Nimbus enforces it);
            // parser messages quote the input, so replace anything else
            if (description != null) {
                description = description.replaceAll("[^\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]", "'");
            }
            MutableHttpResponse<Map<String, Object>> rendered = OAuthErrors.render(new ErrorObject(code, description, status));
            response.getHeaders().forEach((name, values) -> {
                if (!name.equalsIgnoreCase("Content-Type") && !name.equalsIgnoreCase("Content-Length")) {
                    values.forEach(v -> rendered.header(name, v));
                }
            });
            return rendered.status(HttpStatus.valueOf(status));
        }
    }
}
